package kopilka_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/pricing"
	"github.com/kopilka/kopilka/storage"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 30, 0, 0, time.UTC) }

// AddMonths keeps the end of the month (issue 12, item 1), as PostgreSQL's
// interval arithmetic does, on every day of a leap and a common year.
func TestAddMonths_KeepsTheEndOfTheMonth(t *testing.T) {
	for _, c := range []struct {
		from time.Time
		n    int
		want time.Time
	}{
		{day(2026, 11, 30), 3, day(2027, 2, 28)},
		{day(2027, 11, 30), 3, day(2028, 2, 29)},
		{day(2026, 8, 31), -6, day(2026, 2, 28)},
		{day(2028, 8, 31), -6, day(2028, 2, 29)},
		{day(2026, 1, 31), 1, day(2026, 2, 28)},
		{day(2028, 1, 31), 1, day(2028, 2, 29)},
		{day(2026, 3, 31), -1, day(2026, 2, 28)},
		{day(2026, 5, 31), 1, day(2026, 6, 30)},
		{day(2026, 12, 31), 2, day(2027, 2, 28)},
		{day(2028, 2, 29), 12, day(2029, 2, 28)},
		{day(2028, 2, 29), -12, day(2027, 2, 28)},
		{day(2026, 11, 29), -9, day(2026, 2, 28)},
		{day(2026, 7, 15), 0, day(2026, 7, 15)},
		{day(2026, 7, 15), 25, day(2028, 8, 15)},
	} {
		if got := kopilka.AddMonths(c.from, c.n); got.Format(time.DateOnly) != c.want.Format(time.DateOnly) {
			t.Errorf("%s %+d months = %s, want %s", c.from.Format(time.DateOnly), c.n, got.Format(time.DateOnly), c.want.Format(time.DateOnly))
		}
	}
	// A day cut to the month's last ends with that day, so that a later day
	// at an earlier hour never comes out first (a hostile review's case).
	a, b := kopilka.AddMonths(time.Date(2026, 1, 30, 10, 0, 0, 0, time.UTC), 1), kopilka.AddMonths(time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC), 1)
	if b.Before(a) || !a.Equal(time.Date(2026, 2, 28, 23, 59, 59, 999_999_000, time.UTC)) {
		t.Errorf("30 Jan 10:00 and 31 Jan 09:00 + 1 month: %s and %s", a, b)
	}
	for _, year := range []int{2026, 2028} {
		for n := -24; n <= 24; n++ {
			prev := time.Time{}
			for d := day(year, 1, 1); d.Year() == year; d = d.AddDate(0, 0, 1) {
				d = time.Date(d.Year(), d.Month(), d.Day(), 23-d.Day()%24, 30, 0, 0, time.UTC) // later days at earlier hours too
				got := kopilka.AddMonths(d, n)
				// The day stays unless the month is shorter, then it is the last day.
				wantMonth := time.Date(year, d.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
				last := wantMonth.AddDate(0, 1, -1).Day()
				hour, minute := d.Hour(), 30
				if d.Day() > last {
					hour, minute = 23, 59
				}
				if got.Year() != wantMonth.Year() || got.Month() != wantMonth.Month() || got.Day() != min(d.Day(), last) ||
					got.Hour() != hour || got.Minute() != minute {
					t.Fatalf("%s %+d months = %s", d.Format(time.DateOnly), n, got)
				}
				// A later day never lands before an earlier one: a lot earned
				// later never expires first.
				if got.Before(prev) {
					t.Fatalf("%s %+d months = %s, before the previous day's %s", d.Format(time.DateOnly), n, got, prev)
				}
				prev = got
			}
		}
	}
}

