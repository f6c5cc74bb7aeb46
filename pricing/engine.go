package pricing

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
)

// Engine is a programme compiled for pricing: its rules in evaluation
// order, their conditions compiled, its times read in its zone. Compile
// builds it once per change of the programme.
type Engine struct {
	Programme kopilka.Programme
	Loc       *time.Location
	rules     []*crule
	tiers     map[string]*kopilka.Tier
	// needsMember: some rule reads the member (tier, tags, categories, …),
	// so a purchase must load the member before pricing.
	NeedsMember bool
	// needsLastPurchase: some condition reads member.days_since_last_purchase.
	NeedsLastPurchase bool
	// hasConditions: some rule has a condition or some campaign a segment.
	hasConditions bool
	// Rules by the category or SKU they are limited to (indexes into rules,
	// ascending); anyLine are the rules limited to neither.
	byCat, bySKU map[string][]int
	anyLine      []int
}

// crule is a compiled rule.
type crule struct {
	*kopilka.Rule
	campaign *ccampaign
	cats     map[string]bool // nil: any
	skus     map[string]bool
	stores   map[string]bool
	partners map[string]bool
	channels map[string]bool
	tiers    map[string]bool
	days     [7]bool
	anyDay   bool
	from, to int // minutes; from == to == -1: any hour
	starts   time.Time
	ends     time.Time
	cond     compiled
	personal bool
	// budgetKey names the shared budget the rule draws on ("" when none).
	budgetKey string
	budget    int64
	// groupKey: multipliers compete with multipliers, line rules with line rules.
	groupKey string
}

type ccampaign struct {
	*kopilka.Campaign
	starts, ends time.Time
	segment      compiled
}

