package kopilka

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Partner statuses. A suspended partner's stores take no receipts.
const (
	PartnerActive    = "active"
	PartnerSuspended = "suspended"
)

// Store statuses. A closed store takes no receipts and is not listed nearby.
const (
	StoreOpen   = "open"
	StoreClosed = "closed"
)

// Partner is a merchant of the coalition. Points its stores issue are owed
// by it; points redeemed at its stores are owed to it (see settlement.go).
type Partner struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	LegalID string `json:"legal_id"` // INN, VAT number: as the contract names it
	Status  string `json:"status"`
	// EarnRate, when set, replaces the programme's earn_rate_percent at its stores.
	EarnRate *Percent `json:"earn_rate_percent,omitempty"`
	// MaxSpend, when set, replaces the programme's max_spend_percent at its stores.
	MaxSpend *Percent `json:"max_spend_percent,omitempty"`
	// Categories are what it may sell under the programme; lines of other
	// categories neither earn nor take points. Empty: any.
	Categories []string  `json:"categories"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Sells reports whether the partner may sell the category under the programme.
func (p *Partner) Sells(category string) bool {
	return p == nil || len(p.Categories) == 0 || slices.Contains(p.Categories, category)
}

// Store is one store of a partner (the API calls it a store; Store is
// the storage). An outlet without coordinates (an online shop) is never
// listed nearby.
type Store struct {
	ID        string   `json:"id"`
	PartnerID string   `json:"partner_id"`
	Name      string   `json:"name"`
	Address   string   `json:"address"`
	Lat       *float64 `json:"lat,omitempty"`
	Lon       *float64 `json:"lon,omitempty"`
	// TimeZone is the IANA zone its opening hours are read in.
	TimeZone string         `json:"time_zone"`
	Hours    []OpeningHours `json:"hours"` // empty: always open
	Status   string         `json:"status"`
	// Categories are its partner's, filled in when it is listed nearby.
	Categories []string  `json:"categories,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// OpeningHours is a daily window [From, To) on Days in the store's zone.
// To "24:00" is the end of the day; To before From runs past midnight into
// the next day.
type OpeningHours struct {
	Days []string `json:"days,omitempty"` // mon … sun; empty: every day
	From string   `json:"from"`
	To   string   `json:"to"`
}

func hoursClock(s string) (int, bool) {
	if s == "24:00" {
		return 24 * 60, true
	}
	return Clock(s)
}

// OpenAt reports whether the store takes receipts at t: it is not closed
// and t falls within its opening hours.
func (o *Store) OpenAt(t time.Time) bool {
	if o.Status != StoreOpen {
		return false
	}
	if len(o.Hours) == 0 {
		return true
	}
	loc, err := LoadZone(o.TimeZone)
	if err != nil {
		return false
	}
	lt := t.In(loc)
	minute := lt.Hour()*60 + lt.Minute()
	today, yesterday := Weekdays[lt.Weekday()], Weekdays[(lt.Weekday()+6)%7]
	on := func(h OpeningHours, day string) bool { return len(h.Days) == 0 || slices.Contains(h.Days, day) }
	for _, h := range o.Hours {
		from, _ := hoursClock(h.From)
		to, _ := hoursClock(h.To)
		if to > from {
			if on(h, today) && minute >= from && minute < to {
				return true
			}
			continue
		}
		// Past midnight: from today's From, and until To of the day after.
		if on(h, today) && minute >= from || on(h, yesterday) && minute < to {
			return true
		}
	}
	return false
}

func CheckText(pr *Problems, field, v string, required bool, max int) {
	switch {
	case strings.TrimSpace(v) == "" && required:
		pr.Add(field, "is required")
	case len(v) > max || !CleanText(v):
		pr.Add(field, fmt.Sprintf("must be at most %d characters of text", max))
	}
}

func checkPercent(pr *Problems, field string, v *Percent) {
	if v != nil && (*v < 0 || *v > 100*PercentScale) {
		pr.Add(field, "must be from 0 to 100")
	}
}

