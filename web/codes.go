package web

import (
	"bytes"
	"image"
	"image/color"
	"image/png"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/qr"
)

// qrPNG draws text as a QR code (error correction M, which a phone screen
// scanned at a till reads well) of 320×320 pixels with its quiet zone.
func qrPNG(text string) ([]byte, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, err
	}
	return drawPNG(code, 320, 320, 4)
}

// barcodePNG draws text as a Code 128 barcode, which every till scanner
// reads, 480×120 pixels.
func barcodePNG(text string) ([]byte, error) {
	code, err := code128.Encode(text)
	if err != nil {
		return nil, err
	}
	return drawPNG(code, 480, 120, 0)
}

// drawPNG scales the code to w×h (whole modules, so that no bar blurs)
// inside a white margin of quiet modules, and encodes it as PNG.
func drawPNG(code barcode.Barcode, w, h, quiet int) ([]byte, error) {
	b := code.Bounds()
	if quiet > 0 {
		side := b.Dx() + 2*quiet
		scale := max(1, w/side)
		scaled, err := barcode.Scale(code, b.Dx()*scale, b.Dy()*scale)
		if err != nil {
			return nil, err
		}
		return encodePNG(withMargin(scaled, quiet*scale))
	}
	scaled, err := barcode.Scale(code, max(b.Dx(), w/b.Dx()*b.Dx()), h)
	if err != nil {
		return nil, err
	}
	return encodePNG(withMargin(scaled, 10))
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// margin is an image with a white border of m pixels around it: the quiet
// zone a scanner needs to find the code.
type margin struct {
	img image.Image
	m   int
}

func withMargin(img image.Image, m int) image.Image { return margin{img, m} }

func (g margin) ColorModel() color.Model { return color.GrayModel }

func (g margin) Bounds() image.Rectangle {
	b := g.img.Bounds()
	return image.Rect(0, 0, b.Dx()+2*g.m, b.Dy()+2*g.m)
}

func (g margin) At(x, y int) color.Color {
	b := g.img.Bounds()
	x, y = x-g.m+b.Min.X, y-g.m+b.Min.Y
	if !(image.Point{x, y}.In(b)) {
		return color.White
	}
	return color.GrayModel.Convert(g.img.At(x, y))
}
