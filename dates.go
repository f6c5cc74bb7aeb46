package kopilka

import "time"

// AddMonths returns t moved by n months (n may be negative) with the end of
// the month kept: the day of the month stays, unless the target month is
// shorter, when it becomes that month's last day. 30 November + 3 months is
// 28 February (29 in a leap year), 31 August − 6 months is the last day of
// February. This is PostgreSQL's interval arithmetic ('2026-11-30'::date +
// interval '3 months'), where Go's AddDate would overflow into March (2
// March). The time of day and the location stay, except that a day cut to
// the month's last ends at that day's last microsecond: so AddMonths never
// decreases as t increases (30 Jan 10:00 and 31 Jan 09:00 + 1 month are
// both 28 Feb 23:59:59.999999), and of two lots of the same life the later
// never expires first.
func AddMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		return time.Date(first.Year(), first.Month(), last, 23, 59, 59, 999_999_000, t.Location())
	}
	hh, mm, ss := t.Clock()
	return time.Date(first.Year(), first.Month(), d, hh, mm, ss, t.Nanosecond(), t.Location())
}

// Life is how long points live once spendable: Days or Months (at most one
// of them set; neither: as the default the caller has). Months keep the end
// of the month (AddMonths).
type Life struct {
	Days   int
	Months int
}

// Set reports whether the life says anything.
func (l Life) Set() bool { return l.Days != 0 || l.Months != 0 }

// After is when points that become spendable at t expire.
func (l Life) After(t time.Time) time.Time {
	if l.Days != 0 {
		return t.AddDate(0, 0, l.Days)
	}
	return AddMonths(t, l.Months)
}

// Check adds a problem for a life out of range or given twice: days from 0
// to 3660, months from 0 to 120. field prefixes the names ("bonuses.welcome.").
func (l Life) Check(pr *Problems, field, days, months string) {
	if l.Days < 0 || l.Days > 3660 {
		pr.Add(field+days, "must be between 0 and 3660")
	}
	if l.Months < 0 || l.Months > 120 {
		pr.Add(field+months, "must be between 0 and 120")
	}
	if l.Days != 0 && l.Months != 0 {
		pr.Add(field+days, "give the life in days or in months ("+months+"), not both")
	}
}
