package kopilka

import "time"

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
	// ExpiryMonths is how long points live after they become spendable.
	// Zero means points never expire.
	ExpiryMonths int `json:"expiry_months"`
	// Rounding turns fractional points into whole ones.
	Rounding Rounding `json:"rounding"`
	// ExpiringSoonDays is the window the balance's "expiring" list looks ahead.
	ExpiringSoonDays int `json:"expiring_soon_days"`
	// UpdatedAt is when the settings last changed.
	UpdatedAt time.Time `json:"updated_at"`
}

// DefaultProgramme is what a new installation starts with: 5 % back in
// points worth 1.00 each, points may pay up to 30 % of a receipt, 14 days
// pending, 12 months to live.
func DefaultProgramme() Programme {
	return Programme{
		CurrencyName:     "bonus",
		PointValue:       100,
		EarnRate:         5 * PercentScale,
		MaxSpend:         30 * PercentScale,
		PendingDays:      14,
		ExpiryMonths:     12,
		Rounding:         RoundDown,
		ExpiringSoonDays: 30,
	}
}

// Validate reports every field that is out of range.
func (p Programme) Validate() error {
	var pr Problems
	if p.CurrencyName == "" || len(p.CurrencyName) > 64 {
		pr.Add("currency_name", "must be 1 to 64 characters")
	}
	if p.PointValue < 1 || p.PointValue > 1_000_000 {
		pr.Add("point_value", "must be between 1 and 1000000 minor units")
	}
	if p.EarnRate < 0 || p.EarnRate > 100*PercentScale {
		pr.Add("earn_rate_percent", "must be between 0 and 100")
	}
	if p.MaxSpend < 0 || p.MaxSpend > 100*PercentScale {
		pr.Add("max_spend_percent", "must be between 0 and 100")
	}
	if p.PendingDays < 0 || p.PendingDays > 365 {
		pr.Add("pending_days", "must be between 0 and 365")
	}
	if p.ExpiryMonths < 0 || p.ExpiryMonths > 120 {
		pr.Add("expiry_months", "must be between 0 (never) and 120")
	}
	if !p.Rounding.Valid() {
		pr.Add("rounding", `must be one of "down", "half_up", "up"`)
	}
	if p.ExpiringSoonDays < 0 || p.ExpiringSoonDays > 366 {
		pr.Add("expiring_soon_days", "must be between 0 and 366")
	}
	return pr.Err()
}

// lotDates returns when points earned at t become spendable and when they
// expire (zero time: never).
func (p Programme) lotDates(t time.Time) (activates, expires time.Time) {
	activates = t.AddDate(0, 0, p.PendingDays)
	if p.ExpiryMonths > 0 {
		expires = activates.AddDate(0, p.ExpiryMonths, 0)
	}
	return activates, expires
}
