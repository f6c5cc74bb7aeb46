package pricing

import (
	"context"
	"fmt"

	"github.com/kopilka/kopilka"
)

// Validate reports every field that is out of range and every condition
// that does not compile.
func Validate(p kopilka.Programme) error {
	_, err := Compile(p)
	return err
}

// Compile checks the programme's fields, then its conditions and times, and
// builds its engine. A condition that does not compile names the field and
// the position.
func Compile(p kopilka.Programme) (*Engine, error) {
	var pr kopilka.Problems
	if p.CurrencyName == "" || len(p.CurrencyName) > 64 {
		pr.Add("currency_name", "must be 1 to 64 characters")
	}
	if p.PointValue < 1 || p.PointValue > 1_000_000 {
		pr.Add("point_value", "must be between 1 and 1000000 minor units")
	}
	if p.EarnRate < 0 || p.EarnRate > 100*kopilka.PercentScale {
		pr.Add("earn_rate_percent", "must be between 0 and 100")
	}
	if p.MaxSpend < 0 || p.MaxSpend > 100*kopilka.PercentScale {
		pr.Add("max_spend_percent", "must be between 0 and 100")
	}
	if p.PendingDays < 0 || p.PendingDays > 365 {
		pr.Add("pending_days", "must be between 0 and 365")
	}
	if p.ExpiryMonths < 0 || p.ExpiryMonths > 120 {
		pr.Add("expiry_months", "must be between 0 (never) and 120")
	}
	if p.ExpiryDays < 0 || p.ExpiryDays > 3660 {
		pr.Add("expiry_days", "must be between 0 and 3660")
	}
	if p.ExpiryDays != 0 && p.ExpiryMonths != 0 {
		pr.Add("expiry_days", "give points' life in days or in months (expiry_months), not both: set the other to 0")
	}
	if !p.Rounding.Valid() {
		pr.Add("rounding", `must be one of "down", "half_up", "up"`)
	}
	if p.ExpiringSoonDays < 0 || p.ExpiringSoonDays > 366 {
		pr.Add("expiring_soon_days", "must be between 0 and 366")
	}
	if p.MaxReceiptAgeHours < 0 || p.MaxReceiptAgeHours > 8784 {
		pr.Add("max_receipt_age_hours", "must be between 1 and 8784 (a year); 0 means 72")
	}
	for _, c := range []struct {
		field string
		v     int64
	}{{"max_receipt_points", p.MaxReceiptPoints}, {"max_balance", p.MaxBalance}} {
		if c.v < 0 || c.v > kopilka.PointsCeiling {
			pr.Add(c.field, fmt.Sprintf("must be between 0 (the default) and %d points", int64(kopilka.PointsCeiling)))
		}
	}
	if _, err := kopilka.LoadZone(p.TimeZone); err != nil {
		pr.Add("time_zone", err.Error())
	}
	p.ValidateRules(&pr)
	if err := pr.Err(); err != nil {
		return nil, err
	}
	// Conditions compile only once every field is sound.
	return compileProgramme(p)
}

// PriceReceipt computes the quote of a receipt for a member with no tier or
// choices who has available points, at the receipt's time. It compiles the
// programme each call: the service keeps a compiled Engine instead.
func PriceReceipt(p kopilka.Programme, r kopilka.Receipt, available int64) (kopilka.Quote, error) {
	e, err := Compile(p)
	if err != nil {
		return kopilka.Quote{}, err
	}
	return e.Price(context.Background(), PriceInput{Receipt: r, Available: available, Now: r.OccurredAt}, nil)
}
