package reports

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/baskets"
	"github.com/kopilka/kopilka/churn"
)

// BasketQuery asks for the association rules of the baskets (receipts,
// members' and guests', not cancelled, not returns) of [From, To), over
// SKUs or categories (Level "sku", the default, or "category"; a line
// without a category counts as none), at a support and a confidence
// (defaults 0.005 and 0.5, as arules' usual example), listing Limit rules
// (default 20, at most 1,000).
type BasketQuery struct {
	From, To      time.Time
	Level         string
	MinSupport    float64
	MinConfidence float64
	Limit         int
}

// BasketRules are the rules found: how many baskets were read, how many
// itemsets reached the support, how many rules the confidence, and the
// first Limit rules (the most confident first, then by lift).
type BasketRules struct {
	From          time.Time      `json:"from"`
	To            time.Time      `json:"to"`
	Level         string         `json:"level"`
	MinSupport    float64        `json:"min_support"`
	MinConfidence float64        `json:"min_confidence"`
	Baskets       int            `json:"baskets"`
	Itemsets      int            `json:"itemsets"`
	Total         int            `json:"rules_total"`
	Rules         []baskets.Rule `json:"rules"`
	// Names are the names of the SKUs of the rules listed, where known.
	Names map[string]string `json:"names,omitempty"`
	all   []baskets.Rule
}

// MaxBaskets bounds the baskets one mining reads (they are held in memory):
// a longer period is refused, naming from.
const MaxBaskets = 2_000_000

func (q *BasketQuery) defaults(now time.Time) error {
	if q.To.IsZero() {
		q.To = now
	}
	if q.From.IsZero() {
		q.From = q.To.AddDate(0, 0, -90)
	}
	if q.Level == "" {
		q.Level = "sku"
	}
	if q.MinSupport == 0 {
		q.MinSupport = 0.005
	}
	if q.MinConfidence == 0 {
		q.MinConfidence = 0.5
	}
	if q.Limit == 0 {
		q.Limit = 20
	}
	switch {
	case !q.To.After(q.From):
		return kopilka.FieldErr(kopilka.EINVALID, "from", "the period ends before it starts")
	case q.Level != "sku" && q.Level != "category":
		return kopilka.FieldErr(kopilka.EINVALID, "level", `level is "sku" or "category"`)
	case !(q.MinSupport >= 0.0001 && q.MinSupport <= 1):
		return kopilka.FieldErr(kopilka.EINVALID, "min_support", "must be 0.0001 to 1")
	case !(q.MinConfidence > 0 && q.MinConfidence <= 1):
		return kopilka.FieldErr(kopilka.EINVALID, "min_confidence", "must be above 0, at most 1")
	case q.Limit < 1 || q.Limit > 1000:
		return kopilka.FieldErr(kopilka.EINVALID, "limit", "must be 1 to 1000")
	}
	return nil
}

// ruleCache keeps the last minings for ten minutes: offers ask for the
// same rules member after member.
type ruleCache struct {
	mu   sync.Mutex
	byQ  map[BasketQuery]cachedRules
	hits int
}

type cachedRules struct {
	r  BasketRules
	at time.Time
}

// BasketRules mines the baskets of the query (roles admin, operator,
// marketing). More than MaxBaskets baskets, or more than a million
// itemsets at the support, is EINVALID.
func (s *Service) BasketRules(ctx context.Context, q BasketQuery) (BasketRules, error) {
	if err := access.Allow(ctx, access.ReportsAnalytics); err != nil {
		return BasketRules{}, err
	}
	return s.basketRules(ctx, q)
}

