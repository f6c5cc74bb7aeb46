package reports

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/churn"
)

// ChurnQuery asks for the churn risk of every member as of At (zero: now):
// the BG/NBD model fitted on the programme's purchases before At, the
// purchases to expect in the next HorizonDays (default 30), and the simple
// trigger's factor K (default 3: overdue past three usual gaps). A member
// is at risk when P(alive) < Threshold (default 0.5) or overdue. Limit
// bounds the list of the most at risk (default 50, at most 1,000).
type ChurnQuery struct {
	At          time.Time
	HorizonDays int
	K           float64
	Threshold   float64
	Limit       int
}

// Churn is the model fitted and its verdicts.
//
// A member's history is read in weeks, as in Fader, Hardie and Lee (2005):
// purchase days (several purchases of one day are one; days in UTC), x the
// repeat purchase days, t_x the weeks from the first to the last, T the
// weeks from the first to the last day observed (the day before At when At
// is a midnight; CDNOW's calibration to 1997-09-30 is At 1997-10-01). Members with one purchase day have P(alive)
// 1 by the model (they have had no chance to drop out); the trigger needs
// two days too.
type Churn struct {
	At            time.Time    `json:"at"`
	HorizonDays   int          `json:"horizon_days"`
	Params        churn.Params `json:"params"`
	LogLikelihood float64      `json:"log_likelihood"`
	Members       int64        `json:"members"`
	AtRisk        int64        `json:"at_risk"`
	Overdue       int64        `json:"overdue"`
	Expected      float64      `json:"expected_purchases"`
	Risks         []MemberRisk `json:"most_at_risk"`
	all           []MemberRisk // every member, for CSV and the refresh
}

// MemberRisk is one member's churn risk: P(alive), the purchases expected
// in the horizon, their purchase days, last purchase, usual gap and the
// days since the last purchase (whole days, down), whether the trigger
// finds them overdue and whether they are at risk. Money is their
// purchases' total in minor units (for ranking the list).
type MemberRisk struct {
	MemberID     string    `json:"member_id"`
	PAlive       float64   `json:"p_alive"`
	Expected     float64   `json:"expected_purchases"`
	Days         int       `json:"purchase_days"`
	LastAt       time.Time `json:"last_purchase_at"`
	UsualGapDays float64   `json:"usual_gap_days"`
	DaysSince    int64     `json:"days_since"`
	Overdue      bool      `json:"overdue"`
	AtRisk       bool      `json:"at_risk"`
	Money        int64     `json:"money"`
	// Ref is the member's customer id in the source they were imported
	// from, as "source:id" (the list only; empty for members of the
	// programme's own).
	Ref string `json:"ref,omitempty"`
}

// Purchases is one member's purchase times and money, as the database
// gives them for the churn model.
type Purchases struct {
	MemberID string
	Times    []time.Time
	Money    int64
}

