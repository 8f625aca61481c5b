// SPDX-License-Identifier: AGPL-3.0-or-later

package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"
)

// Bounds on images, checked before any pixel is decoded.
const (
	MaxImageBytes = 50 << 20 // 50 MiB of input
	// MaxPixels bounds width × height: 40 megapixels decode to 160 MB of
	// RGBA, the most a phone should be asked to hold for one picture.
	MaxPixels = 40_000_000
	// MaxSide bounds either side, so a 1-pixel-high strip cannot claim a
	// 40-million-pixel row.
	MaxSide = 1 << 15
)

// Output encoding.
const (
	MIMEJPEG    = "image/jpeg"
	MIMEPNG     = "image/png"
	jpegQuality = 85
)

// Image is a sanitised image: re-encoded from its pixels, so it carries no
// metadata at all (EXIF, GPS, XMP, ICC profiles, comments, text chunks).
type Image struct {
	Data          []byte // the re-encoded image
	MIMEType      string // MIMEJPEG or MIMEPNG
	Width, Height int    // after the EXIF orientation was applied
	Thumbnail     []byte // a JPEG of at most MaxThumbnailBytes, longest side at most ThumbnailSide
}

// SanitizeImage reads a JPEG, PNG or WebP image (recognised from its bytes,
// not a name) of at most MaxImageBytes, checks its dimensions against
// MaxPixels and MaxSide before decoding any pixel, applies a JPEG's EXIF
// orientation, and re-encodes it:
//
//   - JPEG stays JPEG (quality 85);
//   - PNG stays PNG (same pixel format, only IHDR, PLTE, tRNS, IDAT, IEND);
//   - WebP becomes PNG if it is lossless or has any transparent pixel,
//     JPEG otherwise (lossy, opaque: the common photo case).
//
// Colour profiles are dropped with the rest of the metadata: pixels are
// taken as sRGB. Errors wrap ErrUnsupported, ErrTooLarge, ErrTruncated or
// ErrMalformed.
func SanitizeImage(r io.Reader) (*Image, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("media: reading image: %w", err)
	}
	if len(data) > MaxImageBytes {
		return nil, fmt.Errorf("%w: image is over %d bytes", ErrTooLarge, MaxImageBytes)
	}
	format := sniffImage(data)
	if format == formatUnknown {
		return nil, fmt.Errorf("%w: not a JPEG, PNG or WebP image: %s", ErrUnsupported, describe(data))
	}
	img, err := decodeImage(format, data)
	if err != nil {
		return nil, err
	}
	if format == formatJPEG {
		img = orient(img, jpegOrientation(data))
	}
	return encodeImage(format, img)
}

// decodeImage decodes the header, checks the bounds, then the pixels.
func decodeImage(f imageFormat, data []byte) (image.Image, error) {
	cfg, err := decoders[f].config(bytes.NewReader(data))
	if err != nil {
		return nil, decodeError(f, data, err)
	}
	if err := checkDimensions(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	img, err := decoders[f].decode(bytes.NewReader(data))
	if err != nil {
		return nil, decodeError(f, data, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Errorf("%w: %s header says %dx%d, pixels are %dx%d", ErrMalformed, decoders[f].name, cfg.Width, cfg.Height, b.Dx(), b.Dy())
	}
	return img, nil
}

var decoders = map[imageFormat]struct {
	name   string
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}{
	formatJPEG: {"JPEG", jpeg.DecodeConfig, jpeg.Decode},
	formatPNG:  {"PNG", png.DecodeConfig, png.Decode},
	formatWebP: {"WebP", webp.DecodeConfig, webp.Decode},
}

func checkDimensions(w, h int) error {
	switch {
	case w <= 0 || h <= 0:
		return fmt.Errorf("%w: image is %dx%d pixels", ErrMalformed, w, h)
	case w > MaxSide || h > MaxSide || int64(w)*int64(h) > MaxPixels:
		return fmt.Errorf("%w: image is %dx%d pixels (at most %d per side and %d in all)", ErrTooLarge, w, h, MaxSide, MaxPixels)
	}
	return nil
}

// decodeError sorts a decoder's error into this package's sentinels. The
// decoders report a cut-off file inconsistently (image/png turns a short
// IDAT into "not enough pixel data"), so a file whose own framing is
// incomplete is reported as truncated whatever the decoder said.
func decodeError(f imageFormat, data []byte, err error) error {
	name := decoders[f].name
	var (
		jpegUnsupported jpeg.UnsupportedError
		pngUnsupported  png.UnsupportedError
	)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || incomplete(f, data):
		return fmt.Errorf("%w: %s image ends early", ErrTruncated, name)
	case errors.As(err, &jpegUnsupported) || errors.As(err, &pngUnsupported):
		return fmt.Errorf("%w: %s feature: %v", ErrUnsupported, name, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrMalformed, name, err)
}

// encodeImage re-encodes img and makes its thumbnail.
func encodeImage(f imageFormat, img image.Image) (*Image, error) {
	asPNG := f == formatPNG || (f == formatWebP && (!isOpaque(img) || isLossless(img)))
	var buf bytes.Buffer
	out := &Image{MIMEType: MIMEJPEG}
	var err error
	if asPNG {
		out.MIMEType = MIMEPNG
		err = (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: jpegQuality})
	}
	if err != nil {
		return nil, fmt.Errorf("media: encoding %s: %v", out.MIMEType, err)
	}
	out.Data = buf.Bytes()
	out.Width, out.Height = img.Bounds().Dx(), img.Bounds().Dy()
	if out.Thumbnail, err = thumbnail(img); err != nil {
		return nil, err
	}
	return out, nil
}

// isLossless reports whether a decoded WebP came from the lossless (VP8L)
// coder, which x/image/webp decodes to NRGBA; lossy decodes to YCbCr or
// NYCbCrA. A lossless picture (a screenshot, a drawing) stays lossless.
func isLossless(img image.Image) bool {
	_, ok := img.(*image.NRGBA)
	return ok
}

func isOpaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// incomplete reports whether data ends before its format's framing does:
// a PNG without a whole IEND chunk, a WebP shorter than its RIFF size, a
// JPEG not ending in EOI.
func incomplete(f imageFormat, data []byte) bool {
	switch f {
	case formatPNG:
		for p := data[len(pngMagic):]; ; {
			if len(p) < pngChunkOverhead {
				return true
			}
			n := uint64(binary.BigEndian.Uint32(p))
			if n > uint64(len(p)-pngChunkOverhead) {
				return true
			}
			if string(p[4:8]) == "IEND" {
				return false
			}
			p = p[pngChunkOverhead+n:]
		}
	case formatWebP:
		return uint64(binary.LittleEndian.Uint32(data[4:]))+riffHeader > uint64(len(data))
	}
	return !bytes.HasSuffix(data, []byte{0xFF, 0xD9})
}

const (
	pngChunkOverhead = /* length */ 4 + /* type */ 4 + /* crc */ 4
	riffHeader       = /* "RIFF" */ 4 + /* size */ 4
)
