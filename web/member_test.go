package web_test

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
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
	if _, err := s.svc.Programme.UpdateProgramme(ctx, func(p *kopilka.Programme) error {
		p.Personal = kopilka.PersonalCategories{Offered: []string{"coffee", "tea", "cakes"}, Picks: 2, Percent: 500, ChangeEvery: "month"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Coalition.PutPartner(ctx, kopilka.Partner{ID: "shop", Name: "Shop"}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []struct {
		id, name string
		lat, lon float64
	}{{"far", "Shop in Tula", 54.1931, 37.6177}, {"near", "Shop on Arbat", 55.7520, 37.5925}, {"mid", "Shop in Khimki", 55.8970, 37.4297}} {
		lat, lon := st.lat, st.lon
		if _, err := s.svc.Coalition.PutStore(ctx, kopilka.Store{ID: st.id, PartnerID: "shop", Name: st.name, Address: st.name, Lat: &lat, Lon: &lon}); err != nil {
			t.Fatal(err)
		}
	}
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

	b.click(`main a[href="/app/history"]`, `^/app/history`)
	b.contains("main", "корректировка", "welcome")
	b.screenshot("app-history")

	// The tier, the favourite categories (two of three), the consents.
	b.click(`header a[href="/app/tier"]`, `^/app/tier`)
	b.contains("#tier-name", "пока без уровня")
	b.click(`header a[href="/app/categories"]`, `^/app/categories`)
	b.run(chromedp.Click(chromedp.CSS(`input[value=coffee]`)), chromedp.Click(chromedp.CSS(`input[value=tea]`)))
	b.click("#categories-save", `^/app/categories\?done=1`)
	b.screenshot("app-categories")
	if got, _ := s.svc.Members.Member(ctx, m.ID); len(got.Categories) != 2 || got.Categories[0] != "coffee" || got.Categories[1] != "tea" {
		t.Fatalf("the member's categories: %v", got.Categories)
	}
	b.click(`header a[href="/app/profile"]`, `^/app/profile`)
	b.run(chromedp.Click(chromedp.CSS("#c-sms")))
	b.click("#profile-save", `^/app/profile\?done=1`)
	if got, _ := s.svc.Members.Member(ctx, m.ID); !got.Consents.SMS || got.Name != "Мария" {
		t.Fatalf("the member's consents and name: %+v %q", got.Consents, got.Name)
	}
	b.screenshot("app-profile")

	// The nearest stores, from where the phone is (near the Kremlin): Arbat
	// first, Khimki next, Tula beyond 50 km left out.
	lat, lon, acc := 55.7520, 37.6175, 10.0
	if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: "geolocation"}, Setting: cdpbrowser.PermissionSettingGranted, Origin: s.url}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc}); err != nil {
		t.Fatal(err)
	}
	b.click(`header a[href="/app/stores"]`, `^/app/stores$`)
	b.click("#near-me", `^/app/stores\?lat=55\.752`)
	b.contains("#near-list li:first-child", "Shop on Arbat", "км")
	b.contains("#near-list li:nth-child(2)", "Shop in Khimki")
	if strings.Contains(b.text("#near-list"), "Tula") {
		t.Fatal("a store 180 km away is listed nearby")
	}
	b.screenshot("app-stores")

	// Offline: once the card page was loaded under the service worker, it
	// is still shown, with its codes, when the server cannot be reached.
	b.open("/app/")
	if ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`navigator.serviceWorker.ready.then(() => true)`, awaitPromise)); err != nil || !ok {
		t.Fatalf("the service worker is not ready: %v", err)
	}
	b.open("/app/") // now through the worker, which keeps the page and its codes
	b.waitTrue(`caches.open("kopilka-card-v1").then(c => Promise.all(["/app/", "/app/card/qr.png"].map(u => c.match(u)))).then(rs => rs.every(r => !!r))`)
	s.stop()
	b.open("/app/")
	b.contains("#card-number", card)
	b.waitTrue(`Promise.resolve(document.querySelector("#card-qr").complete && document.querySelector("#card-qr").naturalWidth > 0)`)
	b.screenshot("app-card-offline")
}

// The member signs out: the card is no longer shown, and the worker's copy
// of it is gone.
func TestApp_SignOutForgetsTheCard(t *testing.T) {
	s := newSite(t, "sqlite")
	m, err := s.svc.Members.CreateMember(sysCtx(), kopilka.Member{Phone: "+79161234500"})
	if err != nil {
		t.Fatal(err)
	}
	card := m.Cards[0].Number
	b := newBrowser(t, s.url)
	b.open("/app/signin")
	b.fill("#contact", "+79161234500")
	b.click("form button[type=submit]", `^/app/signin`)
	b.fill("#code", s.sent.code("+79161234500"))
	b.click("form button[type=submit]", `^/app/$`)
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`navigator.serviceWorker.ready.then(() => true)`, awaitPromise)); err != nil {
		t.Fatal(err)
	}
	b.open("/app/")
	b.waitTrue(`caches.open("kopilka-card-v1").then(c => c.match("/app/")).then(r => !!r)`)
	b.click(`header form[action="/app/signout"] button`, `^/app/signin`)
	b.waitTrue(`caches.has("kopilka-card-v1").then(h => !h)`)
	b.open("/app/")
	b.waitPath(`^/app/signin`)
	if strings.Contains(b.text("main"), card) {
		t.Fatal("the card is shown after signing out")
	}
}
