package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kopilka/kopilka"
)

// Marketing writes a rule with a typo, sees where the error is as it
// types, fixes it, tests a receipt against the live programme and the
// draft, simulates the rule on past receipts, saves it, and simulates a
// campaign; the rule counts from the next receipt.
func TestOffice_MarketingWritesTestsAndSimulatesARule(t *testing.T) {
	s := newSite(t, "sqlite")
	ctx := sysCtx()
	if _, err := s.svc.Coalition.PutPartner(ctx, kopilka.Partner{ID: "shop", Name: "Shop"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Coalition.PutStore(ctx, kopilka.Store{ID: "shop-1", PartnerID: "shop", Name: "Shop 1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Programme.UpdateProgramme(ctx, func(p *kopilka.Programme) error {
		p.Campaigns = append(p.Campaigns, kopilka.Campaign{ID: "winter", Name: "Winter", StartsAt: "2026-01-01", EndsAt: "2027-12-31",
			Rules: []kopilka.Rule{{ID: "winter-tea", Kind: kopilka.RulePerUnit, Points: 10, Categories: []string{"tea"}}}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	m, err := s.svc.Members.CreateMember(ctx, kopilka.Member{Phone: "+79161239999"})
	if err != nil {
		t.Fatal(err)
	}
	card := m.Cards[0].Number
	one, _ := kopilka.ParseQuantity("1")
	for i, cat := range []string{"coffee", "coffee", "tea"} {
		r := kopilka.Receipt{ReceiptID: "past-" + string(rune('a'+i)), StoreID: "shop-1", MemberID: m.ID, OccurredAt: time.Now().Add(-time.Duration(i+1) * time.Hour),
			Lines: []kopilka.Line{{Line: 1, SKU: cat + "-1", Category: cat, Quantity: one, Price: 45900, Amount: 45900}}}
		if _, err := s.svc.Purchases.Confirm(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	addOperator(t, s, "mila@example.com", kopilka.RoleMarketing, "")

	b := newBrowser(t, s.url)
	b.open("/office/")
	b.signIn("mila@example.com")
	b.click(`header a[href="/office/programme"]`, `^/office/programme$`)
	b.contains("#campaign-list", "winter")
	b.screenshot("office-programme")
	b.click("#new-rule", `^/office/programme/rules/new$`)
	b.fill("#rule-id", "coffee-bonus")
	b.fill("#rule-name", "Coffee: 20 points a pack")
	b.run(chromedp.SetValue(chromedp.CSS("#rule-kind"), kopilka.RulePerUnit))
	b.fill("#rule-points", "20")
	b.fill("#rule-condition", `line.categroy == "coffee"`)
	// The server's check, as typed: the field, the line and column, and the hint.
	b.waitText("#rule-check", "undeclared reference")
	b.contains("#rule-check", "rules[0].condition", "line 1, column 5", "line.categroy", "did you mean 'line.category'")
	b.screenshot("office-rule-typo")
	b.fill("#rule-condition", `line.category == "coffee"`)
	b.waitText("#rule-check", "takes the rule")

	// A receipt tested against the live programme and the draft.
	b.click("#rule-test", `^/office/programme/test$`)
	b.contains("#tester-draft", "coffee-bonus")
	b.fill("#t-card", card)
	b.fill("#t-store", "shop-1")
	b.click("#tester-run", `^/office/programme/test$`)
	live, draft := b.text("#quote-live .earned"), b.text("#quote-draft .earned")
	// milk 2 × 89.90 and coffee 459.00: 5 % of 638.80 is 31 points live;
	// the draft adds 20 for the pack of coffee.
	if live != "31 points" || draft != "51 points" {
		t.Fatalf("the tester says %q live and %q with the draft, want 31 and 51 points", live, draft)
	}
	b.contains("section[aria-labelledby=q-draft]", "coffee-bonus: 20")
	b.screenshot("office-tester")
	if p, _ := s.svc.Programme.Programme(ctx); len(p.Rules) != 0 {
		t.Fatalf("testing a draft saved it: %+v", p.Rules)
	}

	// Simulated on the past receipts: two packs of coffee, 40 more points.
	b.open("/office/programme/rules/new")
	b.fill("#rule-id", "coffee-bonus")
	b.run(chromedp.SetValue(chromedp.CSS("#rule-kind"), kopilka.RulePerUnit))
	b.fill("#rule-points", "20")
	b.fill("#rule-condition", `line.category == "coffee"`)
	b.click("#rule-simulate", `^/office/programme/simulate$`)
	b.contains("#sim-extra", "40")
	b.contains("#sim-receipts", "2")
	b.screenshot("office-simulation")
	b.open("/office/programme/rules/new")
	b.fill("#rule-id", "coffee-bonus")
	b.run(chromedp.SetValue(chromedp.CSS("#rule-kind"), kopilka.RulePerUnit))
	b.fill("#rule-points", "20")
	b.fill("#rule-condition", `line.category == "coffee"`)
	b.click("#rule-save", `^/office/programme\?done=rule-saved$`)
	b.contains("#rule-list", "coffee-bonus")
	p, err := s.svc.Programme.Programme(ctx)
	if err != nil || len(p.Rules) != 1 || p.Rules[0].Condition != `line.category == "coffee"` || p.Rules[0].Points != 20 {
		t.Fatalf("the saved rule: %+v %v", p.Rules, err)
	}

	// Tiers and bonuses in their forms: silver from 1,000.00 spent, gold
	// from 5,000.00 earning half as much again; 100 points welcome.
	b.fill("#level-name-0", "silver")
	b.fill("#level-threshold-0", "100000")
	b.fill("#level-name-1", "gold")
	b.fill("#level-threshold-1", "500000")
	b.fill("#level-multiplier-1", "1.5")
	b.fill("#tier-months", "12")
	b.click("#tiers-save", `done=settings-saved`)
	b.open("/office/programme")
	b.fill("#bonus-welcome", "100")
	b.click("#bonuses-save", `done=settings-saved`)
	p, err = s.svc.Programme.Programme(ctx)
	if err != nil || len(p.Tiers.Levels) != 2 || p.Tiers.Levels[1].Name != "gold" || p.Tiers.Levels[1].Threshold != 500000 ||
		p.Tiers.Levels[1].EarnMultiplier != 1500 || p.Tiers.Months != 12 || p.Bonuses.Welcome.Points != 100 {
		t.Fatalf("tiers and bonuses after the forms: %+v %+v %v", p.Tiers, p.Bonuses, err)
	}
	b.open("/office/programme")

	// The campaign simulated on the last 30 days: one tea, 10 points.
	b.click(`form[action="/office/programme/campaigns/winter/simulate"] button`, `^/office/programme/campaigns/winter/simulate$`)
	b.contains("#sim-extra", "10")

	// A new campaign in its form: a segment with a typo is refused on the
	// page, naming the field; fixed, it is saved and simulated.
	b.open("/office/programme")
	b.click("#new-campaign", `^/office/programme/campaigns/new$`)
	b.fill("#cp-id", "coffee-week")
	b.fill("#cp-starts", "2026-01-01")
	b.fill("#cp-ends", "2027-12-31")
	b.fill("#cp-segment", `member.tgs.size() > 0`)
	b.fill("#cp-rules", `[{"id": "cw-coffee", "kind": "per_unit", "points": 5, "categories": ["coffee"]}]`)
	b.run(chromedp.Click(chromedp.CSS("#cp-enabled")))
	b.click("#campaign-save", `^/office/programme/campaigns/new$`)
	b.contains("#campaign-problems", "segment", "tgs")
	b.fill("#cp-segment", "")
	b.click("#campaign-simulate", `^/office/programme/campaigns/simulate$`)
	b.contains("#sim-extra", "10") // two packs of coffee in the last 30 days
	b.open("/office/programme/campaigns/new")
	b.fill("#cp-id", "coffee-week")
	b.fill("#cp-starts", "2026-01-01")
	b.fill("#cp-ends", "2027-12-31")
	b.fill("#cp-rules", `[{"id": "cw-coffee", "kind": "per_unit", "points": 5, "categories": ["coffee"]}]`)
	b.run(chromedp.Click(chromedp.CSS("#cp-enabled")))
	b.click("#campaign-save", `done=campaign-saved`)
	b.contains("#campaign-list", "coffee-week")

	// The rule and the campaign count from the next receipt.
	q, err := s.svc.Purchases.Confirm(ctx, kopilka.Receipt{ReceiptID: "next", StoreID: "shop-1", MemberID: m.ID,
		Lines: []kopilka.Line{{Line: 1, SKU: "coffee-1", Category: "coffee", Quantity: one, Price: 45900, Amount: 45900}}})
	if err != nil || q.Earned != 22+20+5 {
		t.Fatalf("the next receipt earned %d (%v), want 22 at 5 %%, 20 for the new rule and 5 for the campaign", q.Earned, err)
	}
	if strings.Contains(b.text("main"), "Not allowed") {
		t.Fatal("marketing was refused a page of the programme")
	}
}
