package reports

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// Tags the refresh writes: "rfm:<segment>" and TagAtRisk. A campaign's
// segment or a rule's condition reads them as any tag:
// `"rfm:champions" in member.tags`.
const (
	TagRFM    = "rfm:"
	TagChurn  = "churn:"
	TagAtRisk = "churn:at_risk"
	// EventAtRisk is the member event of a member newly at risk.
	EventAtRisk = "churn.at_risk"
)

// MemberEvent is something that happened to a member for others to act
// on; Data is JSON.
type MemberEvent struct {
	ID        string          `json:"id"`
	MemberID  string          `json:"member_id"`
	Kind      string          `json:"kind"`
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
}

// RefreshTx is what the refresh writes through, a chunk of members a
// transaction.
type RefreshTx interface {
	access.Auditor
	// MemberTags returns the tags of the members named that exist.
	MemberTags(ctx context.Context, ids []string) (map[string][]string, error)
	// TaggedMembers returns up to limit ids, after after in id order, of
	// members with a tag starting with one of the prefixes.
	TaggedMembers(ctx context.Context, prefixes []string, after string, limit int) ([]string, error)
	// SetMemberTags replaces a member's tags.
	SetMemberTags(ctx context.Context, id string, tags []string) error
	// InsertMemberEvent appends an event.
	InsertMemberEvent(ctx context.Context, e MemberEvent) error
}

// Refreshed is what a refresh did.
type Refreshed struct {
	At      time.Time `json:"at"`
	Scored  int64     `json:"scored"`
	Changed int64     `json:"changed"`
	AtRisk  int64     `json:"at_risk"`
	NewRisk int64     `json:"newly_at_risk"`
	// Segments counts the members of each RFM segment.
	Segments map[string]int64 `json:"segments"`
	// Frozen counts the campaigns whose hold-out target was drawn.
	Frozen int `json:"campaigns_frozen"`
}

// refreshChunk is how many members one transaction of the refresh tags.
const refreshChunk = 500

// Refresh scores every member as of now: the RFM segment of the last
// year's purchases and the churn risk (ChurnQuery's defaults), and writes
// them as tags, replacing the last refresh's: "rfm:<segment>" and
// "churn:at_risk". A member newly at risk gets the event churn.at_risk
// with their P(alive) and days since the last purchase, in the
// transaction that tags them. Roles admin, marketing (and the jobs).
// Members are written 500 a transaction, each with its audit entry; a
// refresh that fails part way leaves the chunks before it done, and the
// next refresh finishes the work.
func (s *Service) Refresh(ctx context.Context) (Refreshed, error) {
	if err := access.Allow(ctx, access.ReportsRefresh); err != nil {
		return Refreshed{}, err
	}
	now := s.Env.Time()
	want := map[string][]string{}
	out := Refreshed{At: now.UTC(), Segments: map[string]int64{}}
	err := s.DB.View(ctx, func(tx Tx) error {
		return tx.RFMRows(ctx, now.AddDate(-1, 0, 0), now, func(r RFMRow) error {
			r = scored(r, now)
			want[r.MemberID] = append(want[r.MemberID], TagRFM+r.Segment)
			out.Segments[r.Segment]++
			out.Scored++
			return nil
		})
	})
	if err != nil {
		return out, err
	}
	risk := map[string]MemberRisk{}
	c, err := s.churn(ctx, ChurnQuery{At: now})
	switch {
	case kopilka.ErrorCode(err) == kopilka.ESTATE:
		// Too little history to fit: no member is tagged at risk.
	case err != nil:
		return out, err
	default:
		for _, r := range c.all {
			if r.AtRisk {
				risk[r.MemberID] = r
				want[r.MemberID] = append(want[r.MemberID], TagAtRisk)
				out.AtRisk++
			}
		}
	}
	// Every member to look at: those to tag now, and those tagged before.
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	prefixes := []string{TagRFM, TagChurn}
	after := ""
	for {
		var page []string
		if err := s.Refreshes.View(ctx, func(tx RefreshTx) (err error) {
			page, err = tx.TaggedMembers(ctx, prefixes, after, 1000)
			return err
		}); err != nil {
			return out, err
		}
		for _, id := range page {
			if _, ok := want[id]; !ok {
				ids = append(ids, id)
			}
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1]
	}
	// Campaigns with a hold-out that have started get their target frozen.
	if out.Frozen, err = s.FreezeTargets(ctx); err != nil {
		return out, err
	}
	slices.Sort(ids)
	for from := 0; from < len(ids); from += refreshChunk {
		chunk := ids[from:min(from+refreshChunk, len(ids))]
		changed, newRisk, err := s.retag(ctx, chunk, want, risk, now)
		if err != nil {
			return out, err
		}
		out.Changed += changed
		out.NewRisk += newRisk
	}
	return out, nil
}

// retag writes a chunk's tags in one transaction with its audit entry.
func (s *Service) retag(ctx context.Context, ids []string, want map[string][]string, risk map[string]MemberRisk, now time.Time) (changed, newRisk int64, err error) {
	a := access.Begin(ctx, s.Env, access.ReportsRefresh, ids[0])
	defer func() { err = access.Finish(ctx, s.Refreshes, a, err) }()
	err = kopilka.RetryRace(func() error {
		changed, newRisk = 0, 0
		return s.Refreshes.Update(ctx, func(tx RefreshTx) error {
			have, err := tx.MemberTags(ctx, ids)
			if err != nil {
				return err
			}
			for _, id := range ids {
				old, ok := have[id]
				if !ok {
					continue // erased or gone since
				}
				var tags []string
				for _, t := range old {
					if !strings.HasPrefix(t, TagRFM) && !strings.HasPrefix(t, TagChurn) {
						tags = append(tags, t)
					}
				}
				tags = append(tags, want[id]...)
				if slices.Equal(tags, old) {
					continue
				}
				if err := tx.SetMemberTags(ctx, id, tags); err != nil {
					return err
				}
				changed++
				if r, at := risk[id]; at && !slices.Contains(old, TagAtRisk) {
					data, _ := json.Marshal(map[string]any{"p_alive": r.PAlive, "days_since": r.DaysSince, "overdue": r.Overdue,
						"expected_purchases": r.Expected})
					if err := tx.InsertMemberEvent(ctx, MemberEvent{ID: s.Env.NewID(), MemberID: id, Kind: EventAtRisk, Data: data, CreatedAt: now}); err != nil {
						return err
					}
					newRisk++
				}
			}
			return a.Record(ctx, tx, nil, map[string]any{"members": len(ids), "changed": changed, "newly_at_risk": newRisk})
		})
	})
	return changed, newRisk, err
}
