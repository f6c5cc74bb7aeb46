package reports

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
)

func i64(v int64) string     { return strconv.FormatInt(v, 10) }
func f2(v float64) string    { return strconv.FormatFloat(v, 'f', 2, 64) }
func day(t time.Time) string { return t.Format(time.RFC3339) }

// WriteCSV writes the series, one row a step and a last row "total", with
// the columns of KPIPoint's JSON names.
func (k KPIs) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"start", "end", "members", "new_members", "active_members", "purchases", "member_purchases", "turnover",
		"purchase_frequency", "average_receipt", "basket_lines", "basket_units", "repeat_rate", "points_issued", "points_spent",
		"points_expired", "points_paid_share", "redemption_rate", "breakage_rate", "points_outstanding", "outstanding_value"})
	row := func(label string, p KPIPoint) {
		_ = cw.Write([]string{label, day(p.End), i64(p.Members), i64(p.NewMembers), i64(p.ActiveMembers), i64(p.Purchases),
			i64(p.MemberPurchases), i64(p.Turnover), f2(p.Frequency), i64(p.AverageReceipt), f2(p.BasketLines), f2(p.BasketUnits),
			f2(p.RepeatRate), i64(p.PointsIssued), i64(p.PointsSpent), i64(p.PointsExpired), f2(p.PointsPaidShare),
			f2(p.RedemptionRate), f2(p.BreakageRate), i64(p.Outstanding), i64(p.OutstandingValue)})
	}
	for _, p := range k.Points {
		row(day(p.Start), p)
	}
	row("total", k.Total)
	cw.Flush()
	return cw.Error()
}

// WriteCSV writes the table: a row a cohort (its month and size), then the
// members active in months 0, 1, … after it, then the same in percent.
func (c Cohorts) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	n := len(c.Rows)
	head := []string{"cohort", "size"}
	for k := range n {
		head = append(head, "m"+strconv.Itoa(k))
	}
	for k := range n {
		head = append(head, "m"+strconv.Itoa(k)+"_percent")
	}
	_ = cw.Write(head)
	for _, r := range c.Rows {
		rec := []string{r.Month, i64(r.Size)}
		for k := range n {
			if k < len(r.Active) {
				rec = append(rec, i64(r.Active[k]))
			} else {
				rec = append(rec, "")
			}
		}
		for k := range n {
			if k < len(r.Percent) {
				rec = append(rec, strconv.FormatFloat(r.Percent[k], 'f', 1, 64))
			} else {
				rec = append(rec, "")
			}
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// WriteCSV writes the segments' sizes and means.
func (r RFM) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"segment", "name", "members", "percent", "mean_recency_days", "mean_frequency", "mean_monetary"})
	for _, s := range r.Segments {
		_ = cw.Write([]string{s.Segment, s.Name, i64(s.Members), strconv.FormatFloat(s.Percent, 'f', 1, 64),
			i64(s.RecencyDays), i64(s.Frequency), i64(s.Monetary)})
	}
	cw.Flush()
	return cw.Error()
}

// RFMCSV writes scored members as CSV rows, a header first.
type RFMCSV struct{ w *csv.Writer }

// NewRFMCSV starts a CSV of scored members on w.
func NewRFMCSV(w io.Writer) *RFMCSV {
	c := &RFMCSV{csv.NewWriter(w)}
	_ = c.w.Write([]string{"member_id", "last_purchase_at", "recency_days", "frequency", "monetary", "r", "f", "m", "segment"})
	return c
}

// Write adds a member's row.
func (c *RFMCSV) Write(r RFMRow) error {
	return c.w.Write([]string{kopilka.CSVCell(r.MemberID), day(r.LastAt), i64(r.Recency), i64(r.Frequency), i64(r.Monetary),
		strconv.Itoa(r.R), strconv.Itoa(r.F), strconv.Itoa(r.M), r.Segment})
}

// Flush ends the CSV.
func (c *RFMCSV) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// WriteCSV writes every member's churn risk, the most at risk first.
func (c Churn) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"member_id", "p_alive", "expected_purchases", "purchase_days", "last_purchase_at", "usual_gap_days",
		"days_since", "overdue", "at_risk", "money"})
	for _, r := range c.ranked() {
		_ = cw.Write([]string{kopilka.CSVCell(r.MemberID), strconv.FormatFloat(r.PAlive, 'f', 4, 64), strconv.FormatFloat(r.Expected, 'f', 4, 64),
			strconv.Itoa(r.Days), day(r.LastAt), strconv.FormatFloat(r.UsualGapDays, 'f', 1, 64), i64(r.DaysSince),
			strconv.FormatBool(r.Overdue), strconv.FormatBool(r.AtRisk), i64(r.Money)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteCSV writes every rule found, the most confident first; the items
// of a rule's if are joined by " + ".
func (b BasketRules) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"if", "then", "baskets", "support", "confidence", "lift"})
	for _, r := range b.all {
		_ = cw.Write([]string{kopilka.CSVCell(strings.Join(r.If, " + ")), kopilka.CSVCell(r.Then), strconv.Itoa(r.Count),
			strconv.FormatFloat(r.Support, 'f', 4, 64), strconv.FormatFloat(r.Confidence, 'f', 4, 64), strconv.FormatFloat(r.Lift, 'f', 4, 64)})
	}
	cw.Flush()
	return cw.Error()
}
