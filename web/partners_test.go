package web_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/storage/storagetest"
)

// A partner's manager signs in and sees their own partner only: its stores
// (on the map, from the configured tile server), its statement with the
// CSV to download, its closed months; another partner's partner, store
// and statement are "not found", as if they did not exist.
func TestOffice_PartnerManagerSeesOnlyTheirOwn(t *testing.T) {
	// On both databases: the pages' changes go through the same use cases
	// and storage as the API's.
	for _, d := range storagetest.Dialects() {
		t.Run(d, func(t *testing.T) { partnerManagerJourney(t, d) })
	}
}

func partnerManagerJourney(t *testing.T, dialect string) {
	s := newSite(t, dialect)
	ctx := sysCtx()
	var tiles atomic.Int32
	tileSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tiles.Add(1)
		img := image.NewGray(image.Rect(0, 0, 256, 256))
		for i := range img.Pix {
			img.Pix[i] = 0xdd
		}
		img.Set(128, 128, color.Black)
		var b bytes.Buffer
		_ = png.Encode(&b, img)
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(b.Bytes())
	}))
	t.Cleanup(tileSrv.Close)
	s.srv.Site.TileURL = tileSrv.URL + "/{z}/{x}/{y}.png"

	lat1, lon1, lat2, lon2 := 55.7558, 37.6173, 55.7600, 37.6300
	for _, p := range []kopilka.Partner{{ID: "books", Name: "Book Shop"}, {ID: "cafe", Name: "Coffee House"}} {
		if _, err := s.svc.Coalition.PutPartner(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range []kopilka.Store{
		{ID: "books-1", PartnerID: "books", Name: "Books on Arbat", Lat: &lat1, Lon: &lon1},
		{ID: "books-2", PartnerID: "books", Name: "Books on Tverskaya", Lat: &lat2, Lon: &lon2},
		{ID: "cafe-1", PartnerID: "cafe", Name: "Cafe on Arbat", Lat: &lat1, Lon: &lon1},
	} {
		if _, err := s.svc.Coalition.PutStore(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	m, err := s.svc.Members.CreateMember(ctx, kopilka.Member{Phone: "+79161230000"})
	if err != nil {
		t.Fatal(err)
	}
	one, _ := kopilka.ParseQuantity("1")
	for i, store := range []string{"books-1", "books-2", "cafe-1"} {
		r := kopilka.Receipt{ReceiptID: "r-" + store, StoreID: store, MemberID: m.ID,
			Lines: []kopilka.Line{{Line: 1, SKU: "x", Quantity: one, Price: int64(10000 * (i + 1)), Amount: int64(10000 * (i + 1))}}}
		if _, err := s.svc.Purchases.Confirm(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.svc.Purchases.Refund(ctx, "books", "r-books-2", kopilka.RefundRequest{RefundID: "ret-1", Lines: []kopilka.RefundLine{{Line: 1}}}); err != nil {
		t.Fatal(err)
	}
	addOperator(t, s, "boss@books.example", kopilka.RolePartnerAdmin, "books")

	b := newBrowser(t, s.url)
	b.open("/office/")
	b.signIn("boss@books.example")
	// The menu's partners go straight to their own.
	b.click(`header a[href="/office/partners"]`, `^/office/partners/books$`)
	b.contains("#store-list", "Books on Arbat", "Books on Tverskaya")
	if strings.Contains(b.text("main"), "Cafe") {
		t.Fatal("the manager of books sees the cafe's store")
	}
	if n, _ := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("figure.map svg a").length`)); n != 2 {
		t.Errorf("the map shows %d markers, want the 2 stores", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for tiles.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if tiles.Load() == 0 {
		t.Error("the map loaded no tile from the configured tile server")
	}
	b.screenshot("office-partner")

	// The statement of this month: two purchases, and the CSV of them.
	b.click(`form[action="/office/partners/books/statement"] button`, `^/office/partners/books/statement\?`)
	b.contains("#statement-totals", "Purchases", "2")
	b.screenshot("office-statement")
	href, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS("#statement-csv"), "href"))
	if err != nil || !strings.Contains(href.Value, "format=csv") {
		t.Fatalf("CSV link %+v %v", href, err)
	}
	csv, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`fetch(document.querySelector("#statement-csv").href).then(r => r.text())`, awaitPromise))
	if err != nil || !strings.HasPrefix(csv, "at,kind,receipt_id") || strings.Count(csv, "\n") != 5 || !strings.Contains(csv, "ret-1") || strings.Contains(csv, "r-cafe-1") {
		t.Fatalf("the CSV statement: %q %v", csv, err)
	}

	// Another partner's anything is not found, in the same words as nothing.
	for _, path := range []string{"/office/partners/cafe", "/office/stores/cafe-1", "/office/partners/cafe/statement?from=2026-01-01&to=2030-01-01",
		"/office/partners/nobody"} {
		b.open(path)
		b.contains("h1", "Not found")
	}
	// Its own receipt opens to its lines and its refund; the other partner's does not.
	b.open("/office/receipts/r-books-2?partner_id=books")
	b.contains("#receipt-lines", "x", "₽200.00", "base: 10")
	b.contains("#receipt-refunds", "ret-1")
	b.contains("#receipt-status", "refunded")
	if b.has(`form[action$="/cancel"]`) {
		t.Error("a partner's manager is offered to cancel a purchase")
	}
	b.screenshot("office-receipt")
	b.open("/office/receipts/r-cafe-1")
	b.contains("h1", "Not found")
	b.open("/office/receipts/r-cafe-1?partner_id=cafe")
	b.contains("h1", "Not found")
	b.open("/office/stores/books-1")
	b.contains("main", "Books on Arbat")
	b.screenshot("office-store")
	// The manager changes their own partner's rates (not its name or status).
	b.open("/office/partners/books")
	if b.has(`form[action="/office/partners/books"]`) {
		t.Error("a partner's manager is offered the partner's whole form")
	}
	b.run(chromedp.Click(chromedp.CSS(`details:has(form[action="/office/partners/books/rates"]) summary`)))
	b.fill("#rt-earn", "7")
	b.click("#rates-save", `done=partner-saved`)
	if p, err := s.svc.Coalition.Partner(ctx, "books"); err != nil || p.EarnRate == nil || *p.EarnRate != 7*kopilka.PercentScale {
		t.Fatalf("the partner's rates after the manager's change: %+v %v", p, err)
	}
	// A new store from the partner's page is the manager's partner's.
	b.fill("#store-new-id", "books-3")
	b.fill("#store-new-name", "Books on Nevsky")
	b.click("#store-create", `^/office/stores/books-3\?done=store-saved$`)
	if st, err := s.svc.Coalition.Store(ctx, "books-3"); err != nil || st.PartnerID != "books" {
		t.Fatalf("the new store: %+v %v", st, err)
	}
	// Nor may the manager read members or the overview.
	b.open("/office/members/" + m.ID)
	b.contains("h1", "Not allowed")
}
