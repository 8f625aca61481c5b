// SPDX-License-Identifier: AGPL-3.0-or-later

package ogg

import (
	"errors"
	"io"
)

// ErrPacketTooLarge is returned by Writer.WritePacket for a packet that does
// not fit one page; this writer never splits a packet across pages.
var ErrPacketTooLarge = errors.New("ogg: packet too large for one page")

// maxPacket is the largest packet that fits one page: 254 full segments and
// a final short one.
const maxPacket = (MaxSegments-1)*maxLacing + maxLacing - 1

// Writer writes one logical stream of whole packets as Ogg pages. Packets
// accumulate on a pending page until Flush, until the next one does not fit,
// or until Close, which marks the last page end-of-stream. The first page
// written is marked beginning-of-stream.
type Writer struct {
	w       io.Writer
	pending Page
	packets int
	out     []byte
	err     error
}

// NewWriter returns a Writer for the logical stream serial.
func NewWriter(w io.Writer, serial uint32) *Writer {
	return &Writer{w: w, pending: Page{Flags: FlagBOS, Serial: serial, Granule: NoGranule}}
}

// Pending reports how many packets wait on the unwritten page.
func (w *Writer) Pending() int { return w.packets }

// WritePacket adds packet, which ends at granule position granule.
func (w *Writer) WritePacket(packet []byte, granule int64) error {
	if w.err != nil {
		return w.err
	}
	if len(packet) > maxPacket {
		return ErrPacketTooLarge
	}
	nseg := len(packet)/maxLacing + 1
	if len(w.pending.Lacing)+nseg > MaxSegments {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	for range nseg - 1 {
		w.pending.Lacing = append(w.pending.Lacing, maxLacing)
	}
	w.pending.Lacing = append(w.pending.Lacing, byte(len(packet)%maxLacing))
	w.pending.Data = append(w.pending.Data, packet...)
	w.pending.Granule = granule
	w.packets++
	return nil
}

// Flush writes the pending packets as one page. It does nothing if no
// packet is pending.
func (w *Writer) Flush() error {
	if w.err != nil || w.packets == 0 {
		return w.err
	}
	return w.writePage()
}

// Close writes the pending packets as the last page, marked end-of-stream.
// At least one packet must be pending, so that the last page carries the
// stream's final granule position.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.packets == 0 {
		return errors.New("ogg: internal error: Close without a pending packet")
	}
	w.pending.Flags |= FlagEOS
	return w.writePage()
}

func (w *Writer) writePage() error {
	w.out = AppendPage(w.out[:0], &w.pending)
	if _, err := w.w.Write(w.out); err != nil {
		w.err = err
		return err
	}
	w.pending.Flags &^= FlagBOS
	w.pending.Sequence++
	w.pending.Lacing = w.pending.Lacing[:0]
	w.pending.Data = w.pending.Data[:0]
	w.pending.Granule = NoGranule
	w.packets = 0
	return nil
}
