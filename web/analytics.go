package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/reports"
)

// analyticsSpan reads the page's span: from and to (days, to included)
// and the step; by default the twelve months to today.
func (s *Site) analyticsSpan(r *http.Request) (from, to time.Time, bucket reports.Bucket, err error) {
	q := reqOf(r)
	loc := q.zone()
	now := s.App.Env.Time().In(loc)
	to = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	if r.URL.Query().Get("to") != "" {
		if to, err = dateParam(r, "to", loc, true); err != nil {
			return
		}
	}
	from = time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -11, 0)
	if r.URL.Query().Get("from") != "" {
		if from, err = dateParam(r, "from", loc, false); err != nil {
			return
		}
	}
	bucket = reports.Bucket(r.URL.Query().Get("bucket"))
	if bucket == "" {
		bucket = reports.Month
	}
	return from, to, bucket, nil
}

// supportParam reads the basket rules' support (default 0.01, a decimal
// comma taken).
func supportParam(r *http.Request) (float64, error) {
	v := r.URL.Query().Get("support")
	if v == "" {
		return 0.01, nil
	}
	support, err := strconv.ParseFloat(decimal(v), 64)
	if err != nil {
		return 0, kopilka.Invalid("support", "must be a number, 0.0001 to 1")
	}
	return support, nil
}

// analyticsData is what the analytics page shows.
type analyticsData struct {
	From, To      string // the form's dates
	Bucket        string
	Support       string
	KPIs          reports.KPIs
	Turnover      template.HTML
	Active        template.HTML
	Cohorts       reports.Cohorts
	RFM           reports.RFM
	Segments      template.HTML
	Churn         *reports.Churn
	ChurnNote     string
	Rules         reports.BasketRules
	Query         string // the span's query, for the CSV links
	CohortHeaders []int
}

// analyticsPage shows the KPIs as time series, the cohort table, the RFM
// segments, the most at-risk members and the top basket rules of a span.
// The five are computed side by side.
func (s *Site) analyticsPage(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	from, to, bucket, err := s.analyticsSpan(r)
	if err != nil {
		return err
	}
	support, err := supportParam(r)
	if err != nil {
		return err
	}
	// A span the series cannot take is refused before anything is computed.
	if _, err := reports.Bounds(from, to, bucket, q.zone(), "from"); err != nil {
		return err
	}
	d := analyticsData{From: from.Format(time.DateOnly), To: to.AddDate(0, 0, -1).Format(time.DateOnly), Bucket: string(bucket),
		Support: strconv.FormatFloat(support, 'f', -1, 64)}
	d.Query = "from=" + d.From + "&to=" + d.To + "&bucket=" + d.Bucket + "&support=" + d.Support
	ctx := r.Context()
	var wg sync.WaitGroup
	errs := make([]error, 5)
	run := func(i int, fn func(context.Context) error) {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = fn(ctx) }()
	}
	run(0, func(ctx context.Context) (err error) {
		d.KPIs, err = s.App.Reports.KPIs(ctx, reports.KPIQuery{From: from, To: to, Bucket: bucket})
		return err
	})
	run(1, func(ctx context.Context) (err error) {
		d.Cohorts, err = s.App.Reports.Cohorts(ctx, from, to)
		return err
	})
	run(2, func(ctx context.Context) (err error) {
		d.RFM, err = s.App.Reports.RFM(ctx, from, to)
		return err
	})
	run(3, func(ctx context.Context) error {
		c, err := s.App.Reports.Churn(ctx, reports.ChurnQuery{At: to, Limit: 20})
		if kopilka.ErrorCode(err) == kopilka.ESTATE {
			d.ChurnNote = q.T("Too little history to fit the churn model: it needs members who bought on two days or more.")
			return nil
		}
		d.Churn = &c
		return err
	})
	run(4, func(ctx context.Context) (err error) {
		d.Rules, err = s.App.Reports.BasketRules(ctx, reports.BasketQuery{From: from, To: to, MinSupport: support, Limit: 10})
		return err
	})
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	var labels []string
	var turnover, active []int64
	for _, p := range d.KPIs.Points {
		labels = append(labels, stepLabel(p.Start.In(q.zone()), bucket))
		turnover = append(turnover, p.Turnover)
		active = append(active, p.ActiveMembers)
	}
	d.Turnover = barChart(q.T("Turnover"), labels, turnover, q.Money)
	d.Active = barChart(q.T("Active members"), labels, active, q.Number)
	var names []string
	var sizes []int64
	for _, sg := range d.RFM.Segments {
		names = append(names, q.T(sg.Name))
		sizes = append(sizes, sg.Members)
	}
	d.Segments = hbars(q.T("RFM segments"), names, sizes, q.Number)
	for i := 1; i < len(d.Cohorts.Rows); i++ {
		d.CohortHeaders = append(d.CohortHeaders, i)
	}
	s.render(w, r, http.StatusOK, "analytics", Office, q.T("Analytics"), d)
	return nil
}

// stepLabel names a step of a series: "2011-03" for a month, the date of
// a day or of a week's Monday.
func stepLabel(t time.Time, b reports.Bucket) string {
	if b == reports.Month {
		return t.Format("2006-01")
	}
	return t.Format("02.01")
}

// analyticsExport answers one of the page's reports as CSV.
func (s *Site) analyticsExport(w http.ResponseWriter, r *http.Request) error {
	from, to, bucket, err := s.analyticsSpan(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	name := r.PathValue("report")
	var write func() error
	switch name {
	case "kpis":
		k, err := s.App.Reports.KPIs(ctx, reports.KPIQuery{From: from, To: to, Bucket: bucket})
		if err != nil {
			return err
		}
		write = func() error { return k.WriteCSV(w) }
	case "cohorts":
		c, err := s.App.Reports.Cohorts(ctx, from, to)
		if err != nil {
			return err
		}
		write = func() error { return c.WriteCSV(w) }
	case "rfm":
		rows := reports.NewRFMCSV(w)
		write = func() error {
			if err := s.App.Reports.RFMMembers(ctx, from, to, "", rows.Write); err != nil {
				return err
			}
			return rows.Flush()
		}
	case "churn":
		c, err := s.App.Reports.Churn(ctx, reports.ChurnQuery{At: to})
		if err != nil {
			return err
		}
		write = func() error { return c.WriteCSV(w) }
	case "basket-rules":
		support, err := supportParam(r)
		if err != nil {
			return err
		}
		b, err := s.App.Reports.BasketRules(ctx, reports.BasketQuery{From: from, To: to, MinSupport: support})
		if err != nil {
			return err
		}
		write = func() error { return b.WriteCSV(w) }
	default:
		http.NotFound(w, r)
		return nil
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s-%s.csv"`, name, from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly)))
	return write()
}
