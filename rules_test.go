package kopilka_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/pricing"
)

// The rules engine, kind by kind and mode by mode, priced without a database.
// Points are worth 1.00 (100 minor units); the base earn rate is 5 %.

// lineOf is a receipt line of one unit.
func lineOf(n int, sku, category string, amount int64) kopilka.Line {
	return kopilka.Line{Line: n, SKU: sku, Category: category, Quantity: kopilka.QuantityScale, Price: amount, Amount: amount}
}

// basket: coffee 1,000.00, food 500.00, tobacco 300.00, on Wednesday
// 2026-03-04 at 10:30 Moscow time.
func basket(spend int64) kopilka.Receipt {
	return kopilka.Receipt{ReceiptID: "r1", StoreID: "store-1", MemberID: "m1", SpendPoints: spend,
		OccurredAt: time.Date(2026, 3, 4, 7, 30, 0, 0, time.UTC), Channel: "store",
		Lines: []kopilka.Line{lineOf(1, "beans", "coffee", 100000), lineOf(2, "bread", "food", 50000), lineOf(3, "cigs", "tobacco", 30000)}}
}

func price(t *testing.T, p kopilka.Programme, r kopilka.Receipt, m *kopilka.Member, available int64) kopilka.Quote {
	t.Helper()
	e, err := pricing.Compile(p)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	q, err := e.Price(context.Background(), pricing.PriceInput{Receipt: r, Member: m, Available: available, Now: r.OccurredAt}, nil)
	if err != nil {
		t.Fatalf("price: %v", err)
	}
	return q
}

func withRules(rules ...kopilka.Rule) kopilka.Programme {
	return testProgramme(func(p *kopilka.Programme) { p.TimeZone = "Europe/Moscow"; p.Rules = rules })
}

// ruleGave sums what the rule gave over the quote's lines and awards.
func ruleGave(q kopilka.Quote, rule string) int64 {
	var n int64
	for _, l := range q.Lines {
		for _, rp := range l.Rules {
			if rp.Rule == rule {
				n += rp.Points
			}
		}
	}
	for _, a := range q.Awards {
		if a.Rule == rule {
			n += a.Points
		}
	}
	return n
}

func TestRules_EachKindGivesWhatItSays(t *testing.T) {
	coffee := []string{"coffee"}
	for _, tc := range []struct {
		name string
		rule kopilka.Rule
		want int64 // what the rule gives on basket(0)
	}{
		{"percent of the matched lines", kopilka.Rule{ID: "r", Kind: kopilka.RulePercent, Percent: 1000, Categories: coffee}, 100},
		{"4 points per 1.00", kopilka.Rule{ID: "r", Kind: kopilka.RulePerAmount, Points: 4, Per: 100}, 7200},
		{"1 point per 1,000.00", kopilka.Rule{ID: "r", Kind: kopilka.RulePerAmount, Points: 1, Per: 100000}, 1},
		{"per unit", kopilka.Rule{ID: "r", Kind: kopilka.RulePerUnit, Points: 7, SKUs: []string{"bread"}}, 7},
		{"per receipt", kopilka.Rule{ID: "r", Kind: kopilka.RulePerReceipt, Points: 50}, 50},
		{"threshold reached", kopilka.Rule{ID: "r", Kind: kopilka.RuleThreshold, Points: 500, Threshold: 150000}, 500},
		{"threshold missed", kopilka.Rule{ID: "r", Kind: kopilka.RuleThreshold, Points: 500, Threshold: 500000}, 0},
		{"threshold repeated", kopilka.Rule{ID: "r", Kind: kopilka.RuleThreshold, Points: 100, Threshold: 50000, Repeat: true}, 300},
		{"x3 on coffee adds twice the base", kopilka.Rule{ID: "r", Kind: kopilka.RuleMultiplier, Factor: 3000, Categories: coffee}, 100},
		{"cap per receipt", kopilka.Rule{ID: "r", Kind: kopilka.RulePerAmount, Points: 4, Per: 100, CapPerReceipt: 1000}, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := price(t, withRules(tc.rule), basket(0), nil, 0)
			if got := ruleGave(q, "r"); got != tc.want {
				t.Fatalf("rule gave %d, want %d (quote %+v)", got, tc.want, q)
			}
			if base := ruleGave(q, "base"); base != 90 {
				t.Errorf("base gave %d, want 5%% of 1,800.00 = 90", base)
			}
			if q.Earned != 90+tc.want {
				t.Errorf("earned %d, want %d", q.Earned, 90+tc.want)
			}
		})
	}
}

