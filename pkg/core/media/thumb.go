// SPDX-License-Identifier: AGPL-3.0-or-later

package media

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"

	"golang.org/x/image/draw"
)

// Thumbnails travel inline in the message, inside one 15,360-byte sealed
// envelope with everything else the message says.
const (
	MaxThumbnailBytes = 4096
	ThumbnailSide     = 96 // longest side, pixels
)

// thumbnailSteps are tried in order until the JPEG fits MaxThumbnailBytes:
// first lower quality, then a smaller picture. The last step (32 px at
// quality 20) is under 1.5 KiB whatever the picture.
var (
	thumbnailSides     = []int{ThumbnailSide, 64, 48, 32}
	thumbnailQualities = []int{75, 60, 45, 30, 20}
)

// thumbnail scales img to fit ThumbnailSide (Catmull-Rom: sharp, no
// aliasing), flattens any transparency onto white, and encodes it as a JPEG
// of at most MaxThumbnailBytes.
func thumbnail(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	for _, side := range thumbnailSides {
		small := scaleDown(img, side)
		for _, q := range thumbnailQualities {
			buf.Reset()
			if err := jpeg.Encode(&buf, small, &jpeg.Options{Quality: q}); err != nil {
				return nil, fmt.Errorf("media: encoding thumbnail: %v", err)
			}
			if buf.Len() <= MaxThumbnailBytes {
				return bytes.Clone(buf.Bytes()), nil
			}
		}
	}
	return nil, fmt.Errorf("media: internal error: no thumbnail fits %d bytes", MaxThumbnailBytes)
}

// scaleDown returns img scaled so its longest side is at most side, on a
// white background. It never scales up.
func scaleDown(img image.Image, side int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > side || h > side {
		if w >= h {
			w, h = side, max(1, h*side/w)
		} else {
			w, h = max(1, w*side/h), side
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Rect, image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.CatmullRom.Scale(dst, dst.Rect, img, b, draw.Over, nil)
	return dst
}
