package programme

import (
	"context"
	"slices"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/pricing"
)

// Proposal is a change to simulate: a whole programme, or one campaign or
// one rule added to (or replacing one in) the current programme.
type Proposal struct {
	Days      int                `json:"days"`
	Programme *kopilka.Programme `json:"programme,omitempty"`
	Campaign  *kopilka.Campaign  `json:"campaign,omitempty"`
	Rule      *kopilka.Rule      `json:"rule,omitempty"`
}

// Simulation is what a proposal would have given over the receipts of the
// last Days days, against what the current programme gives the same receipts.
type Simulation struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Receipts int       `json:"receipts"`
	Members  int       `json:"members"`
	// CurrentPoints and ProposedPoints are both priced now, with each
	// member's tier, tags and choices as they are today.
	CurrentPoints  int64 `json:"current_points"`
	ProposedPoints int64 `json:"proposed_points"`
	ExtraPoints    int64 `json:"extra_points"`
	// ExtraCost is ExtraPoints in money at the proposal's point value, minor units.
	ExtraCost        int64 `json:"extra_cost"`
	ReceiptsAffected int   `json:"receipts_affected"`
	MembersAffected  int   `json:"members_affected"`
	// Rules are the proposal's points by rule.
	Rules []RuleTotal `json:"rules"`
}

// RuleTotal is what one rule gave in a simulation.
type RuleTotal struct {
	Rule     string `json:"rule"`
	Campaign string `json:"campaign,omitempty"`
	Points   int64  `json:"points"`
	Receipts int    `json:"receipts"`
	Members  int    `json:"members"`
}