// Points earned on 30 November with a three-month life expire on 28
// February, not on 2 March after the points of 1 December: a spend takes
// the older lot first; and a nine-month rolling tier window taken on 29
// November 2026 starts on 1 March, so a purchase of 1 March counts.
func TestDates_LotsAndTierWindowsAtTheEndOfTheMonth(t *testing.T) {
	p := kopilka.DefaultProgramme()
	p.ExpiryMonths, p.PendingDays = 3, 0
	a := p.ExpiresAfter(day(2026, 11, 30))
	b := p.ExpiresAfter(day(2026, 12, 1))
	if !a.Equal(time.Date(2027, 2, 28, 23, 59, 59, 999_999_000, time.UTC)) || !b.Equal(day(2027, 3, 1)) || !a.Before(b) {
		t.Fatalf("lots of 30 Nov and 1 Dec expire %s and %s", a, b)
	}
	p.Tiers = kopilka.TierPlan{Window: "rolling", Basis: "spend", Months: 9, Levels: []kopilka.Tier{{Name: "silver", Threshold: 1000}}}
	eng, err := pricing.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := eng.WindowStart(day(2026, 11, 29)); got != "2026-03-01" {
		t.Fatalf("a nine-month window taken on 29 November 2026 starts on %s, want 2026-03-01", got)
	}
	if got := eng.WindowStart(day(2027, 11, 29)); got != "2027-03-01" {
		t.Fatalf("a nine-month window taken on 29 November 2027 starts on %s, want 2027-03-01", got)
	}
	p.Tiers.Months = 6
	eng, _ = pricing.Compile(p)
	for _, c := range [][2]string{{"2026-08-30", "2026-03-01"}, {"2026-08-31", "2026-03-01"}, {"2026-09-01", "2026-03-02"}} {
		at, _ := time.Parse(time.DateOnly, c[0])
		if got := eng.WindowStart(at); got != c[1] {
			t.Fatalf("a six-month window taken on %s starts on %s, want %s", c[0], got, c[1])
		}
	}
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(func(p *kopilka.Programme) {
			p.ExpiryMonths, p.PendingDays = 1, 0
		}))
		m := e.member("+79160000095")
		e.clock.t = time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
		e.credit(m.ID, 100) // expires 28 Feb
		e.clock.t = time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
		e.credit(m.ID, 100)                                      // expires 1 Mar
		e.clock.t = time.Date(2026, 3, 1, 0, 30, 0, 0, time.UTC) // the 31 Jan lot ended with 28 Feb; the 1 Feb lot lives to 1 Mar noon
		if _, err := e.svc.Jobs.RunJobs(e.ctx); err != nil {
			t.Fatal(err)
		}
		b := e.balance(m.ID)
		if b.Available != 100 {
			t.Fatalf("on 1 March at 00:30 the 31 January lot has expired and the 1 February lot not: available %d, want 100", b.Available)
		}
		e.verify()
	})
}

// Points may live days as well as months (issue 12, item 2): earned points
// by the programme's expiry_days, a bonus and an adjustment each by their
// own life in days or months; a life in both is refused, naming the field.
func TestExpiry_InDaysOrMonths(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(func(p *kopilka.Programme) {
			p.ExpiryMonths, p.ExpiryDays, p.PendingDays = 0, 90, 0
			p.Bonuses.Welcome = kopilka.Bonus{Points: 50, ExpiresMonths: 2}
		}))
		t0 := e.clock.Now()
		m := e.member("+79160000096")
		e.confirm(receipt("r1", m.ID, 0, 100_00))
		if _, err := e.svc.Ledger.Adjust(e.ctx, m.ID, kopilka.Adjustment{Points: 10, Reason: "sorry", ExpiresDays: 10}, ""); err != nil {
			t.Fatal(err)
		}
		e.credit(m.ID, 7)
		var got []time.Time
		err := e.svc.DB.View(e.ctx, func(tx *storage.Tx) error {
			lots, err := tx.Lots(e.ctx, m.ID, "")
			for _, l := range lots {
				got = append(got, l.ExpiresAt)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[time.Time]bool{kopilka.AddMonths(t0, 2): true, t0.AddDate(0, 0, 90): true, t0.AddDate(0, 0, 10): true}
		seen := map[time.Time]int{}
		for _, x := range got {
			seen[x.UTC()]++
		}
		if len(got) != 4 || seen[t0.AddDate(0, 0, 90).UTC()] != 2 || seen[kopilka.AddMonths(t0, 2).UTC()] != 1 || seen[t0.AddDate(0, 0, 10).UTC()] != 1 {
			t.Fatalf("lots expire %v; want the bonus in 2 months, the purchase and the plain credit in 90 days, the adjustment in 10 (%v)", got, want)
		}
		for _, bad := range []kopilka.Adjustment{
			{Points: 10, Reason: "x", ExpiresDays: 10, ExpiresMonths: 1},
			{Points: -5, Reason: "x", ExpiresDays: 10},
			{Points: 10, Reason: "x", ExpiresDays: -1},
		} {
			var pe *kopilka.Error
			if _, err := e.svc.Ledger.Adjust(e.ctx, m.ID, bad, ""); !errorAs(err, &pe) || pe.Code != kopilka.EINVALID || !strings.HasPrefix(pe.Fields[0].Field, "expires_") {
				t.Fatalf("adjustment %+v: %v", bad, err)
			}
		}
		var pe *kopilka.Error
		if _, err := e.svc.Programme.UpdateProgramme(e.ctx, func(p *kopilka.Programme) error { p.ExpiryMonths = 3; return nil }); !errorAs(err, &pe) || pe.Fields[0].Field != "expiry_days" {
			t.Fatalf("a life in days and months: %v", err)
		}
		if _, err := e.svc.Programme.UpdateProgramme(e.ctx, func(p *kopilka.Programme) error {
			p.Bonuses.Birthday.ExpiresDays, p.Bonuses.Birthday.ExpiresMonths = 3, 3
			return nil
		}); !errorAs(err, &pe) || pe.Fields[0].Field != "bonuses.birthday.expires_days" {
			t.Fatalf("a bonus's life in days and months: %v", err)
		}
		e.verify()
	})
}
