package kopilka

import (
	"fmt"
	"time"
)

// Programme holds the settings of the loyalty programme that price every receipt.
type Programme struct {
	// CurrencyName is what members call the points ("bonuses").
	CurrencyName string `json:"currency_name"`
	// PointValue is the money, in minor units, that one point pays.
	PointValue int64 `json:"point_value"`
	// EarnRate is the share of the money paid that comes back as points.
	EarnRate Percent `json:"earn_rate_percent"`
	// MaxSpend is the largest share of a receipt that points may pay.
	MaxSpend Percent `json:"max_spend_percent"`
	// PendingDays is how long earned points wait before they can be spent
	// (the return window). Zero makes them spendable at once.
	PendingDays int `json:"pending_days"`
	// ExpiryMonths is how long points live after they become spendable, in
	// months (the end of the month kept: 30 Nov + 3 months is 28 Feb), or
	// ExpiryDays in days; at most one of the two is set, and neither means
	// points never expire.
	ExpiryMonths int `json:"expiry_months"`
	ExpiryDays   int `json:"expiry_days"`
	// Rounding turns fractional points into whole ones.
	Rounding Rounding `json:"rounding"`
	// ExpiringSoonDays is the window the balance's "expiring" list looks ahead.
	ExpiringSoonDays int `json:"expiring_soon_days"`
	// MaxReceiptAgeHours is how far in the past a till may date a receipt
	// (its occurred_at), in hours; 0 means DefaultMaxReceiptAgeHours. Older
	// purchases enter through the importer, not the till, so that a receipt
	// cannot be dated inside a campaign that has ended.
	MaxReceiptAgeHours int `json:"max_receipt_age_hours"`
	// MaxReceiptPoints is the most points one receipt may earn; 0 means
	// DefaultMaxReceiptPoints. A receipt that would earn more is refused
	// (EPOINTSCAP): a rule or a receipt that large is a mistake or an attack.
	MaxReceiptPoints int64 `json:"max_receipt_points"`
	// MaxBalance is the most points one member's balance (available and
	// pending together) may hold; 0 means DefaultMaxBalance. A credit past it
	// is refused (EPOINTSCAP); a refund that gives spent points back is not.
	MaxBalance int64 `json:"max_balance"`
	// TimeZone is the IANA zone in which days, hours, campaign times,
	// birthdays and tier years are read ("Europe/Moscow").
	TimeZone string `json:"time_zone"`

	// Rules add to (or, in the "base" group, compete with) the earn rate.
	Rules     []Rule             `json:"rules"`
	Spending  SpendRules         `json:"spending"`
	Tiers     TierPlan           `json:"tiers"`
	Campaigns []Campaign         `json:"campaigns"`
	Bonuses   Bonuses            `json:"bonuses"`
	Personal  PersonalCategories `json:"personal_categories"`

	// UpdatedAt is when the settings last changed.
	UpdatedAt time.Time `json:"updated_at"`
}

// DefaultMaxReceiptAgeHours is how far in the past a till may date a
// receipt unless the programme says otherwise: three days.
const DefaultMaxReceiptAgeHours = 72

// MaxReceiptAge is how far in the past a till may date a receipt.
func (p Programme) MaxReceiptAge() time.Duration {
	h := p.MaxReceiptAgeHours
	if h == 0 {
		h = DefaultMaxReceiptAgeHours
	}
	return time.Duration(h) * time.Hour
}

// Caps on points, so that no sum of points can overflow an int64.
const (
	DefaultMaxReceiptPoints = 1_000_000     // points one receipt may earn unless the programme says otherwise
	DefaultMaxBalance       = 1_000_000_000 // points one balance may hold unless the programme says otherwise
	// PointsCeiling is the largest value either cap may be set to: 10^12
	// points. Balances, receipts and adjustments stay far below 2^63, so
	// that sums of them never wrap (9.2·10^18 is 9.2 million ceilings).
	PointsCeiling = 1_000_000_000_000
)

// ReceiptPointsCap is the most points one receipt may earn.
func (p Programme) ReceiptPointsCap() int64 {
	if p.MaxReceiptPoints == 0 {
		return DefaultMaxReceiptPoints
	}
	return p.MaxReceiptPoints
}

// BalanceCap is the most points one member's balance may hold.
func (p Programme) BalanceCap() int64 {
	if p.MaxBalance == 0 {
		return DefaultMaxBalance
	}
	return p.MaxBalance
}

// DefaultProgramme is what a new installation starts with: 5 % back in
// points worth 1.00 each, points may pay up to 30 % of a receipt, 14 days
// pending, 12 months to live.
func DefaultProgramme() Programme {
	return Programme{
		CurrencyName:       "bonus",
		PointValue:         100,
		EarnRate:           5 * PercentScale,
		MaxSpend:           30 * PercentScale,
		PendingDays:        14,
		ExpiryMonths:       12,
		Rounding:           RoundDown,
		ExpiringSoonDays:   30,
		TimeZone:           "UTC",
		MaxReceiptAgeHours: DefaultMaxReceiptAgeHours,
		MaxReceiptPoints:   DefaultMaxReceiptPoints,
		MaxBalance:         DefaultMaxBalance,
		Rules:              []Rule{},
		Campaigns:          []Campaign{},
	}
}

// LoadZone reads an IANA time zone name; empty is UTC.
func LoadZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, fmt.Errorf("must be an IANA time zone such as %q", "Europe/Moscow")
	}
	return loc, nil
}

// LotDates returns when points earned at t become spendable and when they
// expire (zero time: never).
func (p Programme) LotDates(t time.Time) (activates, expires time.Time) {
	activates = t.AddDate(0, 0, p.PendingDays)
	return activates, p.ExpiresAfter(activates)
}

// ExpiresAfter is when points that become spendable at t expire (zero time: never).
func (p Programme) ExpiresAfter(t time.Time) time.Time {
	l := Life{Days: p.ExpiryDays, Months: p.ExpiryMonths}
	if !l.Set() {
		return time.Time{}
	}
	return l.After(t)
}