// Simulate prices the real receipts of the last Days days with the current
// programme and with the proposal, and reports the difference. It changes
// nothing. Caps per member and budgets are applied as the receipts come,
// in the order they occurred, starting unused.
func (s *Service) Simulate(ctx context.Context, pr Proposal) (Simulation, error) {
	if err := access.Allow(ctx, access.ProgrammeSimulate); err != nil {
		return Simulation{}, err
	}
	if pr.Days < 1 || pr.Days > 400 {
		return Simulation{}, kopilka.Invalid("days", "must be between 1 and 400")
	}
	cur, err := s.Engine(ctx)
	if err != nil {
		return Simulation{}, err
	}
	proposed := cur.Programme
	proposed.Rules = slices.Clone(proposed.Rules)
	switch {
	case pr.Programme != nil:
		proposed = *pr.Programme
	case pr.Campaign != nil:
		c := *pr.Campaign
		c.Enabled = true // simulate it switched on
		proposed.Campaigns = withCampaign(proposed.Campaigns, c)
	case pr.Rule != nil:
		if i := slices.IndexFunc(proposed.Rules, func(x kopilka.Rule) bool { return x.ID == pr.Rule.ID }); i >= 0 {
			proposed.Rules[i] = *pr.Rule
		} else {
			proposed.Rules = append(proposed.Rules, *pr.Rule)
		}
	default:
		return Simulation{}, kopilka.Invalid("programme", "give a programme, a campaign or a rule to simulate")
	}
	next, err := pricing.Compile(proposed)
	if err != nil {
		return Simulation{}, err
	}
	now := s.Env.Time()
	sim := Simulation{From: now.AddDate(0, 0, -pr.Days), To: now, Rules: []RuleTotal{}}
	members := map[string]*kopilka.Member{}
	affected := map[string]bool{}
	ruleMembers := map[string]map[string]bool{}
	totals := map[string]*RuleTotal{}
	var order []string
	curLimits, nextLimits := newMemoryLimits(), newMemoryLimits()
	var cursor *kopilka.Cursor
	for {
		var page []*kopilka.Purchase
		err := s.DB.View(ctx, func(tx Tx) (err error) {
			if page, err = tx.PurchasesBetween(ctx, sim.From, sim.To, cursor, 500); err != nil {
				return err
			}
			for _, p := range page {
				if members[p.MemberID] == nil {
					m, err := tx.Member(ctx, p.MemberID)
					if err != nil {
						return err
					}
					members[p.MemberID] = &m
				}
			}
			return nil
		})
		if err != nil {
			return Simulation{}, err
		}
		for _, p := range page {
			if p.Status == kopilka.PurchaseCancelled {
				continue
			}
			m := members[p.MemberID]
			r := kopilka.Receipt{ReceiptID: p.ReceiptID, StoreID: p.StoreID, PartnerID: p.PartnerID, MemberID: p.MemberID, OccurredAt: p.OccurredAt,
				SpendPoints: p.Quote.Spent, SpendMode: kopilka.SpendUpTo}
			var partner *kopilka.Partner // the store's partner as it is now
			if site, err := s.Sites.Site(ctx, p.StoreID); err == nil {
				partner = &site.Partner
			}
			for _, l := range p.Lines {
				r.Lines = append(r.Lines, l.Line)
			}
			in := pricing.PriceInput{Receipt: r, Partner: partner, Member: m, Available: p.Quote.Spent, Now: p.OccurredAt}
			a, err := cur.Price(ctx, in, curLimits.of(m.ID, p.OccurredAt, cur.Loc))
			if err != nil {
				continue // a receipt the current rules cannot price now counts in neither
			}
			b, err := next.Price(ctx, in, nextLimits.of(m.ID, p.OccurredAt, next.Loc))
			if err != nil {
				continue
			}
			sim.Receipts++
			sim.CurrentPoints += a.Earned
			sim.ProposedPoints += b.Earned
			if a.Earned != b.Earned {
				sim.ReceiptsAffected++
				affected[m.ID] = true
			}
			seen := map[string]bool{}
			count := func(rule, campaign string, points int64) {
				t := totals[rule]
				if t == nil {
					t = &RuleTotal{Rule: rule, Campaign: campaign}
					totals[rule], ruleMembers[rule] = t, map[string]bool{}
					order = append(order, rule)
				}
				t.Points += points
				if !seen[rule] {
					seen[rule] = true
					t.Receipts++
				}
				ruleMembers[rule][m.ID] = true
			}
			for _, rl := range b.Rules {
				count(rl.Rule, rl.Campaign, rl.Points)
			}
			for _, aw := range b.Awards {
				count(aw.Rule, aw.Campaign, aw.Points)
			}
		}
		if len(page) < 500 {
			break
		}
		last := page[len(page)-1]
		cursor = &kopilka.Cursor{CreatedAt: last.OccurredAt, ID: last.TxID}
	}
	sim.Members = len(members)
	sim.MembersAffected = len(affected)
	sim.ExtraPoints = sim.ProposedPoints - sim.CurrentPoints
	sim.ExtraCost = sim.ExtraPoints * proposed.PointValue
	for _, id := range order {
		t := totals[id]
		t.Members = len(ruleMembers[id])
		sim.Rules = append(sim.Rules, *t)
	}
	return sim, nil
}

// memoryLimits keeps members' caps and budgets of a simulation in memory.
type memoryLimits struct {
	used map[string]int64
}

func newMemoryLimits() *memoryLimits { return &memoryLimits{used: map[string]int64{}} }

// of returns the limits for one member's receipt at a time.
func (l *memoryLimits) of(memberID string, at time.Time, loc *time.Location) pricing.Limits {
	return memberLimits{l, memberID, at.In(loc)}
}

type memberLimits struct {
	*memoryLimits
	memberID string
	at       time.Time
}

func (l memberLimits) capKey(r *kopilka.Rule) string {
	return l.memberID + "|rule:" + r.ID + "|" + kopilka.PeriodStart(r.CapPerMember.Period, l.at).Format(time.DateOnly)
}

func (l memberLimits) Left(_ context.Context, r *kopilka.Rule, budgetName string, budget int64) (int64, error) {
	left := int64(1<<63 - 1)
	if c := r.CapPerMember; c != nil {
		left = c.Points - l.used[l.capKey(r)]
	}
	if budgetName != "" {
		left = min(left, budget-l.used[budgetName])
	}
	return max(left, 0), nil
}

func (l memberLimits) Take(ctx context.Context, r *kopilka.Rule, budgetName string, budget, want int64) (int64, error) {
	left, _ := l.Left(ctx, r, budgetName, budget)
	got := min(want, left)
	if r.CapPerMember != nil {
		l.used[l.capKey(r)] += got
	}
	if budgetName != "" {
		l.used[budgetName] += got
	}
	return got, nil
}