func (p *Partner) Validate() error {
	var pr Problems
	CheckID(&pr, "id", p.ID, true)
	CheckText(&pr, "name", p.Name, true, 200)
	CheckText(&pr, "legal_id", p.LegalID, false, 64)
	if p.Status == "" {
		p.Status = PartnerActive
	}
	if p.Status != PartnerActive && p.Status != PartnerSuspended {
		pr.Add("status", `must be "active" or "suspended"`)
	}
	checkPercent(&pr, "earn_rate_percent", p.EarnRate)
	checkPercent(&pr, "max_spend_percent", p.MaxSpend)
	CheckList(&pr, "categories", p.Categories)
	if p.Categories == nil {
		p.Categories = []string{}
	}
	return pr.Err()
}

func (o *Store) Validate() error {
	var pr Problems
	CheckID(&pr, "id", o.ID, true)
	if o.ID == "nearby" {
		pr.Add("id", `"nearby" is reserved: GET /v1/stores/nearby is the nearest-store search`)
	}
	CheckID(&pr, "partner_id", o.PartnerID, true)
	CheckText(&pr, "name", o.Name, true, 200)
	CheckText(&pr, "address", o.Address, false, 500)
	switch {
	case (o.Lat == nil) != (o.Lon == nil):
		pr.Add("lat", "lat and lon go together: give both or neither")
	case o.Lat != nil && !(*o.Lat >= -90 && *o.Lat <= 90):
		pr.Add("lat", "must be from -90 to 90")
	case o.Lon != nil && !(*o.Lon >= -180 && *o.Lon <= 180):
		pr.Add("lon", "must be from -180 to 180")
	}
	if o.TimeZone == "" {
		o.TimeZone = "UTC"
	}
	if _, err := LoadZone(o.TimeZone); err != nil {
		pr.Add("time_zone", "is not an IANA time zone such as Europe/Moscow")
	}
	if o.Status == "" {
		o.Status = StoreOpen
	}
	if o.Status != StoreOpen && o.Status != StoreClosed {
		pr.Add("status", `must be "open" or "closed"`)
	}
	if len(o.Hours) > 50 {
		pr.Add("hours", "must have at most 50 windows")
	}
	for i, h := range o.Hours {
		f := fmt.Sprintf("hours[%d]", i)
		from, ok1 := hoursClock(h.From)
		to, ok2 := hoursClock(h.To)
		if !ok1 || from == 24*60 {
			pr.Add(f+".from", `must be a time "HH:MM"`)
		}
		if !ok2 {
			pr.Add(f+".to", `must be a time "HH:MM" or "24:00"`)
		}
		if ok1 && ok2 && from == to {
			pr.Add(f+".to", `must differ from "from"; use "00:00" to "24:00" for the whole day`)
		}
		for j, d := range h.Days {
			if !slices.Contains(Weekdays, d) {
				pr.Add(fmt.Sprintf("%s.days[%d]", f, j), "must be one of mon, tue, wed, thu, fri, sat, sun")
			}
		}
	}
	if o.Hours == nil {
		o.Hours = []OpeningHours{}
	}
	o.Categories = nil
	return pr.Err()
}

// Site is a store with its partner, as a receipt finds them.
type Site struct {
	Store   Store
	Partner Partner
}

func MustZone(name string) *time.Location {
	loc, err := LoadZone(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Box is a range of latitudes and longitudes, in degrees.
type Box struct {
	MinLat, MaxLat, MinLon, MaxLon float64
}

// Change says how a write treats the fields a request left out. A PUT
// replaces the whole resource: a field it did not send that holds a value
// is refused (EINVALID naming it), never silently cleared. A PATCH changes
// the fields it sent and keeps the others. Sent holds the JSON names the
// request carried; nil means every field was sent.
type Change struct {
	Sent  map[string]bool
	Patch bool
	// Create refuses a resource whose id is taken (ECONFLICT naming id):
	// a form for a new one never replaces an old one.
	Create bool
}

// Field is one field of a resource for a Change: its JSON name, whether
// the stored resource holds a value in it, and how to keep that value.
type Field struct {
	Name string
	Set  bool
	Keep func()
}

// Apply checks a PUT's omissions, or keeps a PATCH's unsent fields, over
// the fields of the stored resource. It reports the problems of a PUT.
func (c Change) Apply(pr *Problems, what string, fields []Field) {
	if c.Sent == nil {
		return
	}
	for _, f := range fields {
		switch {
		case c.Sent[f.Name]:
		case c.Patch:
			f.Keep()
		case f.Set:
			pr.Add(f.Name, "holds a value and was not sent: a PUT replaces the whole "+what+"; send every field (null or empty to clear one), or change only some with PATCH")
		}
	}
}
