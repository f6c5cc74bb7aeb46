package pricing

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
)

// Conditions judged ahead stand in for evaluating them while pricing
// (issue 11, item 1: never evaluate rules while a write lock is held): a
// confirmation prices with no evaluation at all when the member reads the
// same, and evaluates again, and rightly, when the member changed between.
func TestVerdicts_PriceEvaluatesNothingWhenTheyFit(t *testing.T) {
	p := kopilka.DefaultProgramme()
	p.Rules = []kopilka.Rule{
		{ID: "gold", Kind: kopilka.RulePercent, Percent: 10 * kopilka.PercentScale, Condition: `member.tier == "gold" && receipt.total > 100`},
		{ID: "milk", Kind: kopilka.RulePerUnit, Points: 3, Condition: `line.category == "milk"`},
	}
	p.Campaigns = []kopilka.Campaign{{ID: "students", Enabled: true, StartsAt: "2026-01-01", EndsAt: "2027-01-01", Segment: `"student" in member.tags`,
		Rules: []kopilka.Rule{{ID: "s", Kind: kopilka.RulePerReceipt, Points: 7}}}}
	e, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	r := kopilka.Receipt{ReceiptID: "r", StoreID: "s", MemberID: "m", OccurredAt: now, Lines: []kopilka.Line{
		{Line: 1, SKU: "a", Category: "milk", Quantity: 2 * kopilka.QuantityScale, Price: 100_00, Amount: 200_00},
		{Line: 2, SKU: "b", Category: "bread", Quantity: kopilka.QuantityScale, Price: 50_00, Amount: 50_00},
	}}
	gold := &kopilka.Member{ID: "m", Tier: "gold", Tags: []string{"student"}}
	in := PriceInput{Receipt: r, Member: gold, Now: now}
	vd, err := e.Judge(context.Background(), in)
	if err != nil || vd == nil {
		t.Fatalf("judge: %v %v", vd, err)
	}
	evals := 0
	testHookEval = func() { evals++ }
	defer func() { testHookEval = nil }()
	want, err := e.Price(context.Background(), in, nil)
	if err != nil || evals == 0 {
		t.Fatalf("pricing without verdicts: %v, %d evaluations", err, evals)
	}
	evals = 0
	in.Verdicts = vd
	got, err := e.Price(context.Background(), in, nil)
	if err != nil || evals != 0 {
		t.Fatalf("pricing with verdicts that fit: %v, %d evaluations, want none", err, evals)
	}
	if !reflect.DeepEqual(got, want) || got.Earned != 25+6+7+12 {
		t.Fatalf("with verdicts %+v\nwithout %+v", got, want)
	}
	// The member lost the tier and the tag between judging and pricing.
	in.Member = &kopilka.Member{ID: "m"}
	got, err = e.Price(context.Background(), in, nil)
	if err != nil || evals == 0 || got.Earned != 6+12 {
		t.Fatalf("a member changed since: earned %d after %d evaluations (%v), want 18 judged anew", got.Earned, evals, err)
	}
}
