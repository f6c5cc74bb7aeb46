package reports

import (
	"context"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// KPIQuery asks for the loyalty KPIs of [From, To) step by step, for the
// whole programme or one store, one partner or one RFM segment (members
// tagged "rfm:<segment>" by the last refresh; guests' receipts then do
// not count).
type KPIQuery struct {
	From, To  time.Time
	Bucket    Bucket
	StoreID   string
	PartnerID string
	Segment   string
}

// KPIs is a time series of KPI points, one a step, and the same figures
// over the whole span.
type KPIs struct {
	Query  KPIQuery   `json:"-"`
	Bucket Bucket     `json:"bucket"`
	Points []KPIPoint `json:"points"`
	Total  KPIPoint   `json:"total"`
}

// KPIPoint is one step's figures. Purchases are sales not cancelled (an
// imported return is none); amounts are in minor units, points in points.
//
//   - Members: registered (not erased) by the step's end; NewMembers: in it.
//   - ActiveMembers: members with a purchase in the step.
//   - Purchases: receipts, members' and guests'; MemberPurchases: members'.
//   - Turnover: what purchases came to, less returned units' share and
//     imported returns not found on a purchase.
//   - Frequency = MemberPurchases / ActiveMembers.
//   - AverageReceipt = Turnover / Purchases (minor units, rounded down).
//   - BasketLines = lines / Purchases; BasketUnits = units / Purchases.
//   - RepeatRate = 100 × members with two purchases or more in the step /
//     ActiveMembers (percent).
//   - PointsIssued (earned and given, net of what refunds took back),
//     PointsSpent, PointsExpired: postings to the programme's accounts in
//     the step (by store or partner: those of its transactions).
//   - PointsPaidShare = 100 × PointsSpent × point value / Turnover
//     (percent of turnover paid with points).
//   - RedemptionRate = 100 × PointsSpent / PointsIssued; BreakageRate =
//     100 × PointsExpired / PointsIssued (percent; 0 when none issued).
//   - Outstanding: points members hold (available and pending) at the
//     step's end, and OutstandingValue their worth at the point value now.
//     Programme-wide only: a store's or partner's view leaves them 0.
//
// Ratios are rounded to two decimals.
type KPIPoint struct {
	Start            time.Time `json:"start"`
	End              time.Time `json:"end"`
	Members          int64     `json:"members"`
	NewMembers       int64     `json:"new_members"`
	ActiveMembers    int64     `json:"active_members"`
	Purchases        int64     `json:"purchases"`
	MemberPurchases  int64     `json:"member_purchases"`
	Turnover         int64     `json:"turnover"`
	Frequency        float64   `json:"purchase_frequency"`
	AverageReceipt   int64     `json:"average_receipt"`
	BasketLines      float64   `json:"basket_lines"`
	BasketUnits      float64   `json:"basket_units"`
	RepeatRate       float64   `json:"repeat_rate"`
	PointsIssued     int64     `json:"points_issued"`
	PointsSpent      int64     `json:"points_spent"`
	PointsExpired    int64     `json:"points_expired"`
	PointsPaidShare  float64   `json:"points_paid_share"`
	RedemptionRate   float64   `json:"redemption_rate"`
	BreakageRate     float64   `json:"breakage_rate"`
	Outstanding      int64     `json:"points_outstanding"`
	OutstandingValue int64     `json:"outstanding_value"`
}

// KPICounts is what the database counts for one step (index Step of the
// bounds; -1: the whole span). Units are thousandths (kopilka.Quantity).
type KPICounts struct {
	Step                                int
	Members, NewMembers                 int64
	Active, Repeat                      int64
	Purchases, MemberPurchases          int64
	Turnover, Lines, Units              int64
	Issued, Spent, Expired, Outstanding int64
}

// KPIs returns the KPIs of the query (roles admin, operator, marketing).
// A span of more than MaxBuckets steps, or an unknown segment, is EINVALID.
func (s *Service) KPIs(ctx context.Context, q KPIQuery) (KPIs, error) {
	if err := access.Allow(ctx, access.ReportsAnalytics); err != nil {
		return KPIs{}, err
	}
	if q.Bucket == "" {
		q.Bucket = Month
	}
	if q.Segment != "" && !ValidSegment(q.Segment) {
		return KPIs{}, kopilka.FieldErr(kopilka.EINVALID, "segment", "no RFM segment has this id")
	}
	eng, err := s.Live.Engine(ctx)
	if err != nil {
		return KPIs{}, err
	}
	bounds, err := Bounds(q.From, q.To, q.Bucket, eng.Loc, "from")
	if err != nil {
		return KPIs{}, err
	}
	var counts []KPICounts
	if err := s.DB.View(ctx, func(tx Tx) (err error) {
		counts, err = tx.KPICounts(ctx, bounds, q)
		return err
	}); err != nil {
		return KPIs{}, err
	}
	out := KPIs{Query: q, Bucket: q.Bucket}
	for i := range len(bounds) - 1 {
		out.Points = append(out.Points, KPIPoint{Start: bounds[i].UTC(), End: bounds[i+1].UTC()})
	}
	out.Total = KPIPoint{Start: bounds[0].UTC(), End: bounds[len(bounds)-1].UTC()}
	value := eng.Programme.PointValue
	for _, c := range counts {
		p := &out.Total
		if c.Step >= 0 {
			if c.Step >= len(out.Points) {
				return KPIs{}, kopilka.Errorf(kopilka.EINTERNAL, "kpi step %d out of the series", c.Step)
			}
			p = &out.Points[c.Step]
		}
		fill(p, c, value)
	}
	return out, nil
}

// fill computes a point's figures from its counts.
func fill(p *KPIPoint, c KPICounts, pointValue int64) {
	p.Members, p.NewMembers, p.ActiveMembers = c.Members, c.NewMembers, c.Active
	p.Purchases, p.MemberPurchases, p.Turnover = c.Purchases, c.MemberPurchases, c.Turnover
	p.PointsIssued, p.PointsSpent, p.PointsExpired, p.Outstanding = c.Issued, c.Spent, c.Expired, c.Outstanding
	p.Frequency = ratio(c.MemberPurchases, c.Active, 1)
	if c.Purchases > 0 {
		p.AverageReceipt = c.Turnover / c.Purchases
	}
	p.BasketLines = ratio(c.Lines, c.Purchases, 1)
	p.BasketUnits = ratio(c.Units, c.Purchases*kopilka.QuantityScale, 1)
	p.RepeatRate = ratio(c.Repeat, c.Active, 100)
	if paid, ok := kopilka.Mul(c.Spent, pointValue); ok {
		p.PointsPaidShare = ratio(paid, c.Turnover, 100)
	}
	p.RedemptionRate = ratio(c.Spent, c.Issued, 100)
	p.BreakageRate = ratio(c.Expired, c.Issued, 100)
	if v, ok := kopilka.Mul(c.Outstanding, pointValue); ok {
		p.OutstandingValue = v
	}
}

// ratio is scale × a / b rounded to two decimals, 0 when b is not positive.
func ratio(a, b, scale int64) float64 {
	if b <= 0 {
		return 0
	}
	v := float64(a) * float64(scale) / float64(b)
	if v < 0 {
		return -float64(int64(-v*100+0.5)) / 100
	}
	return float64(int64(v*100+0.5)) / 100
}
