package kopilka_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/jobs"
	"github.com/kopilka/kopilka/programme"
)

// The rules through the service and a real database: tiers over time,
// campaigns in the programme's time zone, budgets under concurrency, event
// bonuses given once, refunds of rule-based points.

func (e *env) confirm(r kopilka.Receipt) kopilka.Quote {
	e.t.Helper()
	q, err := e.svc.Purchases.Confirm(e.ctx, r)
	if err != nil {
		e.t.Fatalf("confirm %s: %v", r.ReceiptID, err)
	}
	return q
}

func (e *env) jobs() jobs.JobReport {
	e.t.Helper()
	rep, err := e.svc.Jobs.RunJobs(e.ctx)
	if err != nil {
		e.t.Fatalf("jobs: %v", err)
	}
	return rep
}

func (e *env) memberNow(id string) kopilka.Member {
	e.t.Helper()
	m, err := e.svc.Members.Member(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func moscow(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestTiers_UpgradeAtOnceDowngradeAtRequalification(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) {
			p.PendingDays = 0
			p.Tiers = kopilka.TierPlan{Basis: "spend", Window: "rolling", Months: 12, Levels: []kopilka.Tier{
				{Name: "silver", Threshold: 1000_00}, {Name: "gold", Threshold: 5000_00, EarnMultiplier: 2000}}}
		}))
		m := e.member("+79160000001")
		e.confirm(receipt("a", m.ID, 0, 3000_00))
		if got := e.memberNow(m.ID); got.Tier != "silver" {
			t.Fatalf("after 3,000.00 tier %q, want silver", got.Tier)
		}
		tp, err := e.svc.Programme.Tier(e.ctx, m.ID)
		if err != nil || tp.Qualifying != 3000_00 || tp.Next != "gold" || tp.Needed != 2000_00 {
			t.Fatalf("progress %+v, %v", tp, err)
		}
		e.clock.AddDate(0, 1, 0)
		q := e.confirm(receipt("b", m.ID, 0, 2500_00)) // crosses 5,000.00: gold from now on
		if q.Tier != "silver" || q.Earned != 125 {
			t.Fatalf("the crossing purchase is priced at %q earning %d, want silver 125", q.Tier, q.Earned)
		}
		gold := e.memberNow(m.ID)
		if gold.Tier != "gold" || gold.TierReviewAt == nil || !gold.TierReviewAt.Equal(e.clock.Now().AddDate(1, 0, 0)) {
			t.Fatalf("tier %q review %v, want gold reviewed a year on", gold.Tier, gold.TierReviewAt)
		}
		if q := e.confirm(receipt("c", m.ID, 0, 100_00)); q.Earned != 10 || q.Tier != "gold" {
			t.Fatalf("gold x2 earned %d at %q, want 10", q.Earned, q.Tier)
		}
		// The year passes with 1,200.00 of spend: at the review the member is silver.
		e.clock.AddDate(0, 6, 0)
		e.confirm(receipt("d", m.ID, 0, 1100_00))
		e.clock.AddDate(0, 5, 30) // 2027-03-31, the day before the review
		if rep := e.jobs(); rep.TiersReviewed != 0 {
			t.Fatalf("reviewed %d before the date", rep.TiersReviewed)
		}
		e.clock.AddDate(0, 0, 1)
		if rep := e.jobs(); rep.TiersReviewed != 1 {
			t.Fatalf("reviewed %d at the date, want 1", rep.TiersReviewed)
		}
		if got := e.memberNow(m.ID); got.Tier != "silver" || got.TierReviewAt == nil {
			t.Fatalf("after review tier %q review %v, want silver", got.Tier, got.TierReviewAt)
		}
		// A year without purchases: no tier, no more reviews.
		e.clock.AddDate(1, 0, 1)
		e.jobs()
		if got := e.memberNow(m.ID); got.Tier != "" || got.TierReviewAt != nil {
			t.Fatalf("after an empty year tier %q review %v, want none", got.Tier, got.TierReviewAt)
		}
		e.verify()
	})
}

