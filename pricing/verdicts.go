package pricing

import (
	"context"
	"slices"
	"time"

	"github.com/kopilka/kopilka"
)

// Verdicts are a receipt's rule conditions and campaign segments, evaluated
// ahead of pricing by Engine.Judge. A caller that prices inside a database
// transaction holding a write lock (SQLite's one writer) judges first,
// outside it, and hands the verdicts to Price in PriceInput.Verdicts: then
// no condition runs while the lock is held. Price uses them only when they
// were made by the same engine, for the same receipt and time, and from a
// member who reads the same to a condition (id, tier, tags, categories,
// birth date, registration, last purchase); otherwise it evaluates the
// conditions itself.
type Verdicts struct {
	engine  *Engine
	receipt *kopilka.Receipt
	now     time.Time
	member  kopilka.Member
	last    time.Time
	// rule[i]: rule i's receipt condition holds (rules without one: true).
	rule []bool
	// line[i][li]: rule i's line condition on line li; 0 not judged, 1
	// holds, 2 does not (nil: rule i has no line condition).
	line [][]uint8
	// segment[c]: the campaign's segment holds.
	segment map[*ccampaign]bool
}

// HasConditions reports whether some rule has a condition or some campaign
// a segment: whether Judge has anything to do.
func (e *Engine) HasConditions() bool { return e.hasConditions }

// Judge evaluates every condition a receipt's pricing may ask (receipt
// conditions and segments once; line conditions for the lines each rule
// may match) for in.Member and in.LastPurchase. It reads no limits and
// changes nothing. A receipt with no conditions to judge gives nil.
func (e *Engine) Judge(ctx context.Context, in PriceInput) (*Verdicts, error) {
	if !e.hasConditions {
		return nil, nil
	}
	m := in.Member
	if m == nil {
		m = &kopilka.Member{}
	}
	r := &in.Receipt
	var total int64
	for _, l := range r.Lines {
		total += l.Amount
	}
	v, at, lt := e.newVars(ctx, in, m, total)
	minute := lt.Hour()*60 + lt.Minute()
	vd := &Verdicts{engine: e, receipt: r, now: in.Now, member: conditionView(m), last: in.LastPurchase,
		rule: make([]bool, len(e.rules)), line: make([][]uint8, len(e.rules)), segment: map[*ccampaign]bool{}}
	live := &judge{v: v}
	active := make([]bool, len(e.rules))
	for i, cr := range e.rules {
		if c := cr.campaign; c != nil {
			if _, ok := vd.segment[c]; !ok {
				vd.segment[c] = c.segment.test(v)
			}
		}
		if cr.cond.prg != nil && !cr.cond.perLine {
			vd.rule[i] = cr.cond.test(v)
		} else {
			vd.rule[i] = true
		}
		active[i] = cr.activeAt(at, lt, minute, r, m, &judge{pre: vd}, i)
		if active[i] && cr.cond.perLine {
			vd.line[i] = make([]uint8, len(r.Lines))
		}
	}
	candidates := make([]int, 0, len(e.rules))
	for li := range r.Lines {
		l := &r.Lines[li]
		if !in.Partner.Sells(l.Category) {
			continue
		}
		v.setLine(l, true)
		candidates = mergeSorted(candidates[:0], e.anyLine, e.byCat[l.Category], e.bySKU[l.SKU])
		for _, ci := range candidates {
			if vd.line[ci] == nil {
				continue
			}
			if e.rules[ci].matchLine(l, m, live, ci, li) {
				vd.line[ci][li] = 1
			} else {
				vd.line[ci][li] = 2
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return vd, nil
}

// conditionView is what conditions read of a member.
func conditionView(m *kopilka.Member) kopilka.Member {
	return kopilka.Member{ID: m.ID, Tier: m.Tier, Tags: m.Tags, Categories: m.Categories, BirthDate: m.BirthDate, CreatedAt: m.CreatedAt}
}

// fit reports whether the verdicts may stand for pricing in with member m.
func (vd *Verdicts) fit(e *Engine, in PriceInput, m *kopilka.Member) bool {
	if vd == nil || vd.engine != e || !vd.now.Equal(in.Now) || !vd.last.Equal(in.LastPurchase) {
		return false
	}
	a, b := vd.member, conditionView(m)
	if a.ID != b.ID || a.Tier != b.Tier || a.BirthDate != b.BirthDate || !a.CreatedAt.Equal(b.CreatedAt) ||
		!slices.Equal(a.Tags, b.Tags) || !slices.Equal(a.Categories, b.Categories) {
		return false
	}
	r := &in.Receipt
	return vd.receipt.ReceiptID == r.ReceiptID && vd.receipt.StoreID == r.StoreID && vd.receipt.Channel == r.Channel &&
		vd.receipt.OccurredAt.Equal(r.OccurredAt) && slices.Equal(vd.receipt.Lines, r.Lines)
}

// judge answers a rule's conditions: from verdicts made ahead (pre), or
// by evaluating them now over v.
type judge struct {
	v   *vars
	pre *Verdicts
}

func (j *judge) receipt(cr *crule, i int) bool {
	if j.pre != nil {
		return j.pre.rule[i]
	}
	return cr.cond.test(j.v)
}

func (j *judge) segment(c *ccampaign) bool {
	if j.pre != nil {
		if ok, seen := j.pre.segment[c]; seen {
			return ok
		}
	}
	return c.segment.test(j.v)
}

func (j *judge) line(cr *crule, i, li int) bool {
	if j.pre != nil {
		if l := j.pre.line[i]; l != nil && l[li] != 0 {
			return l[li] == 1
		}
		j.v.setLine(&j.pre.receipt.Lines[li], true) // not judged ahead: judge it now
	}
	return cr.cond.test(j.v)
}

// newVars is what conditions read of a receipt priced for member m: at is
// the receipt's time (now when it has none), lt the same in the
// programme's zone.
func (e *Engine) newVars(ctx context.Context, in PriceInput, m *kopilka.Member, total int64) (v *vars, at, lt time.Time) {
	r := &in.Receipt
	at = r.OccurredAt
	if at.IsZero() {
		at = in.Now
	}
	lt = at.In(e.Loc)
	v = &vars{ctx: ctx, member: m, receipt: r, total: total, weekday: kopilka.Weekdays[lt.Weekday()], hour: int64(lt.Hour()), date: lt.Format(time.DateOnly),
		age: -1, sinceP: -1, sinceR: int64(in.Now.Sub(m.CreatedAt) / (24 * time.Hour))}
	if b, err := time.ParseInLocation(time.DateOnly, m.BirthDate, e.Loc); err == nil {
		v.age = int64(lt.Year() - b.Year())
		if lt.Month() < b.Month() || lt.Month() == b.Month() && lt.Day() < b.Day() {
			v.age--
		}
	}
	if !in.LastPurchase.IsZero() {
		v.sinceP = max(0, int64(at.Sub(in.LastPurchase)/(24*time.Hour))) // a back-dated receipt: 0
	}
	for _, l := range r.Lines {
		if l.Category != "" && !slices.Contains(v.categories, l.Category) {
			v.categories = append(v.categories, l.Category)
		}
		v.skus = append(v.skus, l.SKU)
	}
	return v, at, lt
}
