package web_test

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/kopilka/kopilka"
)

// decode reads the code in a PNG with ZXing's readers (gozxing): a QR code
// or a Code 128 barcode, as a till's scanner would.
func decode(t *testing.T, pic []byte, qr bool) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pic))
	if err != nil {
		t.Fatalf("the picture is no PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	var reader gozxing.Reader = oned.NewCode128Reader()
	if qr {
		reader = qrcode.NewQRCodeReader()
	}
	res, err := reader.Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no code read from the %v picture: %v", img.Bounds(), err)
	}
	return res.GetText()
}

// screenshotOf is the element as the browser draws it, in PNG.
func (b *browser) screenshotOf(sel string) []byte {
	b.t.Helper()
	b.run(chromedp.WaitVisible(chromedp.CSS(sel)))
	pic, err := chromedp.Run(b.ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("screenshot of %s: %v", sel, err)
	}
	if _, _, err := image.Decode(bytes.NewReader(pic)); err != nil {
		b.t.Fatalf("screenshot of %s: %v", sel, err)
	}
	return pic
}

// A member signs in with the code sent to their phone, sees the balance
// and the card to show at the till (its QR code and barcode read back to
// the card's number), the history, and signs out.
func TestApp_MemberSignsInByCodeAndShowsTheCard(t *testing.T) {
	s := newSite(t, "sqlite")
	ctx := sysCtx()
	m, err := s.svc.Members.CreateMember(ctx, kopilka.Member{Phone: "+79161234567", Name: "Мария"})
	if err != nil {
		t.Fatal(err)
	}
	card := m.Cards[0].Number
	if _, err := s.svc.Ledger.Adjust(ctx, m.ID, kopilka.Adjustment{Points: 2, Reason: "welcome"}, "seed-1"); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, s.url)
	b.open("/lang/ru?next=/app/")
	b.waitPath(`^/app/signin`)
	b.screenshot("app-signin")
	b.fill("#contact", "8 916 123-45-67")
	b.click("form button[type=submit]", `^/app/signin`)
	b.fill("#code", "000000")
	b.click("form button[type=submit]", `^/app/verify`)
	b.contains("main .error", "Код неверный")
	code := s.sent.code("+79161234567")
	if code == "" {
		t.Fatal("no code was sent to the member's phone")
	}
	b.fill("#code", code)
	b.click("form button[type=submit]", `^/app/$`)
	// Russian plural forms: 2 балла.
	b.contains("#balance-available", "2\u00a0балла")
	b.contains("#card-number", card)
	if got := decode(t, b.screenshotOf("#card-qr"), true); got != card {
		t.Fatalf("the QR code reads %q, want the card %q", got, card)
	}
	if got := decode(t, b.screenshotOf("#card-barcode"), false); got != card {
		t.Fatalf("the barcode reads %q, want the card %q", got, card)
	}
	b.screenshot("app-card")

	b.click(`a[href="/app/history"]`, `^/app/history`)
	b.contains("main", "корректировка", "welcome")
	b.screenshot("app-history")

	b.click(`header form[action="/app/signout"] button`, `^/app/signin`)
	b.open("/app/")
	b.waitPath(`^/app/signin`)
	if strings.Contains(b.text("main"), card) {
		t.Fatal("the card is shown after signing out")
	}
}
