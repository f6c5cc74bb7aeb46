// Package reports gives the programme's figures at a glance: the back
// office's overview of members, points and service cases. (The analytics
// of who buys and who drifts away build on it.)
package reports

import (
	"context"
	"sync"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/pricing"
)

// Overview is the programme now: members (every one not erased), those
// registered this month and those with a purchase in the last 30 days;
// the points issued (earned and given, net of what refunds took back),
// spent, expired and adjusted by hand this month (calendar month in the
// programme's time zone); the points outstanding (available and pending)
// and what the available ones are worth in money (minor units, at the
// programme's point value); purchases today; service cases open now.
type Overview struct {
	At         time.Time `json:"at"`
	MonthStart time.Time `json:"month_start"`
	DayStart   time.Time `json:"day_start"`

	Members    int64 `json:"members"`
	NewMembers int64 `json:"new_members"`
	Active30   int64 `json:"active_30_days"`

	Issued   int64 `json:"points_issued"`
	Spent    int64 `json:"points_spent"`
	Expired  int64 `json:"points_expired"`
	Adjusted int64 `json:"points_adjusted"`

	Outstanding        int64 `json:"points_outstanding"`
	OutstandingPending int64 `json:"points_pending"`
	OutstandingValue   int64 `json:"outstanding_value"`

	PurchasesToday int64 `json:"purchases_today"`
	OpenCases      int64 `json:"open_cases"`
}

// Counts are what the database counts for the overview.
type Counts struct {
	Members, NewMembers, Active                int64
	Issued, Spent, Expired, Adjusted           int64
	Outstanding, OutstandingPending, Purchases int64
	OpenCases                                  int64
}

// Tx is what the overview reads.
type Tx interface {
	// OverviewCounts counts members (registered since month), members with
	// a purchase since active, the postings to the programme's accounts
	// since month, the balances, purchases since day and open cases.
	OverviewCounts(ctx context.Context, month, day, active time.Time) (Counts, error)
	// CohortCells counts, for months [bounds[i], bounds[i+1]), the members
	// whose first purchase ever fell in month c and who bought in month k,
	// for every c ≤ k with members (see Cohorts).
	CohortCells(ctx context.Context, bounds []time.Time) ([]CohortCell, error)
	// RFMRows calls fn with every member who bought in [from, to), in
	// member id order (the database's collation): last purchase, frequency, monetary value and the R, F and M
	// scores (see RFM); recency and segment are left to the caller.
	RFMRows(ctx context.Context, from, to time.Time, fn func(RFMRow) error) error
	// KPICounts counts the query's figures for each step [bounds[i],
	// bounds[i+1]) (Step i) and for the whole span (Step -1); steps with
	// nothing may be left out.
	KPICounts(ctx context.Context, bounds []time.Time, q KPIQuery) ([]KPICounts, error)
	// PurchaseTimes calls fn with each member's purchase times (sales not
	// cancelled, before to) and what they came to, a member at a time.
	PurchaseTimes(ctx context.Context, to time.Time, fn func(Purchases) error) error
	// MemberRefs returns the imported members' references ("source:id")
	// among ids.
	MemberRefs(ctx context.Context, ids []string) (map[string]string, error)
	// Baskets calls fn with the items (SKUs, or categories) of each basket
	// of [from, to): a sale not cancelled, a member's or a guest's.
	Baskets(ctx context.Context, from, to time.Time, categories bool, fn func(items []string) error) error
	// MemberItems returns the items (SKUs, or categories) the member bought
	// in [from, to) with the times of the purchases; ENOTFOUND for a member
	// that does not exist.
	MemberItems(ctx context.Context, memberID string, from, to time.Time, categories bool) ([]ItemDays, error)
	// ProductNames returns the names of the SKUs that have one (a SKU two
	// partners name: the first partner's, by id).
	ProductNames(ctx context.Context, skus []string) (map[string]string, error)
}

// Live gives the compiled programme (its time zone and point value).
type Live interface {
	Engine(ctx context.Context) (*pricing.Engine, error)
}

// Service computes the figures.
type Service struct {
	DB kopilka.Transactor[Tx]
	// Refreshes writes the tags and events of Refresh.
	Refreshes kopilka.Transactor[RefreshTx]
	// Holdouts reads and freezes campaigns' targets.
	Holdouts kopilka.Transactor[HoldoutTx]
	Env      *kopilka.Env
	Live     Live

	rules      ruleCache
	miningOnce sync.Once
	mining     chan struct{} // one basket mining at a time
}

// Overview returns the programme's figures now (roles admin, operator,
// marketing).
func (s *Service) Overview(ctx context.Context) (o Overview, err error) {
	if err := access.Allow(ctx, access.ReportsOverview); err != nil {
		return o, err
	}
	eng, err := s.Live.Engine(ctx)
	if err != nil {
		return o, err
	}
	now := s.Env.Time()
	local := now.In(eng.Loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, eng.Loc)
	month := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, eng.Loc)
	var c Counts
	err = s.DB.View(ctx, func(tx Tx) (err error) {
		c, err = tx.OverviewCounts(ctx, month, day, now.Add(-30*24*time.Hour))
		return err
	})
	if err != nil {
		return o, err
	}
	value, ok := kopilka.Mul(c.Outstanding, eng.Programme.PointValue)
	if !ok {
		value = -1 // past int64: shown as unknown rather than wrong
	}
	return Overview{At: now, MonthStart: month.UTC(), DayStart: day.UTC(),
		Members: c.Members, NewMembers: c.NewMembers, Active30: c.Active,
		Issued: c.Issued, Spent: c.Spent, Expired: c.Expired, Adjusted: c.Adjusted,
		Outstanding: c.Outstanding, OutstandingPending: c.OutstandingPending, OutstandingValue: value,
		PurchasesToday: c.Purchases, OpenCases: c.OpenCases}, nil
}
