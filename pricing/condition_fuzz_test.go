package pricing

import (
	"fmt"
	"strings"
	"testing"

	"cel.dev/cel-go/cel"

	"github.com/kopilka/kopilka"
)

// largest are the inputs a condition can meet at their largest: a receipt
// of MaxLines lines of long ids, a member with 50 long tags.
func largest() *vars {
	long := strings.Repeat("x", kopilka.MaxIDLength)
	var list []string
	r := &kopilka.Receipt{ReceiptID: long, StoreID: long, Channel: long}
	for i := range kopilka.MaxLines {
		id := fmt.Sprintf("%0*d", kopilka.MaxIDLength, i)
		list = append(list, id)
		r.Lines = append(r.Lines, kopilka.Line{Line: i + 1, SKU: id, Category: id, Quantity: kopilka.QuantityScale, Price: 100, Amount: 100})
	}
	tags := list[:50]
	v := &vars{member: &kopilka.Member{ID: long, Tier: long, Tags: tags, Categories: list}, receipt: r,
		categories: list, skus: list, weekday: "mon", date: "2026-11-29"}
	v.setLine(&r.Lines[0], true)
	return v
}

// No condition the budget lets in costs more than the budget on the
// largest inputs: the estimate made when a rule is saved is an upper bound.
func FuzzCondition_NoAcceptedConditionRunsPastItsBudget(f *testing.F) {
	for _, s := range []string{
		"line.category == 'coffee'",
		"'vip' in member.tags && receipt.total > 100000",
		"receipt.skus.exists(s, s.startsWith('milk-'))",
		"receipt.categories.filter(c, c == 'bakery').size() >= 2",
		"member.categories.exists(c, c == line.category)",
		"receipt.skus.map(s, s + s).exists(s, s.contains('a'))",
		"member.tags.all(t, receipt.categories.exists(c, c == t))",
		"[1,2,3].all(x, [4,5,6].exists(y, x < y))",
		"receipt.date.startsWith('2026') && receipt.weekday in ['sat', 'sun']",
	} {
		f.Add(s)
	}
	rule, _, err := envs()
	if err != nil {
		f.Fatal(err)
	}
	in := largest()
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 400 {
			return
		}
		if c := compileWith(rule, src); c.err != nil {
			return // refused: nothing to run
		}
		ast, iss := rule.Compile(src)
		if iss != nil && iss.Err() != nil {
			t.Fatalf("accepted, then not compiled: %v", iss.Err())
		}
		prg, err := rule.Program(ast, cel.CostTracking(nil))
		if err != nil {
			t.Fatal(err)
		}
		_, det, _ := prg.Eval(in)
		if det != nil && det.ActualCost() != nil && *det.ActualCost() > MaxConditionCost {
			t.Fatalf("%q was accepted but costs %d on the largest inputs, over %d", src, *det.ActualCost(), MaxConditionCost)
		}
	})
}