func (s *Service) basketRules(ctx context.Context, q BasketQuery) (BasketRules, error) {
	now := s.Env.Time()
	if err := q.defaults(now); err != nil {
		return BasketRules{}, err
	}
	key := q
	key.Limit = 0
	s.rules.mu.Lock()
	if c, ok := s.rules.byQ[key]; ok && now.Sub(c.at) < 10*time.Minute && now.After(c.at.Add(-time.Second)) {
		s.rules.hits++
		s.rules.mu.Unlock()
		return s.withNames(ctx, c.r.limited(q.Limit))
	}
	s.rules.mu.Unlock()
	// One mining at a time: it holds the period's baskets in memory and
	// both cores; another waits for it, or for its own request's end.
	s.miningOnce.Do(func() { s.mining = make(chan struct{}, 1) })
	select {
	case s.mining <- struct{}{}:
		defer func() { <-s.mining }()
	case <-ctx.Done():
		return BasketRules{}, ctx.Err()
	}
	m := baskets.NewMiner()
	err := s.DB.View(ctx, func(tx Tx) error {
		return tx.Baskets(ctx, q.From, q.To, q.Level == "category", func(items []string) error {
			if m.Baskets() >= MaxBaskets {
				return kopilka.FieldErr(kopilka.EINVALID, "from", "the period holds more than 2,000,000 baskets: choose a shorter one")
			}
			m.Add(items)
			return nil
		})
	})
	if err != nil {
		return BasketRules{}, err
	}
	out := BasketRules{From: q.From.UTC(), To: q.To.UTC(), Level: q.Level, MinSupport: q.MinSupport, MinConfidence: q.MinConfidence,
		Baskets: m.Baskets()}
	if m.Baskets() > 0 {
		sets, err := m.Frequent(ctx, baskets.MinCount(q.MinSupport, m.Baskets()))
		if errors.Is(err, baskets.ErrTooMany) {
			return BasketRules{}, kopilka.FieldErr(kopilka.EINVALID, "min_support", "more than 200,000 itemsets reach this support: ask for a higher one")
		}
		if err != nil {
			return BasketRules{}, err
		}
		out.Itemsets = len(sets)
		out.all = baskets.Rules(sets, m.Baskets(), q.MinConfidence)
		for i := range out.all {
			r := &out.all[i]
			r.Support, r.Confidence, r.Lift = round4(r.Support), round4(r.Confidence), round4(r.Lift)
		}
		out.Total = len(out.all)
	}
	s.rules.mu.Lock()
	if s.rules.byQ == nil || len(s.rules.byQ) > 16 {
		s.rules.byQ = map[BasketQuery]cachedRules{}
	}
	s.rules.byQ[key] = cachedRules{out, now}
	s.rules.mu.Unlock()
	return s.withNames(ctx, out.limited(q.Limit))
}

// withNames adds the names of the listed rules' SKUs.
func (s *Service) withNames(ctx context.Context, out BasketRules) (BasketRules, error) {
	out.Names = nil
	if out.Level != "sku" {
		return out, nil
	}
	var skus []string
	for _, r := range out.Rules {
		skus = append(append(skus, r.If...), r.Then)
	}
	err := s.DB.View(ctx, func(tx Tx) (err error) {
		out.Names, err = tx.ProductNames(ctx, skus)
		return err
	})
	return out, err
}

func (r BasketRules) limited(n int) BasketRules {
	r.Rules = r.all[:min(n, len(r.all))]
	if r.Rules == nil {
		r.Rules = []baskets.Rule{}
	}
	return r
}

// Offers are what to offer one member: complementary goods ("bought X,
// often buys Y") from the rules of the baskets of the last 90 days that
// the member's own purchases of the last year satisfy, whose Y the member
// has not bought in that year, the most confident first (one offer an
// item, by its best rule); and reminders of goods the member buys
// regularly (on three days or more) and is due to buy again: the days
// since the last purchase of it reach its usual gap (the median between
// its purchase days), up to three gaps (longer: lapsed, not due).
type Offers struct {
	MemberID      string     `json:"member_id"`
	Complementary []Offer    `json:"complementary"`
	Reminders     []Reminder `json:"reminders"`
}