func set(vs []string) map[string]bool {
	if len(vs) == 0 {
		return nil
	}
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

func lineKind(kind string) bool {
	return kind == kopilka.RulePercent || kind == kopilka.RulePerAmount || kind == kopilka.RulePerUnit
}

// compile builds the engine of a programme whose fields are sound: it
// compiles the conditions and reads the times.
func compileProgramme(p kopilka.Programme) (*Engine, error) {
	loc, err := kopilka.LoadZone(p.TimeZone)
	if err != nil {
		return nil, kopilka.Invalid("time_zone", err.Error())
	}
	e := &Engine{Programme: p, Loc: loc, tiers: map[string]*kopilka.Tier{}}
	var pr kopilka.Problems
	// work is the conditions' worst case on the largest receipt, so far.
	var work uint64
	overWork := false
	add := func(r *kopilka.Rule, field string, c *ccampaign) {
		cr := &crule{Rule: r, campaign: c, cats: set(r.Categories), skus: set(r.SKUs), stores: set(r.Stores), partners: set(r.Partners),
			channels: set(r.Channels), tiers: set(r.Tiers), anyDay: len(r.Days) == 0, from: -1, to: -1}
		for _, d := range r.Days {
			cr.days[slices.Index(kopilka.Weekdays, d)] = true
		}
		if r.Hours != nil {
			cr.from, _ = kopilka.Clock(r.Hours.From)
			cr.to, _ = kopilka.Clock(r.Hours.To)
		}
		for _, t := range []struct {
			name, v string
			dst     *time.Time
		}{{"starts_at", r.StartsAt, &cr.starts}, {"ends_at", r.EndsAt, &cr.ends}} {
			if t.v == "" {
				continue
			}
			var err error
			if *t.dst, err = kopilka.LocalTime(t.v, loc); err != nil {
				pr.Add(field+"."+t.name, err.Error())
			}
		}
		if r.Condition != "" {
			c, err := compileCEL(r.Condition, false)
			if err != nil {
				pr.Add(field+".condition", err.Error())
			} else if work = addWork(work, c); work > MaxProgrammeCost && !overWork {
				overWork = true
				pr.Add(field+".condition", fmt.Sprintf("the programme's conditions together may take more than %d steps on a receipt of %d lines; this one takes them past it (a condition that reads line.* counts once per line): simplify or remove conditions",
					MaxProgrammeCost, kopilka.MaxLines))
			}
			cr.cond = c
			e.hasConditions = true
			e.NeedsMember = e.NeedsMember || c.member
			e.NeedsLastPurchase = e.NeedsLastPurchase || c.lastPurchase
		}
		e.NeedsMember = e.NeedsMember || len(r.Tiers) > 0
		switch {
		case r.Budget > 0:
			cr.budgetKey, cr.budget = "rule:"+r.ID, r.Budget
		case c != nil && c.Budget > 0:
			cr.budgetKey, cr.budget = "campaign:"+c.ID, c.Budget
		}
		cr.groupKey = r.Group
		if r.Kind == kopilka.RuleMultiplier {
			cr.groupKey = "×" + r.Group
		}
		e.rules = append(e.rules, cr)
	}
	// The base rule stands even at a zero rate: a partner's own rate replaces it.
	{
		add(&kopilka.Rule{ID: kopilka.BaseRuleID, Name: "earn rate", Kind: kopilka.RulePercent, Percent: p.EarnRate, Group: kopilka.BaseRuleID}, "earn_rate_percent", nil)
	}
	if len(p.Personal.Offered) > 0 {
		add(&kopilka.Rule{ID: kopilka.PersonalRuleID, Name: "chosen categories", Kind: kopilka.RulePercent, Percent: p.Personal.Percent, Categories: p.Personal.Offered}, "personal_categories", nil)
		e.rules[len(e.rules)-1].personal = true
		e.NeedsMember = true
	}
	for i := range p.Tiers.Levels {
		t := &p.Tiers.Levels[i]
		e.tiers[t.Name] = t
		e.NeedsMember = true
		if t.EarnMultiplier > kopilka.QuantityScale {
			add(&kopilka.Rule{ID: "tier:" + t.Name, Name: "tier " + t.Name, Kind: kopilka.RuleMultiplier, Factor: t.EarnMultiplier, Tiers: []string{t.Name}}, fmt.Sprintf("tiers.levels[%d]", i), nil)
		}
	}
	for i := range p.Rules {
		add(&p.Rules[i], fmt.Sprintf("rules[%d]", i), nil)
	}
	for i := range p.Campaigns {
		c := &ccampaign{Campaign: &p.Campaigns[i]}
		field := fmt.Sprintf("campaigns[%d]", i)
		var err error
		if c.starts, err = kopilka.LocalTime(c.StartsAt, loc); err != nil {
			pr.Add(field+".starts_at", err.Error())
		}
		if c.ends, err = kopilka.LocalTime(c.EndsAt, loc); err != nil {
			pr.Add(field+".ends_at", err.Error())
		} else if !c.ends.After(c.starts) {
			pr.Add(field+".ends_at", "must be after starts_at")
		}
		if c.Segment != "" {
			if c.segment, err = compileCEL(c.Segment, true); err != nil {
				pr.Add(field+".segment", err.Error())
			} else if work = addWork(work, c.segment); work > MaxProgrammeCost && !overWork {
				overWork = true
				pr.Add(field+".segment", fmt.Sprintf("the programme's conditions together may take more than %d steps on a receipt of %d lines; this segment takes them past it: simplify or remove conditions",
					MaxProgrammeCost, kopilka.MaxLines))
			}
			e.NeedsMember, e.hasConditions = true, true
			e.NeedsLastPurchase = e.NeedsLastPurchase || c.segment.lastPurchase
		}
		for j := range c.Rules {
			add(&c.Rules[j], fmt.Sprintf("%s.rules[%d]", field, j), c)
		}
	}
	if err := pr.Err(); err != nil {
		return nil, err
	}
	// The documented order: higher priority first; among equals, the built-in
	// rules, then the programme's rules, then campaigns' rules, each as written.
	slices.SortStableFunc(e.rules, func(a, b *crule) int { return b.Priority - a.Priority })
	e.byCat, e.bySKU = map[string][]int{}, map[string][]int{}
	for i, cr := range e.rules {
		switch {
		case cr.cats != nil:
			for c := range cr.cats {
				e.byCat[c] = append(e.byCat[c], i)
			}
		case cr.skus != nil:
			for s := range cr.skus {
				e.bySKU[s] = append(e.bySKU[s], i)
			}
		default:
			e.anyLine = append(e.anyLine, i)
		}
	}
	return e, nil
}

// Location is the programme's time zone.
func (e *Engine) Location() *time.Location { return e.Loc }

// Limits are the limits kept outside a receipt: a member's cap per period
// and budgets. Pricing asks Left of every capped rule before it chooses the
// best of each group, so that a spent rule does not win a line it cannot
// pay, and Take for the points it gives. Nil Limits limit nothing.
type Limits interface {
	// Left is how many points the rule may still give (budgetKey: the
	// budget it draws on, "" for none).
	Left(ctx context.Context, r *kopilka.Rule, budgetKey string, budget int64) (int64, error)
	// Take gives up to want points and returns how many it gave.
	Take(ctx context.Context, r *kopilka.Rule, budgetKey string, budget int64, want int64) (int64, error)
}

// PriceInput is what pricing reads besides the programme.
type PriceInput struct {
	Receipt kopilka.Receipt
	// Partner is the store's partner (nil: none): its earn rate and spend
	// share replace the programme's, and lines outside its categories
	// neither earn nor take points.
	Partner   *kopilka.Partner
	Member    *kopilka.Member // nil: a member with no tier, tags or choices
	Available int64
	// CardLeft is what the receipt's card may still spend today (nil: no limit).
	CardLeft *int64
	// LastPurchase is the member's last purchase before this one (zero: none).
	LastPurchase time.Time
	Now          time.Time
	// Verdicts, when set, are the conditions judged ahead (Engine.Judge),
	// used instead of evaluating them if they still fit.
	Verdicts *Verdicts
}

// Price computes the quote of a receipt for a member who has available
// points, with limits asked for capped points. It changes nothing itself.
//
// Spending: points pay for lines in proportion to their amounts, never more
// than a line's cap (its amount, less for capped categories, zero for
// excluded ones). Earning: see docs/rules.md for the order and the modes.
func (e *Engine) Price(ctx context.Context, in PriceInput, limits Limits) (kopilka.Quote, error) {
	p := &e.Programme
	r := &in.Receipt
	m := in.Member
	if m == nil {
		m = &kopilka.Member{}
	}
	q := kopilka.Quote{ReceiptID: r.ReceiptID, MemberID: r.MemberID, Tier: m.Tier, Lines: make([]kopilka.QuoteLine, len(r.Lines))}
	n := len(r.Lines)
	amounts := make([]int64, n)
	caps := make([]int64, n)
	var capacity int64
	excluded := map[string]int{}
	shares := map[string]kopilka.Percent{}
	for _, c := range p.Spending.Categories {
		shares[c.Category] = c.MaxSpend
	}
	for i, l := range r.Lines {
		amounts[i] = l.Amount
		q.Total += l.Amount
		ql := &q.Lines[i]
		ql.Line = l.Line
		switch {
		case !in.Partner.Sells(l.Category):
			ql.SpendNote = "partner " + in.Partner.ID + " does not sell category " + l.Category + " under the programme"
			excluded[l.Category]++
		case slices.Contains(p.Spending.ExcludedSKUs, l.SKU):
			ql.SpendNote = "points may not pay for SKU " + l.SKU
			excluded[l.SKU]++
		case l.Category != "" && slices.Contains(p.Spending.ExcludedCategories, l.Category):
			ql.SpendNote = "points may not pay for category " + l.Category
			excluded[l.Category]++
		default:
			caps[i] = l.Amount / p.PointValue
			if s, ok := shares[l.Category]; ok && l.Category != "" {
				caps[i], _ = kopilka.RoundDown.Div(l.Amount, int64(s), 100*kopilka.PercentScale*p.PointValue)
				ql.SpendNote = fmt.Sprintf("points may pay at most %s%% of category %s", s, l.Category)
			}
		}
		ql.SpendCap = caps[i]
		capacity += caps[i]
	}
	share, who := p.MaxSpend, "the programme"
	if pa := in.Partner; pa != nil && pa.MaxSpend != nil {
		share, who = *pa.MaxSpend, "partner "+pa.ID
	}
	if t := e.tiers[m.Tier]; t != nil && t.MaxSpend != nil && (in.Partner == nil || in.Partner.MaxSpend == nil || *t.MaxSpend < share) {
		share, who = *t.MaxSpend, "tier "+t.Name
	}
	shareMax, _ := kopilka.RoundDown.Div(q.Total, int64(share), 100*kopilka.PercentScale*p.PointValue)
	q.MaxSpend = min(shareMax, capacity, in.Available)
	limit := &q.SpendLimit
	if in.Available < p.Spending.MinBalance {
		q.MaxSpend = 0
		limit.Reasons = append(limit.Reasons, fmt.Sprintf("spending needs a balance of at least %d points", p.Spending.MinBalance))
	}
	if q.MaxSpend == shareMax {
		limit.Reasons = append(limit.Reasons, fmt.Sprintf("%s lets points pay at most %s%% of a receipt", who, share))
	}
	if q.MaxSpend == capacity {
		why := "the lines' own caps"
		if len(excluded) > 0 {
			keys := make([]string, 0, len(excluded))
			for k := range excluded {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			why = "lines points may not pay for (" + strings.Join(keys, ", ") + ") and the lines' caps"
		}
		limit.Reasons = append(limit.Reasons, fmt.Sprintf("%s allow at most %d points", why, capacity))
	}
	if q.MaxSpend == in.Available {
		limit.Reasons = append(limit.Reasons, fmt.Sprintf("the member has %d points available", in.Available))
	}
	if left := in.CardLeft; left != nil && *left <= q.MaxSpend {
		q.MaxSpend = *left
		limit.Reasons = append(limit.Reasons, fmt.Sprintf("the member may spend %d more points today (at most %d a day, whatever card the receipts name)", *left, p.Spending.CardDailyLimit))
	}
	limit.Max, limit.Requested = q.MaxSpend, r.SpendPoints
	spend := r.SpendPoints
	if spend > q.MaxSpend {
		if r.SpendMode != kopilka.SpendUpTo {
			e := &kopilka.Error{
				Code:   kopilka.ESPENDLIMIT,
				Fields: []kopilka.FieldError{{Field: "spend_points", Detail: fmt.Sprintf("at most %d points may pay for this receipt: %s", q.MaxSpend, strings.Join(limit.Reasons, "; "))}},
				Extra:  map[string]any{"max_spend": q.MaxSpend, "available": in.Available, "reasons": limit.Reasons},
			}
			if r.SpendPoints > in.Available {
				e.Code = kopilka.EINSUFFICIENT
				e.Fields[0].Detail = fmt.Sprintf("the member has %d points available", in.Available)
			}
			e.Message = e.Fields[0].Detail
			return kopilka.Quote{}, e
		}
		spend, limit.Cut = q.MaxSpend, true
	}
	spent := kopilka.Allocate(spend, amounts, caps)
	paid := make([]int64, n)
	for i := range r.Lines {
		paid[i] = amounts[i] - spent[i]*p.PointValue
		q.Paid += paid[i]
		q.Lines[i].Spent, q.Lines[i].Paid = spent[i], paid[i]
	}
	q.Spent = spend
	if err := e.earn(ctx, &q, in, m, paid, limits); err != nil {
		return kopilka.Quote{}, err
	}
	if err := ctx.Err(); err != nil {
		return kopilka.Quote{}, err // conditions stopped early: the quote is not whole
	}
	return q, nil
}

// earn gives the points of every rule that applies: see docs/rules.md.
func (e *Engine) earn(ctx context.Context, q *kopilka.Quote, in PriceInput, m *kopilka.Member, paid []int64, limits Limits) error {
	p := &e.Programme
	r := &in.Receipt
	v, at, lt := e.newVars(ctx, in, m, q.Total)
	minute := lt.Hour()*60 + lt.Minute()

	j := &judge{v: v}
	if pre := in.Verdicts; pre.fit(e, in, m) {
		j.pre = pre
	}

	// Which rules hold for this receipt at all.
	active := make([]bool, len(e.rules))
	perLine := false
	for i, cr := range e.rules {
		active[i] = cr.activeAt(at, lt, minute, r, m, j, i)
		if active[i] && limits != nil && cr.capped() {
			left, err := limits.Left(ctx, cr.Rule, cr.budgetKey, cr.budget)
			if err != nil {
				return err
			}
			active[i] = left > 0 // spent: it neither gives nor wins a group
		}
		perLine = perLine || active[i] && cr.cond.perLine
	}
	// Walk every line through the active rules in order; a stop rule ends
	// the walk for the lines it matched. Rules limited to categories or SKUs
	// are looked up by the line's category and SKU, not tried one by one.
	applies := make([][]int, len(e.rules))
	type best struct {
		rule  int
		value int64
	}
	candidates := make([]int, 0, len(e.rules))
	for li := range r.Lines {
		l := &r.Lines[li]
		if !in.Partner.Sells(l.Category) {
			continue // not the partner's to sell: no rule gives it points
		}
		v.setLine(l, perLine && j.pre == nil)
		candidates = mergeSorted(candidates[:0], e.anyLine, e.byCat[l.Category], e.bySKU[l.SKU])
		var groups map[string]best
		for _, ci := range candidates {
			cr := e.rules[ci]
			if !active[ci] || !cr.matchLine(l, m, j, ci, li) {
				continue
			}
			if cr.Group != "" && cr.Kind != kopilka.RulePerReceipt && cr.Kind != kopilka.RuleThreshold {
				// Best of the group on this line; the first wins a tie.
				val := cr.estimate(p, in.Partner, paid[li], l.Quantity)
				if groups == nil {
					groups = map[string]best{}
				}
				if b, ok := groups[cr.groupKey]; !ok || val > b.value {
					groups[cr.groupKey] = best{ci, val}
				}
			} else {
				applies[ci] = append(applies[ci], li)
			}
			if cr.Stop {
				break
			}
		}
		for _, b := range groups {
			applies[b.rule] = append(applies[b.rule], li)
		}
	}
	v.line = nil

	lineRules := make([][]kopilka.RulePoints, len(r.Lines))
	base := make([]int64, len(r.Lines))
	// earned is what the rules gave so far, never past the receipt's cap:
	// every sum of points below stays under it, so none can wrap.
	var earned int64
	receiptCap := p.ReceiptPointsCap()
	give := func(cr *crule, want int64) (int64, error) {
		if cr.CapPerReceipt > 0 {
			want = min(want, cr.CapPerReceipt)
		}
		if sum, ok := kopilka.Add(earned, max(want, 0)); !ok || sum > receiptCap {
			return 0, &kopilka.Error{Code: kopilka.EPOINTSCAP,
				Message: fmt.Sprintf("the receipt would earn more than %d points, the most one receipt may earn (rule %s)", receiptCap, cr.ID),
				Fields:  []kopilka.FieldError{{Field: "lines", Detail: fmt.Sprintf("would earn more than %d points", receiptCap)}},
				Extra:   map[string]any{"max_receipt_points": receiptCap}}
		}
		if want <= 0 || limits == nil || !cr.capped() {
			want = max(want, 0)
			earned += want
			return want, nil
		}
		got, err := limits.Take(ctx, cr.Rule, cr.budgetKey, cr.budget, want)
		earned += got
		return got, err
	}
	spread := func(cr *crule, points int64, lines []int, weight func(int) int64) {
		if points == 0 {
			return
		}
		w := make([]int64, len(lines))
		for i, li := range lines {
			w[i] = weight(li)
		}
		parts := kopilka.Allocate(points, w, nil)
		for i, li := range lines {
			if parts[i] > 0 {
				lineRules[li] = append(lineRules[li], kopilka.RulePoints{Rule: cr.ID, Campaign: cr.campaignID(), Points: parts[i]})
				q.Lines[li].Earned += parts[i]
			}
		}
	}
	// Line rules first, in order; then multipliers on what they gave; then
	// the receipt's awards.
	for i, cr := range e.rules {
		lines := applies[i]
		if len(lines) == 0 || !lineKind(cr.Kind) {
			continue
		}
		var sum int64
		weight := func(li int) int64 { return paid[li] }
		if cr.Kind == kopilka.RulePerUnit {
			weight = func(li int) int64 { return int64(r.Lines[li].Quantity) }
		}
		for _, li := range lines {
			sum += weight(li)
		}
		var want int64
		var ok bool
		switch cr.Kind {
		case kopilka.RulePercent:
			want, ok = p.Rounding.Div(sum, int64(cr.percent(in.Partner)), 100*kopilka.PercentScale*p.PointValue)
		case kopilka.RulePerAmount:
			want, ok = kopilka.RoundDown.Div(sum/cr.Per, cr.Points, 1)
		case kopilka.RulePerUnit:
			want, ok = kopilka.RoundDown.Div(sum, cr.Points, kopilka.QuantityScale)
		}
		if !ok {
			return kopilka.Invalid("lines", "the receipt is too large")
		}
		got, err := give(cr, want)
		if err != nil {
			return err
		}
		before := make([]int64, len(lines))
		for i, li := range lines {
			before[i] = q.Lines[li].Earned
		}
		spread(cr, got, lines, weight)
		for i, li := range lines {
			base[li] += q.Lines[li].Earned - before[i]
		}
	}
	for i, cr := range e.rules {
		lines := applies[i]
		if len(lines) == 0 || cr.Kind != kopilka.RuleMultiplier {
			continue
		}
		var sum int64
		for _, li := range lines {
			sum += base[li]
		}
		want, ok := p.Rounding.Div(sum, int64(cr.Factor)-kopilka.QuantityScale, kopilka.QuantityScale)
		if !ok {
			return kopilka.Invalid("lines", "the receipt is too large")
		}
		got, err := give(cr, want)
		if err != nil {
			return err
		}
		spread(cr, got, lines, func(li int) int64 { return base[li] })
	}
	// Receipt awards: best of each group, then in order.
	type candidate struct {
		cr    *crule
		award kopilka.Award
	}
	var awards []candidate
	bestOf := map[string]int{}
	for i, cr := range e.rules {
		lines := applies[i]
		if len(lines) == 0 || (cr.Kind != kopilka.RulePerReceipt && cr.Kind != kopilka.RuleThreshold) {
			continue
		}
		a := kopilka.Award{Rule: cr.ID, Campaign: cr.campaignID(), Kind: cr.Kind, Each: cr.Points, Threshold: cr.Threshold, Repeat: cr.Repeat}
		for _, li := range lines {
			a.Lines = append(a.Lines, r.Lines[li].Line)
			a.Basis += paid[li]
		}
		a.Points = a.Value(a.Basis)
		if a.Points == 0 {
			continue
		}
		if cr.Group != "" {
			if i, ok := bestOf[cr.Group]; ok {
				if a.Points > awards[i].award.Points {
					awards[i] = candidate{cr, a}
				}
				continue
			}
			bestOf[cr.Group] = len(awards)
		}
		awards = append(awards, candidate{cr, a})
	}
	for _, c := range awards {
		got, err := give(c.cr, c.award.Points)
		if err != nil {
			return err
		}
		if got > 0 {
			c.award.Points = got
			q.Awards = append(q.Awards, c.award)
			q.Earned += got
		}
	}
	// Every rule's total for the receipt, then each line's largest few.
	total := map[string]int{}
	for i := range q.Lines {
		for _, rp := range lineRules[i] {
			j, ok := total[rp.Rule]
			if !ok {
				j = len(q.Rules)
				total[rp.Rule] = j
				q.Rules = append(q.Rules, kopilka.RuleLines{Rule: rp.Rule, Campaign: rp.Campaign})
			}
			q.Rules[j].Points += rp.Points
			q.Rules[j].Lines++
		}
		rules := lineRules[i]
		if len(rules) > kopilka.MaxLineRules {
			slices.SortStableFunc(rules, func(a, b kopilka.RulePoints) int { return cmp.Compare(b.Points, a.Points) })
			for _, rp := range rules[kopilka.MaxLineRules:] {
				q.Lines[i].MoreRules++
				q.Lines[i].MorePoints += rp.Points
			}
			rules = rules[:kopilka.MaxLineRules:kopilka.MaxLineRules]
		}
		q.Lines[i].Rules = rules
		q.Earned += q.Lines[i].Earned
	}
	return nil
}

// addWork adds a condition's worst case on the largest receipt to work.
func addWork(work uint64, c compiled) uint64 {
	n := c.cost
	if c.perLine {
		n *= kopilka.MaxLines
	}
	return work + n
}

// mergeSorted appends the union of ascending lists a, b and c to dst, in order.
func mergeSorted(dst, a, b, c []int) []int {
	for len(a)+len(b)+len(c) > 0 {
		next := -1
		for _, l := range [][]int{a, b, c} {
			if len(l) > 0 && (next < 0 || l[0] < next) {
				next = l[0]
			}
		}
		if len(a) > 0 && a[0] == next {
			a = a[1:]
		}
		if len(b) > 0 && b[0] == next {
			b = b[1:]
		}
		if len(c) > 0 && c[0] == next {
			c = c[1:]
		}
		dst = append(dst, next)
	}
	return dst
}

// capped: the rule draws on a member's cap or a budget.
func (cr *crule) capped() bool { return cr.CapPerMember != nil || cr.budgetKey != "" }

func (cr *crule) campaignID() string {
	if cr.campaign == nil {
		return ""
	}
	return cr.campaign.ID
}

// InSegment reports whether the campaign's segment selects member m as of
// at (a campaign without a segment selects everyone). A segment reading
// member.days_since_last_purchase sees lastPurchase (zero: none). An
// unknown campaign selects nobody.
func (e *Engine) InSegment(ctx context.Context, campaignID string, m *kopilka.Member, at, lastPurchase time.Time) bool {
	for _, cr := range e.rules {
		if c := cr.campaign; c != nil && c.ID == campaignID {
			v, _, _ := e.newVars(ctx, PriceInput{Member: m, Now: at, LastPurchase: lastPurchase, Receipt: kopilka.Receipt{OccurredAt: at}}, m, 0)
			return c.segment.test(v)
		}
	}
	return false
}

// activeAt checks what a rule (number i) needs of the receipt, the time
// and the member.
func (cr *crule) activeAt(at, lt time.Time, minute int, r *kopilka.Receipt, m *kopilka.Member, j *judge, i int) bool {
	if cr.Disabled {
		return false
	}
	if c := cr.campaign; c != nil {
		if !c.Enabled || at.Before(c.starts) || !at.Before(c.ends) || !j.segment(c) {
			return false
		}
		id := r.MemberID // the member is read only when a rule needs it
		if m != nil && m.ID != "" {
			id = m.ID
		}
		if c.HoldsOut(id) {
			return false // the campaign's control group
		}
	}
	switch {
	case !cr.starts.IsZero() && at.Before(cr.starts), !cr.ends.IsZero() && !at.Before(cr.ends):
		return false
	case !cr.anyDay && !cr.days[lt.Weekday()]:
		return false
	case cr.stores != nil && !cr.stores[r.StoreID]:
		return false
	case cr.partners != nil && !cr.partners[r.PartnerID]:
		return false
	case cr.channels != nil && !cr.channels[r.Channel]:
		return false
	case cr.tiers != nil && !cr.tiers[m.Tier]:
		return false
	case cr.personal && len(m.Categories) == 0:
		return false
	}
	if cr.from >= 0 {
		in := minute >= cr.from && minute < cr.to
		if cr.to <= cr.from { // past midnight
			in = minute >= cr.from || minute < cr.to
		}
		if !in {
			return false
		}
	}
	if cr.cond.prg != nil && !cr.cond.perLine {
		return j.receipt(cr, i)
	}
	return true
}

// matchLine checks what a rule (number i) needs of one line (number li).
func (cr *crule) matchLine(l *kopilka.Line, m *kopilka.Member, j *judge, i, li int) bool {
	if cr.cats != nil && !cr.cats[l.Category] {
		return false
	}
	if cr.skus != nil && !cr.skus[l.SKU] {
		return false
	}
	if cr.personal && !slices.Contains(m.Categories, l.Category) {
		return false
	}
	if cr.cond.perLine {
		return j.line(cr, i, li)
	}
	return true
}

// percent is a percent rule's rate: the partner's own earn rate replaces
// the programme's in the base rule.
func (cr *crule) percent(partner *kopilka.Partner) kopilka.Percent {
	if cr.ID == kopilka.BaseRuleID && partner != nil && partner.EarnRate != nil {
		return *partner.EarnRate
	}
	return cr.Percent
}

// estimate is what a rule would give one line, in thousandths of a point,
// to choose the best of a group.
func (cr *crule) estimate(p *kopilka.Programme, partner *kopilka.Partner, paid int64, qty kopilka.Quantity) int64 {
	var v int64
	switch cr.Kind {
	case kopilka.RulePercent:
		v, _, _ = kopilka.MulDiv(paid, int64(cr.percent(partner))*1000, 100*kopilka.PercentScale*p.PointValue)
	case kopilka.RulePerAmount:
		v, _, _ = kopilka.MulDiv(paid, cr.Points*1000, cr.Per)
	case kopilka.RulePerUnit:
		v, _, _ = kopilka.MulDiv(int64(qty), cr.Points, 1)
	case kopilka.RuleMultiplier:
		v = int64(cr.Factor)
	}
	return v
}
