package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/importer"
	"github.com/kopilka/kopilka/reports"
	"github.com/kopilka/kopilka/web/i18n"
)

// seedHistory imports half a year of purchases of 60 members up to now:
// member i buys every 7·(i%4+1) days, the last fifteen stopped two months
// ago; most baskets hold bread, many butter with it, and m7 buys bread
// and never butter.
func seedHistory(t *testing.T, s *site) {
	t.Helper()
	now := s.svc.Env.Time()
	var b strings.Builder
	b.WriteString("receipt,customer,sku,qty,amount,time\n")
	for i := range 60 {
		every := 7 * (i%4 + 1)
		stop := 0
		if i >= 45 {
			stop = 60
		}
		for d := 180; d > stop; d -= every {
			at := now.AddDate(0, 0, -d).Add(-time.Duration(i) * time.Minute).Format("2006-01-02 15:04:05")
			id := fmt.Sprintf("r%d-%d", i, d)
			fmt.Fprintf(&b, "%s,m%d,bread,1,5000,%s\n", id, i, at)
			if i%3 != 1 && i != 7 {
				fmt.Fprintf(&b, "%s,m%d,butter,1,12000,%s\n", id, i, at)
			}
			if i%5 == 0 {
				fmt.Fprintf(&b, "%s,m%d,jam,2,9000,%s\n", id, i, at)
			}
		}
	}
	m := importer.Mapping{Name: "shop", Format: "csv", Header: true, Money: "minor", TimeLayout: "2006-01-02 15:04:05", Zone: "UTC",
		Columns: importer.Columns{Receipt: "receipt", Customer: "customer", Store: "=shop-1", SKU: "sku", Quantity: "qty", Amount: "amount", Time: "time"}}
	if _, err := s.svc.Coalition.PutPartner(sysCtx(), kopilka.Partner{ID: "shop", Name: "Shop"}); err != nil {
		t.Fatal(err)
	}
	sum, err := s.svc.Import.Import(sysCtx(), strings.NewReader(b.String()), importer.Options{Mapping: m, PartnerID: "shop"})
	if err != nil || sum.Refused > 0 || sum.Members != 60 {
		t.Fatalf("import %v %+v", err, sum)
	}
	if _, err := s.svc.Reports.Refresh(sysCtx()); err != nil {
		t.Fatal(err)
	}
}

// Marketing opens the analytics from the overview: the KPIs and their
// charts, the cohort table, the RFM segments, the members most at risk
// and what is bought together, then downloads the cohorts as CSV; the
// service centre sees a member's segment, risk and what to offer them.
func TestAnalytics_MarketingReadsTheProgrammeAndSupportOffers(t *testing.T) {
	s := newSite(t, "sqlite")
	seedHistory(t, s)
	addOperator(t, s, "mila@example.com", kopilka.RoleMarketing, "")
	addOperator(t, s, "vera@example.com", kopilka.RoleSupport, "")
	want, err := s.svc.Reports.KPIs(sysCtx(), reports.KPIQuery{From: s.svc.Env.Time().AddDate(0, -11, -s.svc.Env.Time().Day()+1).Truncate(24 * time.Hour),
		To: s.svc.Env.Time().AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, s.url)
	b.open("/office/")
	b.signIn("mila@example.com")
	b.click("#ov-analytics", `^/office/analytics`)
	b.waitText("#an-purchases", i18n.Number(i18n.EN, want.Total.Purchases))
	b.contains("#an-active", i18n.Number(i18n.EN, want.Total.ActiveMembers))
	b.contains("#an-cohorts", "+1", "+5")
	b.contains("#an-rfm", "Champions", "rfm:champions")
	b.contains("#an-risk", "shop:m")
	b.contains("#an-rules", "butter", "bread")
	if !b.has("svg.chart rect") {
		t.Fatal("no chart")
	}
	b.screenshot("analytics")
	// Weeks instead of months.
	b.runSelect("#an-bucket", "week")
	b.click("form[action='/office/analytics'] button[type=submit]", `bucket=week`)
	b.contains("#an-rfm", "Champions")
	csv, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`fetch(document.querySelector('a[href^="/office/analytics/export/cohorts"]').href).then(r => r.text())`, awaitPromise))
	if err != nil || !strings.HasPrefix(csv, "cohort,size,m0,") {
		t.Fatalf("cohorts CSV: %v %.80q", err, csv)
	}
	// The page in Russian.
	b.open("/lang/ru?next=/office/analytics")
	b.waitPath(`^/office/analytics`)
	b.contains("main", "Удержание по месяцу первой покупки", "Чемпионы", "Покупают вместе")
	b.open("/lang/en?next=/office/")

	// The service centre: m7 buys bread and never butter.
	v := newBrowser(t, s.url)
	v.open("/office/members/" + importer.MemberID("shop", "m7"))
	v.signIn("vera@example.com")
	v.waitPath(`^/office/members/`)
	v.contains("#member-offers", "butter", "bread")
	v.contains("#member-segment")
	if v.has("a[href='/office/analytics']") {
		t.Error("support sees the analytics in the menu")
	}
	v.screenshot("member-offers")
	v.open("/office/analytics")
	v.contains("main", "Not allowed")
}