func TestTiers_RefundsCountAgainstTheWindow(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) {
			p.Tiers = kopilka.TierPlan{Basis: "spend", Window: "calendar_year", Levels: []kopilka.Tier{{Name: "gold", Threshold: 1000_00}}}
		}))
		m := e.member("+79160000002")
		e.confirm(receipt("a", m.ID, 0, 600_00, 300_00))
		if _, err := e.svc.Purchases.Refund(e.ctx, "", "a", kopilka.RefundRequest{RefundID: "r", Lines: []kopilka.RefundLine{{Line: 1}}}); err != nil {
			t.Fatal(err)
		}
		e.confirm(receipt("b", m.ID, 0, 600_00)) // 300 + 600 < 1,000
		if got := e.memberNow(m.ID); got.Tier != "" {
			t.Fatalf("tier %q: a refunded purchase still counted", got.Tier)
		}
		e.confirm(receipt("c", m.ID, 0, 100_00))
		got := e.memberNow(m.ID)
		review := time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
		if got.Tier != "gold" || !got.TierReviewAt.Equal(review) {
			t.Fatalf("tier %q review %v, want gold until %v", got.Tier, got.TierReviewAt, review)
		}
	})
}

func TestCampaign_StartsAndEndsMidDayInTheProgrammeTimeZone(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) {
			p.TimeZone = "Europe/Moscow"
			p.Campaigns = []kopilka.Campaign{{ID: "lunch", Enabled: true, StartsAt: "2026-03-04T12:00", EndsAt: "2026-03-04T18:00",
				Rules: []kopilka.Rule{{ID: "lunch-bonus", Kind: kopilka.RulePerReceipt, Points: 40}}}}
		}))
		m := e.member("+79160000003")
		loc := moscow(t)
		for i, tc := range []struct {
			at   time.Time
			want int64
		}{
			{time.Date(2026, 3, 4, 11, 59, 59, 0, loc), 0},
			{time.Date(2026, 3, 4, 12, 0, 0, 0, loc), 40},
			{time.Date(2026, 3, 4, 17, 59, 59, 0, loc), 40},
			{time.Date(2026, 3, 4, 18, 0, 0, 0, loc), 0},
			{time.Date(2026, 3, 4, 12, 30, 0, 0, time.UTC), 40}, // 15:30 in Moscow
			{time.Date(2026, 3, 4, 16, 0, 0, 0, time.UTC), 0},   // 19:00 in Moscow
		} {
			e.clock.t = tc.at.Add(time.Minute)
			r := receipt(fmt.Sprint("r", i), m.ID, 0, 100_00)
			r.OccurredAt = tc.at
			q := e.confirm(r)
			if got := ruleGave(q, "lunch-bonus"); got != tc.want {
				t.Errorf("at %v the campaign gave %d, want %d", tc.at, got, tc.want)
			}
		}
	})
}