// Offer is a good to offer and the rule behind it.
type Offer struct {
	Item       string   `json:"item"`
	Because    []string `json:"because"`
	Confidence float64  `json:"confidence"`
	Lift       float64  `json:"lift"`
}

// Reminder is a good the member is due to buy again.
type Reminder struct {
	Item         string    `json:"item"`
	Days         int       `json:"purchase_days"`
	LastAt       time.Time `json:"last_purchase_at"`
	UsualGapDays float64   `json:"usual_gap_days"`
	DaysSince    int64     `json:"days_since"`
}

// ItemDays is an item a member bought and the times they bought it.
type ItemDays struct {
	Item  string
	Times []time.Time
}

// Offers returns up to limit offers of each kind for the member (roles
// admin, operator, marketing, support: the service centre offers them on
// the phone). An unknown member is ENOTFOUND; the rules are as
// BasketRules' defaults at SKU level (level "category" offers categories).
func (s *Service) Offers(ctx context.Context, memberID, level string, limit int) (Offers, error) {
	if err := access.Allow(ctx, access.ReportsOffers); err != nil {
		return Offers{}, err
	}
	if limit == 0 {
		limit = 10
	}
	if limit < 1 || limit > 100 {
		return Offers{}, kopilka.FieldErr(kopilka.EINVALID, "limit", "must be 1 to 100")
	}
	now := s.Env.Time()
	rules, err := s.basketRules(ctx, BasketQuery{Level: level, Limit: 1})
	if err != nil {
		return Offers{}, err
	}
	var bought []ItemDays
	err = s.DB.View(ctx, func(tx Tx) (err error) {
		bought, err = tx.MemberItems(ctx, memberID, now.AddDate(-1, 0, 0), now, rules.Level == "category")
		return err
	})
	if err != nil {
		return Offers{}, err
	}
	has := map[string]bool{}
	for _, b := range bought {
		has[b.Item] = true
	}
	out := Offers{MemberID: memberID, Complementary: []Offer{}, Reminders: []Reminder{}}
	offered := map[string]bool{}
	for _, r := range rules.all {
		if len(out.Complementary) == limit {
			break
		}
		if has[r.Then] || offered[r.Then] || !all(r.If, has) {
			continue
		}
		offered[r.Then] = true
		out.Complementary = append(out.Complementary, Offer{Item: r.Then, Because: r.If, Confidence: r.Confidence, Lift: r.Lift})
	}
	for _, b := range bought {
		days := churn.Days(b.Times)
		if len(days) < 3 {
			continue
		}
		gaps := make([]float64, len(days)-1)
		for i := 1; i < len(days); i++ {
			gaps[i-1] = days[i].Sub(days[i-1]).Hours() / 24
		}
		slices.Sort(gaps)
		usual := gaps[len(gaps)/2]
		if len(gaps)%2 == 0 {
			usual = (gaps[len(gaps)/2-1] + gaps[len(gaps)/2]) / 2
		}
		last := slices.MaxFunc(b.Times, func(a, b time.Time) int { return a.Compare(b) })
		since := int64(now.Sub(last) / (24 * time.Hour))
		if float64(since) >= usual && float64(since) <= 3*usual {
			out.Reminders = append(out.Reminders, Reminder{Item: b.Item, Days: len(days), LastAt: last.UTC(),
				UsualGapDays: math.Round(usual*10) / 10, DaysSince: since})
		}
	}
	// The most overdue first, relative to their gap.
	slices.SortFunc(out.Reminders, func(a, b Reminder) int {
		ra, rb := float64(a.DaysSince)/a.UsualGapDays, float64(b.DaysSince)/b.UsualGapDays
		switch {
		case ra > rb:
			return -1
		case ra < rb:
			return 1
		}
		return strings.Compare(a.Item, b.Item)
	})
	out.Reminders = out.Reminders[:min(limit, len(out.Reminders))]
	return out, nil
}

func all(items []string, has map[string]bool) bool {
	for _, it := range items {
		if !has[it] {
			return false
		}
	}
	return true
}
