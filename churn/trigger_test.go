package churn

import (
	"testing"
	"time"
)

// A member who buys every week is overdue at three times that since the
// last purchase, not before; two purchases on one day are one; a member
// with one purchase day has no usual gap.
func TestGaps_OverdueAtKTimesTheUsualGap(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	weekly := []time.Time{day(0), day(7), day(7).Add(time.Hour), day(14), day(28), day(21)}
	g := Gaps(weekly, day(28+20))
	if g.Usual != 7*24*time.Hour || g.Since != 20*24*time.Hour {
		t.Fatalf("gaps %+v, want a usual 7 days and 20 since", g)
	}
	if g.Overdue(3) {
		t.Error("20 days after a weekly buyer's last purchase is overdue at k = 3")
	}
	if !Gaps(weekly, day(28+22)).Overdue(3) {
		t.Error("22 days after a weekly buyer's last purchase is not overdue at k = 3")
	}
	if g := Gaps([]time.Time{day(0), day(0).Add(time.Hour)}, day(400)); g.Usual != 0 || g.Overdue(3) {
		t.Errorf("one purchase day: %+v", g)
	}
	if g := Gaps(nil, day(1)); g != (Gap{}) {
		t.Errorf("no purchases: %+v", g)
	}
	// An even number of waits takes the middle two's mean: 2, 4, 6, 10 days → 5.
	if g := Gaps([]time.Time{day(0), day(2), day(6), day(12), day(22)}, day(23)); g.Usual != 5*24*time.Hour {
		t.Errorf("median of 2, 4, 6, 10 days: %v", g.Usual)
	}
}