func TestCampaign_BudgetIsNeverOverspentUnderConcurrentPurchases(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		const budget, each, tills = 1000, 30, 48
		e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) {
			p.Campaigns = []kopilka.Campaign{{ID: "promo", Enabled: true, StartsAt: "2026-01-01", EndsAt: "2027-01-01", Budget: budget,
				Rules: []kopilka.Rule{{ID: "promo-bonus", Kind: kopilka.RulePerReceipt, Points: each}}}}
		}))
		members := make([]kopilka.Member, 12)
		for i := range members {
			members[i] = e.member(fmt.Sprintf("+7916100%04d", i))
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var given int64
		for i := range tills {
			wg.Add(1)
			go func() {
				defer wg.Done()
				q, err := e.svc.Purchases.Confirm(e.ctx, receipt(fmt.Sprint("p", i), members[i%len(members)].ID, 0, 200_00))
				if err != nil {
					t.Errorf("confirm %d: %v", i, err)
					return
				}
				mu.Lock()
				given += ruleGave(q, "promo-bonus")
				mu.Unlock()
			}()
		}
		wg.Wait()
		if given > budget {
			t.Fatalf("the campaign gave %d points in all, over its budget %d", given, budget)
		}
		// A purchase that lost a race for a slice may get less than it asked
		// while other slices still had room; purchases after the race use up
		// the rest, to the point, and then nothing more is given.
		for i := 0; given < budget && i < 100; i++ {
			given += ruleGave(e.confirm(receipt(fmt.Sprint("after", i), members[i%len(members)].ID, 0, 200_00)), "promo-bonus")
		}
		if given != budget {
			t.Fatalf("the campaign gave %d points in all, want exactly its budget %d", given, budget)
		}
		if q := e.confirm(receipt("late", members[0].ID, 0, 200_00)); ruleGave(q, "promo-bonus") != 0 {
			t.Fatal("a spent budget still gave points")
		}
		e.verify()
	})
}

func TestRules_CapPerMemberPerPeriod(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) {
			p.Rules = []kopilka.Rule{{ID: "visit", Kind: kopilka.RulePerReceipt, Points: 100, CapPerMember: &kopilka.MemberCap{Points: 250, Period: "month"}}}
		}))
		m := e.member("+79160000004")
		var got []int64
		for i := range 4 {
			got = append(got, ruleGave(e.confirm(receipt(fmt.Sprint("v", i), m.ID, 0, 10_00)), "visit"))
		}
		e.clock.AddDate(0, 1, 0)
		got = append(got, ruleGave(e.confirm(receipt("next-month", m.ID, 0, 10_00)), "visit"))
		if fmt.Sprint(got) != "[100 100 50 0 100]" {
			t.Fatalf("visit bonuses %v, want [100 100 50 0 100]", got)
		}
	})
}

func TestRefund_TakesBackRuleBasedPoints(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) {
			p.Rules = []kopilka.Rule{
				{ID: "big-basket", Kind: kopilka.RuleThreshold, Points: 500, Threshold: 5000_00},
				{ID: "food-x3", Kind: kopilka.RuleMultiplier, Factor: 3000, Categories: []string{"food"}},
				{ID: "visit", Kind: kopilka.RulePerReceipt, Points: 20, SKUs: []string{"sku-3"}},
			}
		}))
		m := e.member("+79160000005")
		q := e.confirm(receipt("big", m.ID, 0, 3000_00, 2000_00, 1000_00)) // 6,000.00, all food
		// Base 5 % = 300, x3 adds 600, the threshold 500, the visit to line 3 20.
		if q.Earned != 1420 || ruleGave(q, "big-basket") != 500 || ruleGave(q, "food-x3") != 600 || ruleGave(q, "visit") != 20 {
			t.Fatalf("earned %d (threshold %d, x3 %d), want 1420", q.Earned, ruleGave(q, "big-basket"), ruleGave(q, "food-x3"))
		}
		// Returning the 1,000.00 line keeps 5,000.00: the threshold holds; the
		// line's 150 go, and the visit bonus, which counted only that line.
		res, err := e.svc.Purchases.Refund(e.ctx, "", "big", kopilka.RefundRequest{RefundID: "r1", Lines: []kopilka.RefundLine{{Line: 3}}})
		if err != nil || res.EarnedReversed != 170 || res.AwardsReversed != 20 {
			t.Fatalf("first refund %+v, %v; want 150 + the 20 award back", res, err)
		}
		// Returning half of the 2,000.00 line drops below 5,000.00: the award goes whole.
		half := kopilka.Quantity(500)
		res, err = e.svc.Purchases.Refund(e.ctx, "", "big", kopilka.RefundRequest{RefundID: "r2", Lines: []kopilka.RefundLine{{Line: 2, Quantity: &half}}})
		if err != nil || res.AwardsReversed != 500 || res.EarnedReversed != 500+150 {
			t.Fatalf("second refund %+v, %v; want the 500 award and 150", res, err)
		}
		// The rest: the member is back where they started.
		if _, err := e.svc.Purchases.Refund(e.ctx, "", "big", kopilka.RefundRequest{RefundID: "r3"}); err != nil {
			t.Fatal(err)
		}
		if b := e.balance(m.ID); b.Available != 0 || b.Pending != 0 {
			t.Fatalf("after a full refund balance %+v", b)
		}
		e.verify()
	})
}

func TestBonuses_WelcomeProfileBirthdayGivenOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) {
			p.TimeZone = "Europe/Moscow"
			p.Bonuses = kopilka.Bonuses{Welcome: kopilka.Bonus{Points: 100}, Profile: kopilka.Bonus{Points: 50},
				Birthday: kopilka.BirthdayBonus{Bonus: kopilka.Bonus{Points: 300, ExpiresDays: 30}, DaysBefore: 3, DaysAfter: 3}}
		}))
		// The clock starts on 2026-03-01 09:00 UTC.
		m, err := e.svc.Members.CreateMember(e.ctx, kopilka.Member{Phone: "+79160000006", BirthDate: "1990-03-08"})
		if err != nil {
			t.Fatal(err)
		}
		if b := e.balance(m.ID); b.Available != 100 {
			t.Fatalf("welcome: %+v", b)
		}
		yes := true
		email := "a@example.com"
		for range 2 {
			if _, err := e.svc.Members.UpdateMember(e.ctx, m.ID, kopilka.MemberPatch{Email: &email, EmailVerified: &yes, PhoneVerified: &yes}); err != nil {
				t.Fatal(err)
			}
		}
		if b := e.balance(m.ID); b.Available != 150 {
			t.Fatalf("profile bonus given other than once: %+v", b)
		}
		var given []int
		for day := 1; day <= 14; day++ { // 2026-03-02 … 03-15
			e.clock.AddDate(0, 0, 1)
			given = append(given, e.jobs().Birthdays)
			e.jobs()
		}
		// Given on 03-05 (three days before the 8th) and not again.
		if fmt.Sprint(given) != "[0 0 0 1 0 0 0 0 0 0 0 0 0 0]" {
			t.Fatalf("birthday bonuses by day %v", given)
		}
		if b := e.balance(m.ID); b.Available != 450 {
			t.Fatalf("balance %+v, want 450", b)
		}
		// Next year again, once.
		e.clock.AddDate(1, 0, -10)
		if e.jobs().Birthdays != 1 || e.jobs().Birthdays != 0 {
			t.Fatal("the next year's birthday bonus was not given exactly once")
		}
		e.verify()
	})
}

func TestBonuses_ReferralGivenToBothSidesOnceAfterTheFirstPurchase(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) {
			p.PendingDays = 0
			p.Bonuses.Referral = kopilka.ReferralBonus{ReferrerPoints: 200, RefereePoints: 100}
		}))
		a := e.member("+79160000007")
		b, err := e.svc.Members.CreateMember(e.ctx, kopilka.Member{Phone: "+79160000008", ReferredBy: a.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Members.CreateMember(e.ctx, kopilka.Member{Phone: "+79160000009", ReferredBy: "nobody"}); kopilka.ErrorCode(err) != kopilka.EINVALID {
			t.Fatalf("an unknown referrer: %v", err)
		}
		if e.balance(a.ID).Available != 0 || e.balance(b.ID).Available != 0 {
			t.Fatal("a referral bonus before any purchase")
		}
		var wg sync.WaitGroup
		for i := range 8 { // the first purchase and its replays at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.svc.Purchases.Confirm(e.ctx, receipt("first", b.ID, 0, 100_00)); err != nil {
					t.Errorf("replay %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if q, _ := e.svc.Purchases.Purchase(e.ctx, "", "first"); q.Balance.Available != 100+5 {
			t.Errorf("the first purchase's confirmation shows %d available, want the 100 bonus and 5 earned", q.Balance.Available)
		}
		e.confirm(receipt("second", b.ID, 0, 100_00))
		if got := e.balance(a.ID).Available; got != 200 {
			t.Fatalf("referrer has %d, want 200", got)
		}
		if got := e.balance(b.ID).Available; got != 100+5+5 {
			t.Fatalf("referee has %d, want 100 + 2 × 5 earned", got)
		}
		e.verify()
	})
}