func TestRules_FiltersOnDayHourStoreChannelAndTimeZone(t *testing.T) {
	// basket() is Wednesday 10:30 in Moscow (07:30 UTC).
	for _, tc := range []struct {
		name string
		edit func(r *kopilka.Rule)
		want bool
	}{
		{"day matches", func(r *kopilka.Rule) { r.Days = []string{"wed"} }, true},
		{"day does not", func(r *kopilka.Rule) { r.Days = []string{"sat", "sun"} }, false},
		{"hours in Moscow time", func(r *kopilka.Rule) { r.Hours = &kopilka.Hours{From: "10:00", To: "11:00"} }, true},
		{"hours in UTC time would match, Moscow does not", func(r *kopilka.Rule) { r.Hours = &kopilka.Hours{From: "07:00", To: "08:00"} }, false},
		{"hours past midnight", func(r *kopilka.Rule) { r.Hours = &kopilka.Hours{From: "22:00", To: "11:00"} }, true},
		{"store", func(r *kopilka.Rule) { r.Stores = []string{"store-1"} }, true},
		{"other store", func(r *kopilka.Rule) { r.Stores = []string{"store-2"} }, false},
		{"channel", func(r *kopilka.Rule) { r.Channels = []string{"online"} }, false},
		{"starts later", func(r *kopilka.Rule) { r.StartsAt = "2026-03-04T10:31" }, false},
		{"started", func(r *kopilka.Rule) { r.StartsAt = "2026-03-04T10:30" }, true},
		{"ended", func(r *kopilka.Rule) { r.EndsAt = "2026-03-04T10:30" }, false},
		{"condition on the receipt", func(r *kopilka.Rule) { r.Condition = `receipt.total >= 180000 && "tobacco" in receipt.categories` }, true},
		{"condition on the line", func(r *kopilka.Rule) { r.Condition = `line.category.startsWith("cof")` }, true},
		{"condition on the member", func(r *kopilka.Rule) { r.Condition = `"vip" in member.tags` }, false},
		{"disabled", func(r *kopilka.Rule) { r.Disabled = true }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := kopilka.Rule{ID: "r", Kind: kopilka.RulePerReceipt, Points: 10}
			tc.edit(&r)
			q := price(t, withRules(r), basket(0), nil, 0)
			if got := ruleGave(q, "r") == 10; got != tc.want {
				t.Fatalf("rule applied = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRules_ConditionsReadTheMember(t *testing.T) {
	r := kopilka.Rule{ID: "r", Kind: kopilka.RulePercent, Percent: 500,
		Condition: `"student" in member.tags && member.age < 25 && line.category == "coffee"`}
	young := &kopilka.Member{Tags: []string{"student"}, BirthDate: "2003-03-05"} // 22 the day before the birthday
	if got := ruleGave(price(t, withRules(r), basket(0), young, 0), "r"); got != 50 {
		t.Errorf("student aged 22 got %d, want 5%% of coffee = 50", got)
	}
	old := &kopilka.Member{Tags: []string{"student"}, BirthDate: "2001-03-04"} // 25 today
	if got := ruleGave(price(t, withRules(r), basket(0), old, 0), "r"); got != 0 {
		t.Errorf("student aged 25 got %d, want 0", got)
	}
}

func TestRules_BadConditionIsRefusedWithItsPosition(t *testing.T) {
	for _, tc := range []struct{ cond, want string }{
		{`line.categroy == "coffee"`, "line 1, column 5: undeclared reference to 'line.categroy' (did you mean 'line.category'?)"},
		{`receipt.total > "100"`, "line 1, column 15"},
		{`line.amount`, "true/false"},
		{"member.age > 18 &&\n  member.tier ==", "line 2"},
	} {
		p := withRules(kopilka.Rule{ID: "r", Kind: kopilka.RulePerReceipt, Points: 1, Condition: tc.cond})
		err := pricing.Validate(p)
		var e *kopilka.Error
		if err == nil || !errorAs(err, &e) || e.Code != kopilka.EINVALID || len(e.Fields) != 1 ||
			e.Fields[0].Field != "rules[0].condition" || !strings.Contains(e.Fields[0].Detail, tc.want) {
			t.Errorf("%q: got %v, want invalid rules[0].condition mentioning %q", tc.cond, err, tc.want)
		}
	}
}

func TestRules_BestOfGroupStopAndPriority(t *testing.T) {
	coffee10 := kopilka.Rule{ID: "coffee10", Kind: kopilka.RulePercent, Percent: 1000, Categories: []string{"coffee"}, Group: "base"}
	q := price(t, withRules(coffee10), basket(0), nil, 0)
	// Coffee earns 10 % instead of 5 %; the other lines keep the base rate.
	if ruleGave(q, "coffee10") != 100 || ruleGave(q, "base") != 40 || q.Earned != 140 {
		t.Fatalf("best of group: coffee10 %d, base %d, earned %d; want 100, 40, 140", ruleGave(q, "coffee10"), ruleGave(q, "base"), q.Earned)
	}
	coffee2 := coffee10
	coffee2.ID, coffee2.Percent = "coffee2", 200
	q = price(t, withRules(coffee2), basket(0), nil, 0)
	if ruleGave(q, "coffee2") != 0 || ruleGave(q, "base") != 90 {
		t.Fatalf("a worse rule in the group must lose: coffee2 %d, base %d", ruleGave(q, "coffee2"), ruleGave(q, "base"))
	}
	// Tobacco earns nothing: a rule of higher priority than the base rate stops the walk.
	noTobacco := kopilka.Rule{ID: "no-tobacco", Kind: kopilka.RulePerReceipt, Points: 0, Categories: []string{"tobacco"}, Priority: 100, Stop: true}
	noTobacco.Kind, noTobacco.Percent = kopilka.RulePercent, 1 // 0.01 %: gives 0 on 300.00
	q = price(t, withRules(noTobacco), basket(0), nil, 0)
	if ruleGave(q, "base") != 75 {
		t.Fatalf("stop: base gave %d, want 5%% of 1,500.00 = 75", ruleGave(q, "base"))
	}
	if len(q.Lines[2].Rules) != 0 || q.Lines[2].Earned != 0 {
		t.Fatalf("the tobacco line earned %+v", q.Lines[2])
	}
	// Without the priority the stop rule comes after the base rate and stops nothing.
	noTobacco.Priority = 0
	if q = price(t, withRules(noTobacco), basket(0), nil, 0); ruleGave(q, "base") != 90 {
		t.Fatalf("a stop after the base rate: base gave %d, want 90", ruleGave(q, "base"))
	}
	// Receipt awards in one group: only the best.
	a := kopilka.Rule{ID: "a", Kind: kopilka.RulePerReceipt, Points: 30, Group: "gift"}
	b := kopilka.Rule{ID: "b", Kind: kopilka.RuleThreshold, Points: 80, Threshold: 100000, Group: "gift"}
	q = price(t, withRules(a, b), basket(0), nil, 0)
	if ruleGave(q, "a") != 0 || ruleGave(q, "b") != 80 {
		t.Fatalf("best award of group: a %d, b %d; want 0, 80", ruleGave(q, "a"), ruleGave(q, "b"))
	}
}

func TestRules_QuoteExplainsEveryLine(t *testing.T) {
	x3 := kopilka.Rule{ID: "x3", Kind: kopilka.RuleMultiplier, Factor: 3000, Categories: []string{"coffee"}}
	q := price(t, withRules(x3), basket(0), nil, 0)
	got := q.Lines[0].Rules
	if len(got) != 2 || got[0] != (kopilka.RulePoints{Rule: "base", Points: 50}) || got[1] != (kopilka.RulePoints{Rule: "x3", Points: 100}) {
		t.Fatalf("coffee line explained as %+v, want base 50 then x3 100", got)
	}
	var sum int64
	for _, l := range q.Lines {
		var fromRules int64
		for _, rp := range l.Rules {
			fromRules += rp.Points
		}
		if fromRules != l.Earned {
			t.Errorf("line %d earned %d but its rules say %d", l.Line, l.Earned, fromRules)
		}
		sum += l.Earned
	}
	if sum != q.Earned {
		t.Errorf("lines earned %d, the quote %d", sum, q.Earned)
	}
}

func TestSpending_ExcludedCategoriesSharesTiersAndMinimumBalance(t *testing.T) {
	p := testProgramme(func(p *kopilka.Programme) {
		p.MaxSpend = 5000 // 50 %
		p.Spending = kopilka.SpendRules{ExcludedCategories: []string{"tobacco"},
			Categories: []kopilka.CategoryShare{{Category: "coffee", MaxSpend: 1000}}}
		p.Tiers = kopilka.TierPlan{Basis: "spend", Window: "rolling", Months: 12, Levels: []kopilka.Tier{{Name: "gold", Threshold: 1, MaxSpend: ptrPercent(9000)}}}
	})
	// 50 % of 1,800.00 = 900; lines allow coffee 10 % = 100 and food 500, tobacco 0: 600.
	q := price(t, p, basket(0), nil, 10_000)
	if q.MaxSpend != 600 || q.Lines[2].SpendCap != 0 || q.Lines[0].SpendCap != 100 || q.Lines[2].SpendNote == "" {
		t.Fatalf("max %d, caps %d/%d/%d (%q)", q.MaxSpend, q.Lines[0].SpendCap, q.Lines[1].SpendCap, q.Lines[2].SpendCap, q.Lines[2].SpendNote)
	}
	if !strings.Contains(strings.Join(q.SpendLimit.Reasons, ";"), "tobacco") {
		t.Errorf("reasons %q do not name tobacco", q.SpendLimit.Reasons)
	}
	// Asking for more is refused with the reasons, or cut with spend_mode up_to.
	_, err := pricing.PriceReceipt(p, basket(700), 10_000)
	var e *kopilka.Error
	if !errorAs(err, &e) || e.Code != kopilka.ESPENDLIMIT || e.Extra["max_spend"] != int64(600) {
		t.Fatalf("700 points: %v", err)
	}
	r := basket(700)
	r.SpendMode = kopilka.SpendUpTo
	q = price(t, p, r, nil, 10_000)
	if q.Spent != 600 || !q.SpendLimit.Cut || q.SpendLimit.Requested != 700 || q.Lines[2].Spent != 0 || q.Lines[0].Spent > 100 {
		t.Fatalf("up_to: spent %d, limit %+v, lines %+v", q.Spent, q.SpendLimit, q.Lines)
	}
	// Points never make a line's price negative.
	for _, l := range q.Lines {
		if l.Paid < 0 {
			t.Fatalf("line %d paid %d", l.Line, l.Paid)
		}
	}
	// A gold member may pay 90 % of the receipt; the lines still cap it.
	q = price(t, p, basket(0), &kopilka.Member{Tier: "gold"}, 10_000)
	if q.MaxSpend != 600 || !strings.Contains(strings.Join(q.SpendLimit.Reasons, ";"), "lines") {
		t.Fatalf("gold: max %d %q", q.MaxSpend, q.SpendLimit.Reasons)
	}
	p.Spending.ExcludedCategories, p.Spending.Categories = nil, nil
	if q = price(t, p, basket(0), &kopilka.Member{Tier: "gold"}, 10_000); q.MaxSpend != 1620 {
		t.Fatalf("gold without line limits: max %d, want 90%% of 1,800.00 = 1620", q.MaxSpend)
	}
	// Below the minimum balance nothing may be spent.
	p.Spending.MinBalance = 500
	q = price(t, p, basket(0), nil, 499)
	if q.MaxSpend != 0 || !strings.Contains(q.SpendLimit.Reasons[0], "at least 500") {
		t.Fatalf("min balance: max %d %q", q.MaxSpend, q.SpendLimit.Reasons)
	}
}

func TestTiers_BenefitMultipliesEarnings(t *testing.T) {
	p := testProgramme(func(p *kopilka.Programme) {
		p.Tiers = kopilka.TierPlan{Basis: "spend", Window: "rolling", Months: 12,
			Levels: []kopilka.Tier{{Name: "silver", Threshold: 100}, {Name: "gold", Threshold: 200, EarnMultiplier: 1500}}}
	})
	if q := price(t, p, basket(0), &kopilka.Member{Tier: "silver"}, 0); q.Earned != 90 {
		t.Errorf("silver earned %d, want 90", q.Earned)
	}
	q := price(t, p, basket(0), &kopilka.Member{Tier: "gold"}, 0)
	if q.Earned != 135 || ruleGave(q, "tier:gold") != 45 || q.Tier != "gold" {
		t.Errorf("gold earned %d (tier rule %d), want 135 with 45 from tier:gold", q.Earned, ruleGave(q, "tier:gold"))
	}
}

func TestRules_InvalidRulesAreRefusedFieldByField(t *testing.T) {
	p := withRules(
		kopilka.Rule{ID: "a", Kind: "bogus"},
		kopilka.Rule{ID: "a", Kind: kopilka.RulePercent, Percent: 0, Days: []string{"monday"}, Hours: &kopilka.Hours{From: "25:00", To: "10:00"}},
		kopilka.Rule{ID: "base", Kind: kopilka.RuleMultiplier, Factor: 1000, CapPerMember: &kopilka.MemberCap{Points: 0, Period: "fortnight"}},
	)
	p.Campaigns = []kopilka.Campaign{{ID: "c", StartsAt: "2026-12-02", EndsAt: "2026-12-01", Rules: []kopilka.Rule{{ID: "c1", Kind: kopilka.RulePerReceipt, Points: 1}}, Segment: "member.tags > 1"}}
	err := pricing.Validate(p)
	var e *kopilka.Error
	if !errorAs(err, &e) {
		t.Fatalf("got %v", err)
	}
	fields := map[string]bool{}
	for _, f := range e.Fields {
		fields[f.Field] = true
	}
	for _, want := range []string{"rules[0].kind", "rules[1].id", "rules[1].percent", "rules[1].days[0]", "rules[1].hours.from",
		"rules[2].id", "rules[2].factor", "rules[2].cap_per_member.points", "rules[2].cap_per_member.period"} {
		if !fields[want] {
			t.Errorf("no problem for %s in %v", want, e.Fields)
		}
	}
	// Campaign times and segments are checked once the fields are sound.
	p.Rules = nil
	err = pricing.Validate(p)
	if !errorAs(err, &e) || !hasField(e, "campaigns[0].ends_at") || !hasField(e, "campaigns[0].segment") {
		t.Fatalf("campaign: %v", err)
	}
}

func hasField(e *kopilka.Error, field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func ptrPercent(p kopilka.Percent) *kopilka.Percent { return &p }

func errorAs(err error, e **kopilka.Error) bool { return errors.As(err, e) }
