package reports

import (
	"context"
	"math"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// HoldoutTx is what a campaign's hold-out reads and freezes.
type HoldoutTx interface {
	access.Auditor
	// MembersAfter returns up to limit active members after the id after,
	// in id order (the database's collation).
	MembersAfter(ctx context.Context, after string, limit int) ([]kopilka.Member, error)
	// CampaignTargets returns the frozen target of a campaign (member id →
	// held out) and when it was taken; a zero time when none was.
	CampaignTargets(ctx context.Context, campaignID string) (map[string]bool, time.Time, error)
	// FreezeTargets stores a campaign's target once; a second call for the
	// same campaign changes nothing.
	FreezeTargets(ctx context.Context, campaignID string, targets map[string]bool, at time.Time) error
	// MemberTotals returns, for each member with purchases in [from, to),
	// their purchases and turnover (minor units).
	MemberTotals(ctx context.Context, from, to time.Time) (map[string][2]int64, error)
	// CampaignPoints returns the points each member's purchases in [from,
	// to) got from the campaign's rules, as the purchases recorded them.
	CampaignPoints(ctx context.Context, campaignID string, from, to time.Time) (map[string]int64, error)
}

// Holdout is a campaign's result against its control group over its period
// (to now, if it has not ended): for each group its members, and per
// member the purchases, turnover (minor units) and the campaign's points.
//
// Incremental turnover per member is the treated group's mean less the
// held-out group's, with its standard error by Welch (√(s₁²/n₁ + s₂²/n₂),
// sample variances) and a 95 % interval (±1.96 SE, the normal
// approximation: fair from some 30 members a group; with fewer than two in
// a group there is no interval and no verdict). Incremental turnover
// is that per member × the treated members; Net is it less the points'
// cost at the point value. A result whose interval holds 0 has not shown
// that the campaign paid.
type Holdout struct {
	CampaignID     string     `json:"campaign_id"`
	HoldoutPercent string     `json:"holdout_percent"`
	From           time.Time  `json:"from"`
	To             time.Time  `json:"to"`
	FrozenAt       *time.Time `json:"frozen_at,omitempty"`
	Treated        Group      `json:"treated"`
	HeldOut        Group      `json:"held_out"`
	PerMember      float64    `json:"incremental_turnover_per_member"`
	StdErr         float64    `json:"standard_error"`
	Low            float64    `json:"ci95_low"`
	High           float64    `json:"ci95_high"`
	Incremental    int64      `json:"incremental_turnover"`
	PointsCost     int64      `json:"points_cost"`
	Net            int64      `json:"net"`
	Significant    bool       `json:"significant"`
}

// Group is one side of a hold-out: its members, their purchases, turnover
// and campaign points in all and per member (means to two decimals).
type Group struct {
	Members          int64   `json:"members"`
	Purchases        int64   `json:"purchases"`
	Turnover         int64   `json:"turnover"`
	Points           int64   `json:"campaign_points"`
	PurchasesPerHead float64 `json:"purchases_per_member"`
	TurnoverPerHead  float64 `json:"turnover_per_member"`
	varTurnover      float64
}

// FreezeTargets freezes the target of every enabled campaign with a
// hold-out that has started and has none yet: the members its segment
// selects now, and which it holds out. The refresh calls it daily, so the
// target is drawn at most a day after the start. It returns how many
// campaigns it froze.
func (s *Service) FreezeTargets(ctx context.Context) (int, error) {
	eng, err := s.Live.Engine(ctx)
	if err != nil {
		return 0, err
	}
	now := s.Env.Time()
	frozen := 0
	for i := range eng.Programme.Campaigns {
		c := &eng.Programme.Campaigns[i]
		if !c.Enabled || c.Holdout <= 0 {
			continue
		}
		starts, err := kopilka.LocalTime(c.StartsAt, eng.Loc)
		if err != nil || now.Before(starts) {
			continue
		}
		var at time.Time
		if err := s.Holdouts.View(ctx, func(tx HoldoutTx) (err error) {
			_, at, err = tx.CampaignTargets(ctx, c.ID)
			return err
		}); err != nil {
			return frozen, err
		}
		if !at.IsZero() {
			continue
		}
		targets, err := s.drawTargets(ctx, c, now)
		if err != nil {
			return frozen, err
		}
		a := access.Begin(ctx, s.Env, access.ReportsRefresh, c.ID)
		err = kopilka.RetryRace(func() error {
			return s.Holdouts.Update(ctx, func(tx HoldoutTx) error {
				if err := tx.FreezeTargets(ctx, c.ID, targets, now); err != nil {
					return err
				}
				return a.Record(ctx, tx, nil, map[string]any{"campaign_id": c.ID, "members": len(targets)})
			})
		})
		if err := access.Finish(ctx, s.Holdouts, a, err); err != nil {
			return frozen, err
		}
		frozen++
	}
	return frozen, nil
}

// drawTargets walks every member through the campaign's segment.
func (s *Service) drawTargets(ctx context.Context, c *kopilka.Campaign, at time.Time) (map[string]bool, error) {
	eng, err := s.Live.Engine(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	after := ""
	for {
		var page []kopilka.Member
		if err := s.Holdouts.View(ctx, func(tx HoldoutTx) (err error) {
			page, err = tx.MembersAfter(ctx, after, 1000)
			return err
		}); err != nil {
			return nil, err
		}
		for i := range page {
			m := &page[i]
			if eng.InSegment(ctx, c.ID, m, at, time.Time{}) {
				out[m.ID] = c.HoldsOut(m.ID)
			}
		}
		if len(page) < 1000 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

// Holdout reports the campaign's result against its control group (roles
// admin, operator, marketing). A campaign that is not in the programme is
// ENOTFOUND; one without a hold-out, or not started, ESTATE. Without a
// frozen target (the refresh has not run since the start) the target is
// drawn now, and FrozenAt is empty.
func (s *Service) Holdout(ctx context.Context, campaignID string) (Holdout, error) {
	if err := access.Allow(ctx, access.ReportsAnalytics); err != nil {
		return Holdout{}, err
	}
	eng, err := s.Live.Engine(ctx)
	if err != nil {
		return Holdout{}, err
	}
	var c *kopilka.Campaign
	for i := range eng.Programme.Campaigns {
		if eng.Programme.Campaigns[i].ID == campaignID {
			c = &eng.Programme.Campaigns[i]
		}
	}
	if c == nil {
		return Holdout{}, kopilka.Errorf(kopilka.ENOTFOUND, "no campaign has this id")
	}
	if c.Holdout <= 0 {
		return Holdout{}, kopilka.Errorf(kopilka.ESTATE, "the campaign holds nobody out: set its holdout_percent")
	}
	from, err := kopilka.LocalTime(c.StartsAt, eng.Loc)
	if err != nil {
		return Holdout{}, err
	}
	to, err := kopilka.LocalTime(c.EndsAt, eng.Loc)
	if err != nil {
		return Holdout{}, err
	}
	now := s.Env.Time()
	if now.Before(from) {
		return Holdout{}, kopilka.Errorf(kopilka.ESTATE, "the campaign has not started")
	}
	to = minTime(to, now)
	out := Holdout{CampaignID: c.ID, HoldoutPercent: c.Holdout.String(), From: from.UTC(), To: to.UTC()}
	var targets map[string]bool
	var frozen time.Time
	var totals map[string][2]int64
	var points map[string]int64
	err = s.Holdouts.View(ctx, func(tx HoldoutTx) (err error) {
		if targets, frozen, err = tx.CampaignTargets(ctx, c.ID); err != nil {
			return err
		}
		if totals, err = tx.MemberTotals(ctx, from, to); err != nil {
			return err
		}
		points, err = tx.CampaignPoints(ctx, c.ID, from, to)
		return err
	})
	if err != nil {
		return Holdout{}, err
	}
	if frozen.IsZero() {
		if targets, err = s.drawTargets(ctx, c, from); err != nil {
			return Holdout{}, err
		}
	} else {
		f := frozen.UTC()
		out.FrozenAt = &f
	}
	var tv, hv []float64
	for id, held := range targets {
		t := totals[id]
		g := &out.Treated
		if held {
			g = &out.HeldOut
			hv = append(hv, float64(t[1]))
		} else {
			tv = append(tv, float64(t[1]))
		}
		g.Members++
		g.Purchases += t[0]
		g.Turnover += t[1]
		g.Points += points[id]
	}
	for _, g := range []*Group{&out.Treated, &out.HeldOut} {
		if g.Members > 0 {
			g.PurchasesPerHead = round2(float64(g.Purchases) / float64(g.Members))
			g.TurnoverPerHead = round2(float64(g.Turnover) / float64(g.Members))
		}
	}
	out.Treated.varTurnover, out.HeldOut.varTurnover = variance(tv), variance(hv)
	out.PointsCost = out.Treated.Points * eng.Programme.PointValue
	// The standard error needs two members a group at least (a sample
	// variance of one is not one); with fewer there is no verdict.
	if out.Treated.Members >= 2 && out.HeldOut.Members >= 2 {
		diff := float64(out.Treated.Turnover)/float64(out.Treated.Members) - float64(out.HeldOut.Turnover)/float64(out.HeldOut.Members)
		se := math.Sqrt(out.Treated.varTurnover/float64(out.Treated.Members) + out.HeldOut.varTurnover/float64(out.HeldOut.Members))
		out.PerMember, out.StdErr = round2(diff), round2(se)
		out.Low, out.High = round2(diff-1.96*se), round2(diff+1.96*se)
		out.Incremental = int64(math.Round(diff * float64(out.Treated.Members)))
		out.Significant = out.Low > 0 || out.High < 0
	}
	out.Net = out.Incremental - out.PointsCost
	return out, nil
}

// variance is the sample variance of xs (0 for fewer than two).
func variance(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	var mean float64
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return ss / float64(len(xs)-1)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
