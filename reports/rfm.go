package reports

import (
	"context"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// RFM scoring (recency, frequency, monetary value), after Hughes, "Strategic
// Database Marketing" (1994), with the named segments marketers use.
//
// The members scored are those with a purchase in [From, At): a sale not
// cancelled, at any partner. For each:
//   - recency: the days from their last purchase to At (whole days, down);
//   - frequency: their purchases (receipts);
//   - monetary: what the purchases came to, net of returned units, less
//     imported returns not found on a purchase, in minor units. A line
//     partly returned counts amount × kept / quantity, rounded down.
//
// Each value is scored 1 to 5 by quintiles of the members' values: with
// the members ranked by the value (the smallest first; for recency the
// longest ago first), a member of rank k among n (k from 1; equal values
// share the lowest rank of their group, as SQL's RANK) scores
// 1 + ⌊5 (k − 1) / n⌋. So equal values always score the same, the order
// of the rows plays no part, and a value held by more than a fifth of the
// members (one purchase, typically) spreads no further: its group takes
// the score of its first rank.
//
// The segment comes from R and FM = ⌈(F + M) / 2⌉ by this grid, in which
// every one of the 125 scores has exactly one segment:
//
//	R \ FM   1              2              3              4          5
//	5        New            Potential L.   Potential L.   Champions  Champions
//	4        Promising      Potential L.   Potential L.   Loyal      Loyal
//	3        About to Sleep About to Sleep Need Attention Loyal      Loyal
//	2        Hibernating    Hibernating    At Risk        At Risk    Can't Lose Them
//	1        Lost           Hibernating    At Risk        At Risk    Can't Lose Them
type RFM struct {
	From     time.Time     `json:"from"`
	At       time.Time     `json:"at"`
	Members  int64         `json:"members"`
	Segments []SegmentSize `json:"segments"`
}

// SegmentSize is a segment's members, their share of those scored (in
// percent, one decimal), and their mean recency (days), frequency
// (purchases) and monetary value (minor units), rounded down.
type SegmentSize struct {
	Segment     string  `json:"segment"`
	Name        string  `json:"name"`
	Members     int64   `json:"members"`
	Percent     float64 `json:"percent"`
	RecencyDays int64   `json:"mean_recency_days"`
	Frequency   int64   `json:"mean_frequency"`
	Monetary    int64   `json:"mean_monetary"`
}

// RFMRow is one member's values and scores as the database ranks them.
type RFMRow struct {
	MemberID  string    `json:"member_id"`
	LastAt    time.Time `json:"last_purchase_at"`
	Recency   int64     `json:"recency_days"`
	Frequency int64     `json:"frequency"`
	Monetary  int64     `json:"monetary"`
	R         int       `json:"r"`
	F         int       `json:"f"`
	M         int       `json:"m"`
	Segment   string    `json:"segment"`
}

// Segments are the RFM segments' ids, in the order reports list them,
// with their names.
var Segments = []struct{ ID, Name string }{
	{"champions", "Champions"}, {"loyal", "Loyal"}, {"potential_loyalist", "Potential Loyalist"},
	{"new", "New"}, {"promising", "Promising"}, {"need_attention", "Need Attention"},
	{"about_to_sleep", "About to Sleep"}, {"at_risk", "At Risk"}, {"cant_lose_them", "Can't Lose Them"},
	{"hibernating", "Hibernating"}, {"lost", "Lost"},
}

// Segment returns the segment id of scores r, f and m (each 1–5) by the
// grid of RFM's documentation.
func Segment(r, f, m int) string {
	fm := (f + m + 1) / 2
	switch {
	case r == 5 && fm >= 4:
		return "champions"
	case r >= 3 && fm >= 4:
		return "loyal"
	case r >= 4 && fm >= 2:
		return "potential_loyalist"
	case r == 5:
		return "new"
	case r == 4:
		return "promising"
	case r == 3 && fm == 3:
		return "need_attention"
	case r == 3:
		return "about_to_sleep"
	case fm == 5:
		return "cant_lose_them"
	case fm >= 3:
		return "at_risk"
	case r == 1 && fm == 1:
		return "lost"
	}
	return "hibernating"
}

// scored fills a row's recency and segment.
func scored(r RFMRow, at time.Time) RFMRow {
	r.Recency = int64(at.Sub(r.LastAt) / (24 * time.Hour))
	r.Segment = Segment(r.R, r.F, r.M)
	return r
}

// ValidSegment reports whether id names an RFM segment.
func ValidSegment(id string) bool {
	for _, s := range Segments {
		if s.ID == id {
			return true
		}
	}
	return false
}

// rfmSpan checks the span and fills the defaults: at now, from a year
// before at.
func (s *Service) rfmSpan(from, at time.Time) (time.Time, time.Time, error) {
	if at.IsZero() {
		at = s.Env.Time()
	}
	if from.IsZero() {
		from = at.AddDate(-1, 0, 0)
	}
	if !at.After(from) {
		return from, at, kopilka.FieldErr(kopilka.EINVALID, "from", "the period ends before it starts")
	}
	return from, at, nil
}

// RFM returns the sizes of the segments of the members who bought in
// [from, at) (zero at: now; zero from: a year before at). Roles admin,
// operator, marketing.
func (s *Service) RFM(ctx context.Context, from, at time.Time) (RFM, error) {
	if err := access.Allow(ctx, access.ReportsAnalytics); err != nil {
		return RFM{}, err
	}
	from, at, err := s.rfmSpan(from, at)
	if err != nil {
		return RFM{}, err
	}
	type acc struct{ n, rec, freq, money int64 }
	sums := map[string]*acc{}
	var total int64
	err = s.DB.View(ctx, func(tx Tx) error {
		return tx.RFMRows(ctx, from, at, func(r RFMRow) error {
			r = scored(r, at)
			a := sums[r.Segment]
			if a == nil {
				a = &acc{}
				sums[r.Segment] = a
			}
			a.n++
			a.rec += r.Recency
			a.freq += r.Frequency
			a.money += r.Monetary
			total++
			return nil
		})
	})
	if err != nil {
		return RFM{}, err
	}
	out := RFM{From: from.UTC(), At: at.UTC(), Members: total}
	for _, seg := range Segments {
		sz := SegmentSize{Segment: seg.ID, Name: seg.Name}
		if a := sums[seg.ID]; a != nil {
			sz.Members, sz.RecencyDays, sz.Frequency, sz.Monetary = a.n, a.rec/a.n, a.freq/a.n, a.money/a.n
			sz.Percent = float64((a.n*1000+total/2)/total) / 10
		}
		out.Segments = append(out.Segments, sz)
	}
	return out, nil
}

// RFMMembers calls fn with each scored member of [from, at) (in the
// database's order of member ids, which follows its collation), or of one
// segment when segment is set (an unknown one is
// EINVALID). Roles admin, operator, marketing.
func (s *Service) RFMMembers(ctx context.Context, from, at time.Time, segment string, fn func(RFMRow) error) error {
	if err := access.Allow(ctx, access.ReportsAnalytics); err != nil {
		return err
	}
	if segment != "" && !ValidSegment(segment) {
		return kopilka.FieldErr(kopilka.EINVALID, "segment", "no RFM segment has this id")
	}
	from, at, err := s.rfmSpan(from, at)
	if err != nil {
		return err
	}
	return s.DB.View(ctx, func(tx Tx) error {
		return tx.RFMRows(ctx, from, at, func(r RFMRow) error {
			r = scored(r, at)
			if segment != "" && r.Segment != segment {
				return nil
			}
			return fn(r)
		})
	})
}
