package reports_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kopilka/kopilka/importer"
	"github.com/kopilka/kopilka/reports"
)

// importRetail imports the whole of Online Retail into the fixture.
func (f *fixture) importRetail(t testing.TB) importer.Summary {
	t.Helper()
	path := filepath.Join(dataDir(t), "online_retail", "online_retail.csv.gz")
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	in, err := importer.Decompress(r)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.svc.Import.Import(f.ctx, in, importer.Options{Mapping: importer.Ready["online-retail"], PartnerID: "retail"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	retailFrom = time.Date(2010, 12, 1, 0, 0, 0, 0, time.UTC)
	retailTo   = time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
)

// TestAnalytics_OnlineRetail checks the analytics of Online Retail against
// counts made from the file itself (by a script outside Kopilka, with the
// same definitions: a sale is an invoice of positive quantities, months in
// London): 20,726 sales, 18,536 of them by 4,339 customers; the December
// 2010 cohort of 885 customers, 324 of whom bought in January and 286 in
// February; November 2011's 2,884 sales, 1,665 active customers, 540 of
// them twice or more.
func TestAnalytics_OnlineRetail(t *testing.T) {
	if raceOn {
		t.Skip("541,909 rows under the race detector; the run without it covers this")
	}
	eachDialect(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		f.importRetail(t)
		k, err := f.svc.Reports.KPIs(f.ctx, reports.KPIQuery{From: retailFrom, To: retailTo, Bucket: reports.Month})
		if err != nil {
			t.Fatal(err)
		}
		if k.Total.Purchases != 20_726 || k.Total.MemberPurchases != 18_536 || k.Total.ActiveMembers != 4_339 || k.Total.Members != 4_372 {
			t.Errorf("total %+v", k.Total)
		}
		nov := k.Points[11]
		if nov.Start.Format("2006-01") != "2011-11" || nov.Purchases != 2_884 || nov.ActiveMembers != 1_665 || nov.RepeatRate != 32.43 {
			t.Errorf("November %+v", nov)
		}
		c, err := f.svc.Reports.Cohorts(f.ctx, retailFrom, retailTo)
		if err != nil {
			t.Fatal(err)
		}
		if dec := c.Rows[0]; dec.Month != "2010-12" || dec.Size != 885 || dec.Active[1] != 324 || dec.Active[2] != 286 || len(c.Rows) != 13 {
			t.Errorf("December's cohort %+v", dec)
		}
		var sizes int64
		for _, r := range c.Rows {
			sizes += r.Size
		}
		if sizes != 4_339 {
			t.Errorf("cohorts hold %d customers, want 4,339", sizes)
		}
		rfm, err := f.svc.Reports.RFM(f.ctx, retailFrom, retailTo)
		if err != nil {
			t.Fatal(err)
		}
		var in int64
		for _, s := range rfm.Segments {
			in += s.Members
			t.Logf("%-20s %5d %5.1f%%  R %3d d  F %3d  M %8d", s.Name, s.Members, s.Percent, s.RecencyDays, s.Frequency, s.Monetary)
		}
		if rfm.Members != 4_339 || in != 4_339 {
			t.Errorf("RFM scored %d, segments hold %d, want 4,339", rfm.Members, in)
		}
		// Champions bought more recently, more often and for more than the lost.
		seg := map[string]reports.SegmentSize{}
		for _, s := range rfm.Segments {
			seg[s.Segment] = s
		}
		if ch, lost := seg["champions"], seg["lost"]; ch.Members == 0 || lost.Members == 0 ||
			ch.RecencyDays >= lost.RecencyDays || ch.Frequency <= lost.Frequency || ch.Monetary <= lost.Monetary {
			t.Errorf("champions %+v, lost %+v", ch, lost)
		}
	})
}

// BenchmarkAnalytics_OnlineRetail times the KPIs (a year by month),
// cohorts and RFM over Online Retail, each beside one plain SQL query
// computing the same on the same database (BENCHMARKS.md).
func BenchmarkAnalytics_OnlineRetail(b *testing.B) {
	for _, d := range dialects() {
		b.Run(d, func(b *testing.B) {
			f := newFixture(b, d)
			f.importRetail(b)
			ctx := context.Background()
			b.Run("kpis", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.svc.Reports.KPIs(f.ctx, reports.KPIQuery{From: retailFrom, To: retailTo, Bucket: reports.Month}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("kpis-plain-sql", func(b *testing.B) {
				for b.Loop() {
					f.plain(b, ctx, plainKPIs[d])
				}
			})
			b.Run("cohorts", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.svc.Reports.Cohorts(f.ctx, retailFrom, retailTo); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("cohorts-plain-sql", func(b *testing.B) {
				for b.Loop() {
					f.plain(b, ctx, plainCohorts[d])
				}
			})
			b.Run("rfm", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.svc.Reports.RFM(f.ctx, retailFrom, retailTo); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("rfm-plain-sql", func(b *testing.B) {
				for b.Loop() {
					f.plain(b, ctx, plainRFM)
				}
			})
		})
	}
}

// plain runs a query and reads every row.
func (f *fixture) plain(b *testing.B, ctx context.Context, q string) {
	rows, err := f.db.SQL.QueryContext(ctx, q)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil || n == 0 {
		b.Fatalf("%d rows: %v", n, err)
	}
}

// The plain queries: what a analyst would write by hand, months in UTC,
// no returns netted, no guests told apart.
var (
	month = map[string]string{
		"sqlite":   `strftime('%Y-%m', occurred_at / 1000000, 'unixepoch')`,
		"postgres": `to_char(to_timestamp(occurred_at / 1000000) AT TIME ZONE 'UTC', 'YYYY-MM')`,
	}
	plainKPIs    = map[string]string{}
	plainCohorts = map[string]string{}
	plainRFM     = `SELECT member_id, MAX(occurred_at), COUNT(*), SUM(total),
			NTILE(5) OVER (ORDER BY MAX(occurred_at)), NTILE(5) OVER (ORDER BY COUNT(*)), NTILE(5) OVER (ORDER BY SUM(total))
		FROM (SELECT p.member_id, p.occurred_at, SUM(l.amount) AS total FROM purchases p
			JOIN purchase_lines l ON l.receipt_id = p.receipt_id AND l.partner_id = p.partner_id
			WHERE p.member_id <> '' AND p.status <> 'return' GROUP BY p.receipt_id, p.partner_id, p.member_id, p.occurred_at) x
		GROUP BY member_id`
)

func init() {
	for d, m := range month {
		plainKPIs[d] = `SELECT ` + m + ` AS month, COUNT(DISTINCT p.receipt_id), COUNT(DISTINCT p.member_id), SUM(l.amount), COUNT(*), SUM(l.quantity)
			FROM purchases p JOIN purchase_lines l ON l.receipt_id = p.receipt_id AND l.partner_id = p.partner_id
			WHERE p.status <> 'return' GROUP BY ` + m
		plainCohorts[d] = `WITH a AS (SELECT DISTINCT member_id, ` + m + ` AS month FROM purchases WHERE member_id <> '' AND status <> 'return'),
			f AS (SELECT member_id, MIN(month) AS cohort FROM a GROUP BY member_id)
			SELECT f.cohort, a.month, COUNT(*) FROM a JOIN f ON f.member_id = a.member_id GROUP BY f.cohort, a.month`
	}
}

func dialects() []string {
	if os.Getenv("KOPILKA_TEST_DATABASE_URL") != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}
