package churn

import (
	"slices"
	"time"
)

// Gap is the simple churn trigger beside the model: how long a member
// usually waits between purchases, and how long it has been since the last.
type Gap struct {
	// Usual is the median of the waits between the member's purchase days
	// (several purchases on one day are one); zero with fewer than two days.
	Usual time.Duration
	// Since is the time from the last purchase to now.
	Since time.Duration
}

// Days returns the days (UTC) of purchase times in any order, sorted,
// each once: several purchases on one day are one, as the models count.
func Days(purchases []time.Time) []time.Time {
	days := make([]time.Time, 0, len(purchases))
	for _, p := range purchases {
		days = append(days, p.UTC().Truncate(24*time.Hour))
	}
	slices.SortFunc(days, func(a, b time.Time) int { return a.Compare(b) })
	return slices.Compact(days)
}

// Gaps reads a member's purchase times (in any order) as of now.
func Gaps(purchases []time.Time, now time.Time) Gap {
	if len(purchases) == 0 {
		return Gap{}
	}
	days := Days(purchases)
	last := slices.MaxFunc(purchases, func(a, b time.Time) int { return a.Compare(b) })
	g := Gap{Since: now.Sub(last)}
	if len(days) < 2 {
		return g
	}
	waits := make([]time.Duration, len(days)-1)
	for i := 1; i < len(days); i++ {
		waits[i-1] = days[i].Sub(days[i-1])
	}
	slices.Sort(waits)
	if n := len(waits); n%2 == 1 {
		g.Usual = waits[n/2]
	} else {
		g.Usual = (waits[n/2-1] + waits[n/2]) / 2
	}
	return g
}

// Overdue reports whether the member has waited more than k times their
// usual gap since their last purchase (k of 2 or 3 is usual); a member with
// fewer than two purchase days has no usual gap and is never overdue by it.
func (g Gap) Overdue(k float64) bool {
	return g.Usual > 0 && float64(g.Since) > k*float64(g.Usual)
}
