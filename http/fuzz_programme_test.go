package http_test

import (
	"context"
	"testing"

	"github.com/kopilka/kopilka"
	khttp "github.com/kopilka/kopilka/http"
	"github.com/kopilka/kopilka/pricing"
)

// FuzzDecodeProgramme feeds programme documents, YAML and JSON, to the
// importer: it must refuse bad ones with a 4xx naming the field, never
// panic; a programme it accepts must compile and price a receipt whose
// explanation adds up.
func FuzzDecodeProgramme(f *testing.F) {
	f.Add([]byte(programmeYAML), true)
	f.Add([]byte(`{"rules":[{"id":"a","kind":"percent","percent":"10","condition":"line.amount > 100 && member.age >= 18"}]}`), false)
	f.Add([]byte(`{"rules":[{"id":"a","kind":"threshold","points":5,"threshold":100,"repeat":true,"group":"g","stop":true,"priority":3}]}`), false)
	f.Add([]byte(`{"rules":[{"id":"a","kind":"multiplier","factor":"1.5","hours":{"from":"22:00","to":"06:00"},"days":["sat"]}]}`), false)
	f.Add([]byte(`{"rules":[{"id":"a","kind":"per_unit","points":3,"cap_per_member":{"points":10,"period":"week"}}]}`), false)
	f.Add([]byte(`{"spending":{"min_balance":100,"excluded_categories":["tobacco"],"categories":[{"category":"wine","max_spend_percent":"10"}]}}`), false)
	f.Add([]byte("rules:\n  - id: x\n    kind: per_amount\n    points: 4\n    per: 100\n    condition: 'receipt.weekday == \"mon\"'\n"), true)
	f.Add([]byte("rules: [\n"), true)
	f.Add([]byte(`{"rules":[{"id":"a","kind":"percent","percent":"10","condition":"line."}]}`), false)
	f.Add([]byte(`{"campaigns":[{"id":"c","enabled":true,"starts_at":"2026-01-01","ends_at":"2027-01-01","segment":"size(member.tags) > 0","rules":[{"id":"r","kind":"per_receipt","points":1}]}]}`), false)
	f.Add([]byte(`{"time_zone":"Local"}`), false)
	f.Add([]byte(`null`), false)
	f.Fuzz(func(t *testing.T, body []byte, isYAML bool) {
		p, err := khttp.DecodeProgramme(body, isYAML)
		if err != nil {
			refusal(t, err)
			return
		}
		e, err := pricing.Compile(p)
		if err != nil {
			t.Fatalf("a valid programme does not compile: %v", err)
		}
		r := kopilka.Receipt{ReceiptID: "r", StoreID: "s", MemberID: "m", OccurredAt: fuzzNow, Lines: []kopilka.Line{
			{Line: 1, SKU: "a", Category: "tea", Quantity: 2000, Price: 5000, Amount: 10000},
			{Line: 2, SKU: "b", Category: "tobacco", Quantity: 1000, Price: 30000, Amount: 30000}}}
		q, err := e.Price(context.Background(), pricing.PriceInput{Receipt: r, Member: &kopilka.Member{Tags: []string{"x"}}, Now: fuzzNow}, nil)
		if err != nil {
			refusal(t, err)
			return
		}
		sum := int64(0)
		for _, l := range q.Lines {
			var byRules int64
			for _, rp := range l.Rules {
				if rp.Points <= 0 {
					t.Fatalf("rule %s gave %d points", rp.Rule, rp.Points)
				}
				byRules += rp.Points
			}
			if byRules != l.Earned || l.Paid < 0 {
				t.Fatalf("line %d: rules give %d, earned %d, paid %d", l.Line, byRules, l.Earned, l.Paid)
			}
			sum += l.Earned
		}
		for _, a := range q.Awards {
			sum += a.Points
		}
		if sum != q.Earned {
			t.Fatalf("lines and awards give %d, the quote %d", sum, q.Earned)
		}
	})
}