func TestPersonalCategories_ChosenOncePerPeriodRaiseTheRate(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) {
			p.Personal = kopilka.PersonalCategories{Offered: []string{"food", "books"}, Picks: 1, Percent: 500, ChangeEvery: "month"}
		}))
		m := e.member("+79160000010")
		if q := e.confirm(receipt("before", m.ID, 0, 100_00)); q.Earned != 5 {
			t.Fatalf("before choosing earned %d", q.Earned)
		}
		if _, err := e.svc.Programme.SetCategories(e.ctx, m.ID, []string{"food", "books"}); kopilka.ErrorCode(err) != kopilka.EINVALID {
			t.Fatalf("two picks of one: %v", err)
		}
		if _, err := e.svc.Programme.SetCategories(e.ctx, m.ID, []string{"wine"}); kopilka.ErrorCode(err) != kopilka.EINVALID {
			t.Fatalf("a category not offered: %v", err)
		}
		if _, err := e.svc.Programme.SetCategories(e.ctx, m.ID, []string{"food"}); err != nil {
			t.Fatal(err)
		}
		if q := e.confirm(receipt("after", m.ID, 0, 100_00)); q.Earned != 10 || ruleGave(q, "personal") != 5 {
			t.Fatalf("after choosing food earned %d", q.Earned)
		}
		if _, err := e.svc.Programme.SetCategories(e.ctx, m.ID, []string{"books"}); kopilka.ErrorCode(err) != kopilka.ECONFLICT {
			t.Fatalf("a second change in the month: %v", err)
		}
		e.clock.AddDate(0, 1, 0)
		if _, err := e.svc.Programme.SetCategories(e.ctx, m.ID, []string{"books"}); err != nil {
			t.Fatalf("a change the next month: %v", err)
		}
		if q := e.confirm(receipt("books", m.ID, 0, 100_00)); q.Earned != 5 {
			t.Fatalf("food after switching to books earned %d", q.Earned)
		}
	})
}

func TestSimulation_ReportsWhatACampaignWouldHaveCost(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(nil))
		m1, m2 := e.member("+79160000011"), e.member("+79160000012")
		e.confirm(receipt("old", m1.ID, 0, 1000_00)) // 40 days before the simulation
		e.clock.AddDate(0, 0, 20)
		coffee := receipt("c1", m1.ID, 0, 200_00, 100_00)
		coffee.Lines[0].Category = "coffee"
		e.confirm(coffee)
		e.confirm(receipt("f1", m2.ID, 0, 300_00))
		e.clock.AddDate(0, 0, 20)
		sim, err := e.svc.Programme.Simulate(e.ctx, programme.Proposal{Days: 30, Campaign: &kopilka.Campaign{ID: "coffee-x3", StartsAt: "2026-01-01", EndsAt: "2027-01-01",
			Budget: 15, Rules: []kopilka.Rule{{ID: "coffee-x3", Kind: kopilka.RuleMultiplier, Factor: 3000, Categories: []string{"coffee"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		// Coffee earned 10; x3 would add 20, but the budget stops at 15.
		if sim.Receipts != 2 || sim.Members != 2 || sim.CurrentPoints != 30 || sim.ExtraPoints != 15 || sim.ExtraCost != 15_00 ||
			sim.MembersAffected != 1 || sim.ReceiptsAffected != 1 {
			t.Fatalf("simulation %+v", sim)
		}
		// Nothing was switched on.
		if p, _ := e.svc.Programme.Programme(e.ctx); len(p.Campaigns) != 0 {
			t.Fatal("the simulation stored the campaign")
		}
	})
}

func TestRules_ASpentRuleDoesNotWinItsGroup(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) {
			p.Rules = []kopilka.Rule{{ID: "promo", Kind: kopilka.RulePercent, Percent: 1000, Group: "base", Budget: 10}}
		}))
		m := e.member("+79160000013")
		first := e.confirm(receipt("1", m.ID, 0, 1000_00))
		if ruleGave(first, "promo") != 10 || ruleGave(first, "base") != 0 {
			t.Fatalf("first: promo %d base %d; want the budget's 10 and no base", ruleGave(first, "promo"), ruleGave(first, "base"))
		}
		// The budget is spent: the base rate earns the line again.
		second := e.confirm(receipt("2", m.ID, 0, 1000_00))
		if ruleGave(second, "promo") != 0 || ruleGave(second, "base") != 50 {
			t.Fatalf("second: promo %d base %d; want 0 and the base 50", ruleGave(second, "promo"), ruleGave(second, "base"))
		}
	})
}

