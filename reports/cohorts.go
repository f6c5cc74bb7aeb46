package reports

import (
	"context"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// Cohorts is a retention table: members grouped by the calendar month of
// their first purchase (in the programme's zone), and how many of each
// cohort bought in each month after it.
//
// A purchase here is a sale that was not cancelled (a refunded one still
// counts: the member came); an imported return is not one. A member's
// first purchase is their first ever, so a member who first bought before
// From belongs to no cohort of the table.
type Cohorts struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Rows []Cohort  `json:"cohorts"`
}

// Cohort is one month's new buyers: Size members, Active[k] of whom bought
// in the k-th month after (Active[0] = Size), Percent[k] = 100 × Active[k]
// / Size rounded to one decimal. Active runs to the table's last month.
type Cohort struct {
	Month   string    `json:"month"` // "2011-01"
	Start   time.Time `json:"start"`
	Size    int64     `json:"size"`
	Active  []int64   `json:"active"`
	Percent []float64 `json:"percent"`
}

// CohortCell is what the database counts: members of cohort month index
// Cohort active in month index Month (indexes into the bounds).
type CohortCell struct {
	Cohort, Month int
	Members       int64
}

// Cohorts returns the retention table of the months from from's to to's
// (roles admin, operator, marketing). A span of more than MaxBuckets
// months is EINVALID.
func (s *Service) Cohorts(ctx context.Context, from, to time.Time) (Cohorts, error) {
	if err := access.Allow(ctx, access.ReportsAnalytics); err != nil {
		return Cohorts{}, err
	}
	eng, err := s.Live.Engine(ctx)
	if err != nil {
		return Cohorts{}, err
	}
	bounds, err := Bounds(from, to, Month, eng.Loc, "from")
	if err != nil {
		return Cohorts{}, err
	}
	var cells []CohortCell
	if err := s.DB.View(ctx, func(tx Tx) (err error) {
		cells, err = tx.CohortCells(ctx, bounds)
		return err
	}); err != nil {
		return Cohorts{}, err
	}
	n := len(bounds) - 1
	out := Cohorts{From: bounds[0].UTC(), To: bounds[n].UTC()}
	for i := range n {
		out.Rows = append(out.Rows, Cohort{Month: bounds[i].Format("2006-01"), Start: bounds[i].UTC(), Active: make([]int64, n-i)})
	}
	for _, c := range cells {
		if c.Cohort < 0 || c.Cohort >= n || c.Month < c.Cohort || c.Month >= n {
			return Cohorts{}, kopilka.Errorf(kopilka.EINTERNAL, "cohort cell %d/%d out of the table", c.Cohort, c.Month)
		}
		out.Rows[c.Cohort].Active[c.Month-c.Cohort] = c.Members
	}
	for i := range out.Rows {
		r := &out.Rows[i]
		r.Size = r.Active[0]
		r.Percent = make([]float64, len(r.Active))
		for k, a := range r.Active {
			if r.Size > 0 {
				r.Percent[k] = float64((a*1000+r.Size/2)/r.Size) / 10
			}
		}
	}
	return out, nil
}
