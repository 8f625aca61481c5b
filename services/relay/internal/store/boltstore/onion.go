// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hushchat/hush/pkg/onion"
)

// ErrCorruptRing is returned by the onion store's Load when the saved key
// ring does not decode.
var ErrCorruptRing = errors.New("boltstore: stored onion key ring is corrupt")

// The key ring's encoding, in bucket "onion" under "ring":
//
//	ring = version (1 B, 1) ‖ clean (1 B, 0 or 1) ‖ next epoch (4 B) ‖ key count (2 B) ‖ key…
//	key  = epoch (4 B) ‖ X25519 private key (32 B) ‖ start (12 B) ‖ end (12 B)
//	       ‖ tag count (4 B) ‖ replay tags (16 B each)
//	time = Unix seconds (8 B, signed) ‖ nanoseconds (4 B)
const (
	ringVersion    = 1
	ringHeadSize   = 1 + 1 + 4 + 2
	timeSize       = 8 + 4
	ringKeyHead    = 4 + onion.KeySize + timeSize + timeSize + 4 // 68
	replayTagBytes = len(onion.ReplayTag{})
	maxRingKeys    = 16 // a ring holds previous, current and next
)

// OnionStore returns the onion.Store that keeps the relay's key ring in
// this file. Save is durable before it returns, through the same group
// commit as every other write.
func (s *Store) OnionStore() onion.Store { return ringStore{s} }

type ringStore struct{ s *Store }

var _ onion.Store = ringStore{}

// Load returns the saved ring, or nil if none was saved.
func (r ringStore) Load() (*onion.RingState, error) {
	var st *onion.RingState
	err := r.s.read(context.Background(), func(tx *bolt.Tx) (err error) {
		if v := tx.Bucket(bucketOnion).Get(keyRing); v != nil {
			st, err = decodeRing(v)
		}
		return err
	})
	return st, err
}

// Save replaces the saved ring with st, durably. It is written into the
// bbolt file by a checkpoint, never into the log: the ring holds the onion
// private keys, and a key erased for forward secrecy must not live on in
// a log record (the log's blocks are reused, not wiped), nor make a record
// of up to tens of MiB (the replay tags).
func (r ringStore) Save(st *onion.RingState) error {
	b, err := encodeRing(st)
	if err != nil {
		return err
	}
	defer clear(b) // bbolt has copied it into its pages once committed
	return r.s.submit(context.Background(), &op{checkpoint: true, fn: func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOnion).Put(keyRing, b)
	}})
}

func encodeRing(st *onion.RingState) ([]byte, error) {
	if len(st.Keys) > maxRingKeys {
		return nil, fmt.Errorf("boltstore: onion key ring of %d keys, at most %d", len(st.Keys), maxRingKeys)
	}
	n := ringHeadSize
	for _, k := range st.Keys {
		n += ringKeyHead + len(k.Seen)*replayTagBytes
	}
	b := make([]byte, 0, n)
	b = append(b, ringVersion, 0)
	if st.Clean {
		b[1] = 1
	}
	b = binary.BigEndian.AppendUint32(b, uint32(st.NextEpoch))
	b = binary.BigEndian.AppendUint16(b, uint16(len(st.Keys)))
	for _, k := range st.Keys {
		b = binary.BigEndian.AppendUint32(b, uint32(k.Epoch))
		raw := k.Key.Bytes()
		b = append(b, raw...)
		clear(raw)
		b = appendTime(appendTime(b, k.Start), k.End)
		b = binary.BigEndian.AppendUint32(b, uint32(len(k.Seen)))
		for _, t := range k.Seen {
			b = append(b, t[:]...)
		}
	}
	return b, nil
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Unix()))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

func readTime(b []byte) (time.Time, error) {
	ns := binary.BigEndian.Uint32(b[8:])
	if ns >= uint32(time.Second) {
		return time.Time{}, fmt.Errorf("%w: nanoseconds %d", ErrCorruptRing, ns)
	}
	sec := int64(binary.BigEndian.Uint64(b))
	t := time.Unix(sec, int64(ns)).UTC()
	if t.Unix() != sec { // outside time.Time's range
		return time.Time{}, fmt.Errorf("%w: time %d out of range", ErrCorruptRing, sec)
	}
	return t, nil
}

// decodeRing reads what encodeRing wrote and refuses anything else.
func decodeRing(b []byte) (*onion.RingState, error) {
	if len(b) < ringHeadSize || b[0] != ringVersion || b[1] > 1 {
		return nil, fmt.Errorf("%w: bad header", ErrCorruptRing)
	}
	st := &onion.RingState{Clean: b[1] == 1, NextEpoch: onion.Epoch(binary.BigEndian.Uint32(b[2:]))}
	nkeys := int(binary.BigEndian.Uint16(b[6:]))
	if nkeys > maxRingKeys {
		return nil, fmt.Errorf("%w: %d keys", ErrCorruptRing, nkeys)
	}
	b = b[ringHeadSize:]
	for range nkeys {
		k, rest, err := decodeRingKey(b)
		if err != nil {
			return nil, err
		}
		st.Keys = append(st.Keys, k)
		b = rest
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last key", ErrCorruptRing, len(b))
	}
	return st, nil
}

func decodeRingKey(b []byte) (onion.KeyState, []byte, error) {
	var k onion.KeyState
	if len(b) < ringKeyHead {
		return k, nil, fmt.Errorf("%w: truncated key", ErrCorruptRing)
	}
	k.Epoch = onion.Epoch(binary.BigEndian.Uint32(b))
	var raw [onion.KeySize]byte
	copy(raw[:], b[4:])
	key, err := onion.NewPrivateKey(raw) // zeroes its copy
	clear(raw[:])
	if err != nil {
		return k, nil, fmt.Errorf("%w: %v", ErrCorruptRing, err)
	}
	k.Key = key
	off := 4 + onion.KeySize
	if k.Start, err = readTime(b[off:]); err != nil {
		return k, nil, err
	}
	if k.End, err = readTime(b[off+timeSize:]); err != nil {
		return k, nil, err
	}
	ntags := uint64(binary.BigEndian.Uint32(b[ringKeyHead-4:]))
	b = b[ringKeyHead:]
	if ntags*uint64(replayTagBytes) > uint64(len(b)) {
		return k, nil, fmt.Errorf("%w: %d replay tags do not fit", ErrCorruptRing, ntags)
	}
	if ntags > 0 {
		k.Seen = make([]onion.ReplayTag, ntags)
		for i := range k.Seen {
			copy(k.Seen[i][:], b)
			b = b[replayTagBytes:]
		}
	}
	return k, b, nil
}