func TestSpending_CardDailyLimit(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) {
			p.MaxSpend = 100 * kopilka.PercentScale
			p.Spending.CardDailyLimit = 300
		}))
		m := e.member("+79160000014")
		e.credit(m.ID, 2000)
		card := m.Cards[0].Number
		byCard := func(id string, spend int64) kopilka.Receipt {
			r := receipt(id, "", spend, 1000_00)
			r.CardNumber = card
			return r
		}
		e.confirm(byCard("a", 200))
		_, err := e.svc.Purchases.Confirm(e.ctx, byCard("b", 200))
		var pe *kopilka.Error
		if !errorAs(err, &pe) || pe.Code != kopilka.ESPENDLIMIT || pe.Extra["max_spend"] != int64(100) || !strings.Contains(pe.Message, "member may spend 100 more points today") {
			t.Fatalf("over the card's day: %v", err)
		}
		e.confirm(byCard("c", 100))
		// Naming the member instead of the card, or another card of the
		// member's, is no way round the limit: it is the member's.
		e.confirm(receipt("d", m.ID, 0, 100_00))
		if _, err := e.svc.Purchases.Confirm(e.ctx, receipt("d2", m.ID, 100, 1000_00)); kopilka.ErrorCode(err) != kopilka.ESPENDLIMIT {
			t.Fatalf("a spend naming the member past the day's limit: %v", err)
		}
		other, err := e.svc.Members.IssueCard(e.ctx, m.ID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		byOther := byCard("d3", 100)
		byOther.CardNumber = other.Number
		if _, err := e.svc.Purchases.Confirm(e.ctx, byOther); kopilka.ErrorCode(err) != kopilka.ESPENDLIMIT {
			t.Fatalf("a spend with the member's other card past the day's limit: %v", err)
		}
		e.clock.AddDate(0, 0, 1)
		e.confirm(byCard("e", 300))
		if b := e.balance(m.ID); b.Available != 2000-600 {
			t.Fatalf("balance %+v, want 1400 available", b)
		}
	})
}

func TestRules_WinBackReadsTheDaysSinceTheLastPurchase(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) {
			p.Rules = []kopilka.Rule{{ID: "win-back", Kind: kopilka.RulePerReceipt, Points: 70, Condition: "member.days_since_last_purchase >= 30"}}
		}))
		m := e.member("+79160000015")
		var got []int64
		for _, days := range []int{0, 10, 40} {
			e.clock.AddDate(0, 0, days)
			got = append(got, ruleGave(e.confirm(receipt(fmt.Sprint("w", days), m.ID, 0, 100_00)), "win-back"))
		}
		if fmt.Sprint(got) != "[0 0 70]" {
			t.Fatalf("win-back bonuses %v, want [0 0 70]: none at the first purchase, none after 10 days, 70 after 40", got)
		}
	})
}
