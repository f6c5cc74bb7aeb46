package kopilka_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/pricing"
)

// benchProgramme is a programme with 200 active rules of every kind: 80
// category rates (half of them competing with the base rate), 40 SKU unit
// bonuses, 20 multipliers limited by day and hour, 20 receipt awards with
// conditions on the receipt and the member, 20 rules with conditions on
// each line, and 20 rules in four campaigns with segments.
func benchProgramme() kopilka.Programme {
	p := kopilka.DefaultProgramme()
	p.TimeZone = "Europe/Moscow"
	p.Tiers = kopilka.TierPlan{Basis: "spend", Window: "rolling", Months: 12,
		Levels: []kopilka.Tier{{Name: "silver", Threshold: 1000_00}, {Name: "gold", Threshold: 5000_00, EarnMultiplier: 1500}}}
	for i := range 80 {
		r := kopilka.Rule{ID: fmt.Sprintf("cat-%d", i), Kind: kopilka.RulePercent, Percent: kopilka.Percent(600 + i*10),
			Categories: []string{fmt.Sprintf("cat-%d", i)}}
		if i%2 == 0 {
			r.Group = "base"
		}
		p.Rules = append(p.Rules, r)
	}
	for i := range 40 {
		p.Rules = append(p.Rules, kopilka.Rule{ID: fmt.Sprintf("sku-%d", i), Kind: kopilka.RulePerUnit, Points: 3, SKUs: []string{fmt.Sprintf("sku-%d", i*3)}})
	}
	for i := range 20 {
		p.Rules = append(p.Rules, kopilka.Rule{ID: fmt.Sprintf("x-%d", i), Kind: kopilka.RuleMultiplier, Factor: 2000,
			Categories: []string{fmt.Sprintf("cat-%d", i*5)}, Days: []string{"mon", "tue", "wed", "thu", "fri"}, Hours: &kopilka.Hours{From: "08:00", To: "22:00"}})
	}
	for i := range 20 {
		p.Rules = append(p.Rules, kopilka.Rule{ID: fmt.Sprintf("award-%d", i), Kind: kopilka.RuleThreshold, Points: 100, Threshold: int64(1000_00 * (i + 1)),
			Condition: fmt.Sprintf(`receipt.total > %d && (member.tier == "gold" || "vip" in member.tags)`, i*100_00)})
	}
	for i := range 20 {
		p.Rules = append(p.Rules, kopilka.Rule{ID: fmt.Sprintf("line-%d", i), Kind: kopilka.RulePercent, Percent: 200,
			Condition: fmt.Sprintf(`line.category == "cat-%d" && line.quantity >= 1.0 && line.amount > 100`, i*4)})
	}
	for c := range 4 {
		camp := kopilka.Campaign{ID: fmt.Sprintf("camp-%d", c), Enabled: true, StartsAt: "2026-01-01", EndsAt: "2027-01-01",
			Segment: `member.days_since_registration > 10 && "student" in member.tags`}
		for j := range 5 {
			camp.Rules = append(camp.Rules, kopilka.Rule{ID: fmt.Sprintf("camp-%d-%d", c, j), Kind: kopilka.RulePercent, Percent: 300,
				Categories: []string{fmt.Sprintf("cat-%d", c*20+j)}})
		}
		p.Campaigns = append(p.Campaigns, camp)
	}
	return p
}

func benchReceipt() kopilka.Receipt {
	r := kopilka.Receipt{ReceiptID: "bench", StoreID: "store-1", MemberID: "m", SpendPoints: 100,
		OccurredAt: time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)}
	for i := range 50 {
		amount := int64(100_00 + i*37_00)
		r.Lines = append(r.Lines, kopilka.Line{Line: i + 1, SKU: fmt.Sprintf("sku-%d", i), Category: fmt.Sprintf("cat-%d", i),
			Quantity: 2 * kopilka.QuantityScale, Price: amount / 2, Amount: amount})
	}
	return r
}

func TestBenchProgramme_HasTwoHundredActiveRulesThatFire(t *testing.T) {
	p := benchProgramme()
	n := len(p.Rules)
	for _, c := range p.Campaigns {
		n += len(c.Rules)
	}
	if n != 200 {
		t.Fatalf("%d rules, want 200", n)
	}
	if err := pricing.Validate(p); err != nil {
		t.Fatal(err)
	}
	m := &kopilka.Member{Tier: "gold", Tags: []string{"student"}, CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	q := price(t, p, benchReceipt(), m, 1000)
	fired := map[string]bool{}
	for _, rl := range q.Rules {
		fired[rl.Rule] = true
	}
	for _, a := range q.Awards {
		fired[a.Rule] = true
	}
	// The receipt must exercise every kind, not slip past the rules.
	for _, id := range []string{"base", "cat-0", "cat-1", "sku-0", "x-0", "award-0", "line-0", "camp-0-0", "tier:gold"} {
		if !fired[id] {
			t.Errorf("rule %s gave nothing; fired: %d rules", id, len(fired))
		}
	}
}

// BenchmarkPrice_FiftyLinesTwoHundredRules is the figure in BENCHMARKS.md.
func BenchmarkPrice_FiftyLinesTwoHundredRules(b *testing.B) {
	e, err := pricing.Compile(benchProgramme())
	if err != nil {
		b.Fatal(err)
	}
	m := &kopilka.Member{Tier: "gold", Tags: []string{"student"}, CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	in := pricing.PriceInput{Receipt: benchReceipt(), Member: m, Available: 1000, Now: time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Price(ctx, in, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrice_FiftyLinesFlatRate is the same receipt against the default
// programme (the base rate alone): the yardstick for the figure above.
func BenchmarkPrice_FiftyLinesFlatRate(b *testing.B) {
	e, err := pricing.Compile(kopilka.DefaultProgramme())
	if err != nil {
		b.Fatal(err)
	}
	in := pricing.PriceInput{Receipt: benchReceipt(), Member: &kopilka.Member{}, Available: 1000, Now: time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Price(context.Background(), in, nil); err != nil {
			b.Fatal(err)
		}
	}
}
