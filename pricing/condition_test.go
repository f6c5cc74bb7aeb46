package pricing_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/pricing"
)

func withCondition(cond string) kopilka.Programme {
	p := kopilka.DefaultProgramme()
	p.Rules = []kopilka.Rule{{ID: "r", Kind: kopilka.RulePerReceipt, Points: 1, Condition: cond}}
	return p
}

// A condition whose worst case is over the budget is refused when it is
// saved, with the position and the same kind of message as other condition
// errors; ordinary conditions, loops over a receipt's lists included, pass.
func TestCompile_AConditionOverTheCostBudgetIsRefused(t *testing.T) {
	ten := "[1,2,3,4,5,6,7,8,9,10]"
	nested := "true"
	for i := range 8 {
		nested = ten + ".all(x" + string(rune('a'+i)) + ", " + nested + ")"
	}
	for _, cond := range []string{
		nested,
		ten + ".map(a, " + ten + ".map(b, " + ten + ".map(c, " + ten + ".map(d, " + ten + ".map(e, [1,2,3]))))).size() > 0",
		"receipt.skus.all(a, receipt.skus.all(b, a != b || a == b))",
	} {
		_, err := pricing.Compile(withCondition(cond))
		var e *kopilka.Error
		if !errorsAs(err, &e) || e.Code != kopilka.EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != "rules[0].condition" ||
			!strings.Contains(e.Fields[0].Detail, "line 1, column 1: may take up to") {
			t.Errorf("%.60s…: %v", cond, err)
		}
	}
	for _, cond := range []string{
		"line.category == 'coffee'",
		"'vip' in member.tags && receipt.total > 100000",
		"receipt.skus.exists(s, s.startsWith('milk-'))",
		"receipt.categories.filter(c, c == 'bakery').size() >= 2",
	} {
		if _, err := pricing.Compile(withCondition(cond)); err != nil {
			t.Errorf("%s: %v", cond, err)
		}
	}
}

// A condition that loops runs with the request's context: a request that
// has ended stops the pricing, which says so.
func TestPrice_StopsWhenTheRequestEnds(t *testing.T) {
	e, err := pricing.Compile(withCondition("receipt.skus.exists(s, s.startsWith('milk-'))"))
	if err != nil {
		t.Fatal(err)
	}
	r := kopilka.Receipt{ReceiptID: "r", StoreID: "s", MemberID: "m", OccurredAt: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC),
		Lines: []kopilka.Line{{Line: 1, SKU: "milk-1", Quantity: kopilka.QuantityScale, Price: 100, Amount: 100}}}
	in := pricing.PriceInput{Receipt: r, Member: &kopilka.Member{ID: "m"}, Now: r.OccurredAt}
	if q, err := e.Price(context.Background(), in, nil); err != nil || q.Earned == 0 {
		t.Fatalf("a live request: %+v %v", q, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Price(ctx, in, nil); err == nil {
		t.Fatal("an ended request was priced")
	}
}

// One limit counts every rule of a programme: campaigns' rules do not
// escape it.
func TestCompile_CampaignRulesCountTowardTheRuleLimit(t *testing.T) {
	p := kopilka.DefaultProgramme()
	for i := range kopilka.MaxRules / 2 {
		p.Rules = append(p.Rules, kopilka.Rule{ID: fmt.Sprint("r", i), Kind: kopilka.RulePerReceipt, Points: 1})
	}
	c := kopilka.Campaign{ID: "c", StartsAt: "2026-01-01", EndsAt: "2027-01-01"}
	for i := range kopilka.MaxRules/2 + 1 {
		c.Rules = append(c.Rules, kopilka.Rule{ID: fmt.Sprint("c", i), Kind: kopilka.RulePerReceipt, Points: 1})
	}
	p.Campaigns = []kopilka.Campaign{c}
	_, err := pricing.Compile(p)
	var e *kopilka.Error
	if !errorsAs(err, &e) || len(e.Fields) == 0 || e.Fields[0].Field != "campaigns" || !strings.Contains(e.Fields[0].Detail, "2001") {
		t.Fatalf("2001 rules in all: %v", err)
	}
	p.Campaigns[0].Rules = p.Campaigns[0].Rules[1:]
	if _, err := pricing.Compile(p); err != nil {
		t.Fatalf("2000 rules in all: %v", err)
	}
}