func (q *ChurnQuery) defaults(now time.Time) error {
	if q.At.IsZero() {
		q.At = now
	}
	if q.HorizonDays == 0 {
		q.HorizonDays = 30
	}
	if q.K == 0 {
		q.K = 3
	}
	if q.Threshold == 0 {
		q.Threshold = 0.5
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	switch {
	case q.HorizonDays < 1 || q.HorizonDays > 3660:
		return kopilka.FieldErr(kopilka.EINVALID, "horizon_days", "must be 1 to 3660")
	case q.K < 1 || q.K > 100 || math.IsNaN(q.K):
		return kopilka.FieldErr(kopilka.EINVALID, "k", "must be 1 to 100")
	case q.Threshold <= 0 || q.Threshold >= 1 || math.IsNaN(q.Threshold):
		return kopilka.FieldErr(kopilka.EINVALID, "threshold", "must be between 0 and 1")
	case q.Limit < 1 || q.Limit > 1000:
		return kopilka.FieldErr(kopilka.EINVALID, "limit", "must be 1 to 1000")
	}
	return nil
}

const week = 7 * 24 * time.Hour

// history is a member's purchase days read as the model reads them.
func history(times []time.Time, at time.Time) (churn.History, int) {
	days := churn.Days(times)
	first, last := days[0], days[len(days)-1]
	end := at.Add(-time.Nanosecond).UTC().Truncate(24 * time.Hour) // the last day observed
	h := churn.History{X: len(days) - 1, T: float64(end.Sub(first)) / float64(week)}
	if h.X > 0 {
		h.TX = float64(last.Sub(first)) / float64(week)
	}
	return h, len(days)
}

// Churn fits the model on the purchases before q.At and scores every
// member who bought (roles admin, operator, marketing). A programme whose
// purchases cannot be fitted (none, or no member who bought twice) is
// ESTATE.
func (s *Service) Churn(ctx context.Context, q ChurnQuery) (Churn, error) {
	if err := access.Allow(ctx, access.ReportsAnalytics); err != nil {
		return Churn{}, err
	}
	return s.churn(ctx, q)
}

func (s *Service) churn(ctx context.Context, q ChurnQuery) (Churn, error) {
	if err := q.defaults(s.Env.Time()); err != nil {
		return Churn{}, err
	}
	type member struct {
		id    string
		h     churn.History
		days  int
		gap   churn.Gap
		last  time.Time
		money int64
	}
	var ms []member
	err := s.DB.View(ctx, func(tx Tx) error {
		return tx.PurchaseTimes(ctx, q.At, func(p Purchases) error {
			h, days := history(p.Times, q.At)
			ms = append(ms, member{id: p.MemberID, h: h, days: days, gap: churn.Gaps(p.Times, q.At),
				last: slices.MaxFunc(p.Times, func(a, b time.Time) int { return a.Compare(b) }), money: p.Money})
			return nil
		})
	})
	if err != nil {
		return Churn{}, err
	}
	hs := make([]churn.History, len(ms))
	for i, m := range ms {
		hs[i] = m.h
	}
	params, ll, err := churn.Fit(hs)
	if err != nil {
		return Churn{}, kopilka.Errorf(kopilka.ESTATE, "the churn model cannot be fitted: %v", err)
	}
	out := Churn{At: q.At.UTC(), HorizonDays: q.HorizonDays, Params: params, LogLikelihood: ll, Members: int64(len(ms))}
	t := float64(q.HorizonDays) / 7
	for _, m := range ms {
		r := MemberRisk{MemberID: m.id, PAlive: round4(params.PAlive(m.h)), Days: m.days, LastAt: m.last.UTC(),
			UsualGapDays: math.Round(m.gap.Usual.Hours()/24*10) / 10, DaysSince: int64(m.gap.Since / (24 * time.Hour)),
			Overdue: m.gap.Overdue(q.K), Money: m.money}
		e := params.ExpectedPurchases(m.h, t)
		out.Expected += e
		r.Expected = round4(e)
		r.AtRisk = r.PAlive < q.Threshold || r.Overdue
		if r.AtRisk {
			out.AtRisk++
		}
		if r.Overdue {
			out.Overdue++
		}
		out.all = append(out.all, r)
	}
	out.Expected = math.Round(out.Expected*10) / 10
	ranked := out.ranked()
	out.Risks = ranked[:min(q.Limit, len(ranked))]
	ids := make([]string, len(out.Risks))
	for i, r := range out.Risks {
		ids[i] = r.MemberID
	}
	var refs map[string]string
	if err := s.DB.View(ctx, func(tx Tx) (err error) {
		refs, err = tx.MemberRefs(ctx, ids)
		return err
	}); err != nil {
		return Churn{}, err
	}
	for i := range out.Risks {
		out.Risks[i].Ref = refs[out.Risks[i].MemberID]
	}
	return out, nil
}

// ranked returns every member's risk, the most at risk first: at risk,
// then the least likely alive, then those who spent the most, then by id.
func (c Churn) ranked() []MemberRisk {
	ranked := slices.Clone(c.all)
	slices.SortFunc(ranked, func(a, b MemberRisk) int {
		switch {
		case a.AtRisk != b.AtRisk:
			if a.AtRisk {
				return -1
			}
			return 1
		case a.PAlive != b.PAlive:
			if a.PAlive < b.PAlive {
				return -1
			}
			return 1
		case a.Money != b.Money:
			if a.Money > b.Money {
				return -1
			}
			return 1
		}
		return strings.Compare(a.MemberID, b.MemberID)
	})
	return ranked
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
