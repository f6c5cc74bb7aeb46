package kopilka

import "time"

// AddMonths returns t moved by n months (n may be negative) with the end of
// the month kept: the day of the month stays, unless the target month is
// shorter, when it becomes that month's last day. 30 November + 3 months is
// 28 February (29 in a leap year), 31 August − 6 months is the last day of
// February; the time of day and the location stay. This is PostgreSQL's
// interval arithmetic ('2026-11-30'::date + interval '3 months'), where
// Go's AddDate would overflow into March (2 March). It never decreases as t
// increases, so of two lots of the same life the later never expires first.
func AddMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	hh, mm, ss := t.Clock()
	return time.Date(first.Year(), first.Month(), min(d, last), hh, mm, ss, t.Nanosecond(), t.Location())
}
