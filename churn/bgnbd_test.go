package churn

import (
	"bufio"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// histories turns purchase days by customer into histories observed to end
// (in weeks): several records of one day are one purchase.
func histories(first map[string]time.Time, days map[string]map[time.Time]bool, end time.Time) []History {
	var hs []History
	week := 7 * 24 * time.Hour
	for id, f := range first {
		h := History{T: float64(end.Sub(f)) / float64(week)}
		for d := range days[id] {
			if d.After(f) {
				h.X++
				if tx := float64(d.Sub(f)) / float64(week); tx > h.TX {
					h.TX = tx
				}
			}
		}
		hs = append(hs, h)
	}
	return hs
}

// cdnowMaster reads the whole cohort (23,570 customers) the same way.
func cdnowMaster(t testing.TB) []History {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir(), "cdnow", "CDNOW_master.txt.gz"))
	if err != nil {
		t.Skipf("the CDNOW master file is not here: %v", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)
	days := map[string]map[time.Time]bool{}
	first := map[string]time.Time{}
	sc := bufio.NewScanner(z)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 4 {
			t.Fatalf("a line of %d fields: %q", len(fs), sc.Text())
		}
		if fs[0] == "customer_id" { // the header
			continue
		}
		d, err := time.Parse("20060102", fs[1])
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := first[fs[0]]; !ok || d.Before(f) {
			first[fs[0]] = d
		}
		if !d.After(end) {
			if days[fs[0]] == nil {
				days[fs[0]] = map[time.Time]bool{}
			}
			days[fs[0]][d] = true
		}
	}
	return histories(first, days, end)
}

// cdnowSample reads the CDNOW 1/10 sample (../shared/data/cdnow) into the
// histories of its 2,357 customers for the calibration period of the paper:
// 1997-01-01 to 1997-09-30, in weeks; several records of one customer on
// one day are one purchase.
func cdnowSample(t testing.TB) []History {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir(), "cdnow", "CDNOW_sample.txt"))
	if err != nil {
		if os.Getenv("KOPILKA_DATA") != "" {
			t.Fatalf("KOPILKA_DATA is set but the CDNOW sample is not there: %v", err)
		}
		t.Skipf("the CDNOW sample is not here (%v): see ../shared/data/README.md, or set KOPILKA_DATA", err)
	}
	defer f.Close()
	end := time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)
	days := map[string]map[time.Time]bool{}
	first := map[string]time.Time{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 5 {
			t.Fatalf("a line of %d fields: %q", len(fs), sc.Text())
		}
		d, err := time.Parse("20060102", fs[2])
		if err != nil {
			t.Fatal(err)
		}
		id := fs[1]
		if f, ok := first[id]; !ok || d.Before(f) {
			first[id] = d
		}
		if d.After(end) {
			continue
		}
		if days[id] == nil {
			days[id] = map[time.Time]bool{}
		}
		days[id][d] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return histories(first, days, end)
}

// dataDir is where the shared data sets are: KOPILKA_DATA, else
// ../shared/data beside the project's root.
func dataDir() string {
	if d := os.Getenv("KOPILKA_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "data")
}

// The fit on the CDNOW sample gives the paper's parameters and
// log-likelihood: r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9,582.4
// (Fader, Hardie and Lee 2005, section 4).
func TestFit_CDNOWSampleGivesThePublishedParameters(t *testing.T) {
	hs := cdnowSample(t)
	if len(hs) != 2357 {
		t.Fatalf("%d customers in the sample, want 2,357", len(hs))
	}
	p, ll, err := Fit(hs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("r=%.4f alpha=%.4f a=%.4f b=%.4f LL=%.2f", p.R, p.Alpha, p.A, p.B, ll)
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"r", p.R, 0.243}, {"alpha", p.Alpha, 4.414}, {"a", p.A, 0.793}, {"b", p.B, 2.426}} {
		if d := c.got - c.want; d > 0.0015*max(1, c.want) || d < -0.0015*max(1, c.want) {
			t.Errorf("%s = %.4f, want %.3f", c.name, c.got, c.want)
		}
	}
	if ll < -9582.45 || ll > -9582.35 {
		t.Errorf("log-likelihood %.2f, want −9,582.4", ll)
	}
	// The paper's worked customer: two repeat purchases, the last in week
	// 30.43, observed for 38.86 weeks: 1.226 purchases expected in the
	// next 39 weeks.
	if e := p.ExpectedPurchases(History{X: 2, TX: 30.43, T: 38.86}, 39); e < 1.215 || e > 1.237 {
		t.Errorf("expected purchases of the worked customer: %.3f, want 1.226", e)
	}
}

// P(alive) falls as the time since the last purchase grows, is 1 for a
// member without a repeat purchase, and the expected purchases rise with
// the horizon.
func TestParams_PAliveAndExpectations(t *testing.T) {
	p := Params{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	if p.PAlive(History{X: 0, T: 30}) != 1 {
		t.Error("a member with no repeat purchase is not alive for sure")
	}
	recent, stale := p.PAlive(History{X: 3, TX: 29, T: 30}), p.PAlive(History{X: 3, TX: 5, T: 30})
	if !(recent > stale && recent < 1 && stale > 0) {
		t.Errorf("P(alive): recent buyer %.3f, stale buyer %.3f", recent, stale)
	}
	h := History{X: 3, TX: 20, T: 30}
	if a, b := p.ExpectedPurchases(h, 10), p.ExpectedPurchases(h, 50); !(a > 0 && b > a) {
		t.Errorf("expected purchases: %.3f in 10 weeks, %.3f in 50", a, b)
	}
	if _, _, err := Fit([]History{{X: 0, T: 3}}); err != ErrNoData {
		t.Errorf("a fit without repeat purchases: %v", err)
	}
}

// BenchmarkFit_CDNOWSample fits the model on the 2,357 customers.
func BenchmarkFit_CDNOWSample(b *testing.B) {
	hs := cdnowSample(b)
	for b.Loop() {
		if _, _, err := Fit(hs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFit_CDNOWCohort fits the model on the whole cohort: 23,570
// customers (the aim: under two seconds).
func BenchmarkFit_CDNOWCohort(b *testing.B) {
	hs := cdnowMaster(b)
	if len(hs) != 23570 {
		b.Fatalf("%d customers, want 23,570", len(hs))
	}
	for b.Loop() {
		if _, _, err := Fit(hs); err != nil {
			b.Fatal(err)
		}
	}
}
