package kopilka

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
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

// sells reports whether the partner may sell the category under the programme.
func (p *Partner) sells(category string) bool {
	return p == nil || len(p.Categories) == 0 || slices.Contains(p.Categories, category)
}

// Outlet is one store of a partner (the API calls it a store; Store is
// the storage). An outlet without coordinates (an online shop) is never
// listed nearby.
type Outlet struct {
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
	return clock(s)
}

// OpenAt reports whether the store takes receipts at t: it is not closed
// and t falls within its opening hours.
func (o *Outlet) OpenAt(t time.Time) bool {
	if o.Status != StoreOpen {
		return false
	}
	if len(o.Hours) == 0 {
		return true
	}
	loc, err := loadZone(o.TimeZone)
	if err != nil {
		return false
	}
	lt := t.In(loc)
	minute := lt.Hour()*60 + lt.Minute()
	today, yesterday := weekdays[lt.Weekday()], weekdays[(lt.Weekday()+6)%7]
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

func checkText(pr *Problems, field, v string, required bool, max int) {
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

func (p *Partner) validate() error {
	var pr Problems
	checkID(&pr, "id", p.ID, true)
	checkText(&pr, "name", p.Name, true, 200)
	checkText(&pr, "legal_id", p.LegalID, false, 64)
	if p.Status == "" {
		p.Status = PartnerActive
	}
	if p.Status != PartnerActive && p.Status != PartnerSuspended {
		pr.Add("status", `must be "active" or "suspended"`)
	}
	checkPercent(&pr, "earn_rate_percent", p.EarnRate)
	checkPercent(&pr, "max_spend_percent", p.MaxSpend)
	checkList(&pr, "categories", p.Categories)
	if p.Categories == nil {
		p.Categories = []string{}
	}
	return pr.Err()
}

func (o *Outlet) validate() error {
	var pr Problems
	checkID(&pr, "id", o.ID, true)
	if o.ID == "nearby" {
		pr.Add("id", `"nearby" is reserved: GET /v1/stores/nearby is the nearest-store search`)
	}
	checkID(&pr, "partner_id", o.PartnerID, true)
	checkText(&pr, "name", o.Name, true, 200)
	checkText(&pr, "address", o.Address, false, 500)
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
	if _, err := loadZone(o.TimeZone); err != nil {
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
			if !slices.Contains(weekdays, d) {
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

// PutPartner creates the partner or changes it; its id is the caller's.
func (s *Service) PutPartner(ctx context.Context, p Partner) (Partner, error) {
	if err := p.validate(); err != nil {
		return Partner{}, err
	}
	err := s.Store.Update(ctx, func(tx Tx) error {
		old, err := tx.Partner(ctx, p.ID)
		switch {
		case ErrorCode(err) == ENOTFOUND:
			p.CreatedAt = s.now()
		case err != nil:
			return err
		default:
			p.CreatedAt = old.CreatedAt
		}
		p.UpdatedAt = s.now()
		return tx.PutPartner(ctx, p)
	})
	if err != nil {
		return Partner{}, err
	}
	s.forgetSites()
	return p, nil
}

// SetPartnerRates changes only the partner's own earn rate and spend share
// (nil: the programme's), which is what a partner's own staff may change.
func (s *Service) SetPartnerRates(ctx context.Context, id string, earn, spend *Percent) (Partner, error) {
	var p Partner
	err := s.Store.Update(ctx, func(tx Tx) (err error) {
		if p, err = tx.Partner(ctx, id); err != nil {
			return err
		}
		p.EarnRate, p.MaxSpend, p.UpdatedAt = earn, spend, s.now()
		if err := p.validate(); err != nil {
			return err
		}
		return tx.PutPartner(ctx, p)
	})
	if err != nil {
		return Partner{}, err
	}
	s.forgetSites()
	return p, nil
}

// Partner returns the partner, or ENOTFOUND.
func (s *Service) Partner(ctx context.Context, id string) (p Partner, err error) {
	err = s.Store.View(ctx, func(tx Tx) error {
		p, err = tx.Partner(ctx, id)
		return err
	})
	return p, err
}

// Partners lists every partner by id.
func (s *Service) Partners(ctx context.Context) (ps []Partner, err error) {
	err = s.Store.View(ctx, func(tx Tx) error {
		ps, err = tx.Partners(ctx)
		return err
	})
	return ps, err
}

// PutStore creates a store of an existing partner or changes it. A store
// does not move from one partner to another: its receipts are the first
// partner's.
func (s *Service) PutStore(ctx context.Context, o Outlet) (Outlet, error) {
	if err := o.validate(); err != nil {
		return Outlet{}, err
	}
	err := s.Store.Update(ctx, func(tx Tx) error {
		if _, err := tx.Partner(ctx, o.PartnerID); ErrorCode(err) == ENOTFOUND {
			return Invalid("partner_id", "no partner has this id")
		} else if err != nil {
			return err
		}
		old, err := tx.Outlet(ctx, o.ID)
		switch {
		case ErrorCode(err) == ENOTFOUND:
			o.CreatedAt = s.now()
		case err != nil:
			return err
		case old.PartnerID != o.PartnerID:
			return FieldErr(ECONFLICT, "partner_id", "the store belongs to partner "+old.PartnerID+"; a store does not change partners")
		default:
			o.CreatedAt = old.CreatedAt
		}
		o.UpdatedAt = s.now()
		return tx.PutOutlet(ctx, o)
	})
	if err != nil {
		return Outlet{}, err
	}
	s.forgetSites()
	return o, nil
}

// Outlet returns the store, or ENOTFOUND.
func (s *Service) Outlet(ctx context.Context, id string) (o Outlet, err error) {
	err = s.Store.View(ctx, func(tx Tx) error {
		o, err = tx.Outlet(ctx, id)
		return err
	})
	return o, err
}

// Outlets lists up to limit stores of a partner ("": every partner) with
// ids after the cursor, by id.
func (s *Service) Outlets(ctx context.Context, partnerID, after string, limit int) (os []Outlet, err error) {
	err = s.Store.View(ctx, func(tx Tx) error {
		os, err = tx.Outlets(ctx, partnerID, after, limit)
		return err
	})
	return os, err
}

// Site is a store with its partner, as a receipt finds them.
type Site struct {
	Outlet  Outlet
	Partner Partner
}

type cachedSite struct {
	site Site
	err  error
	at   time.Time
}

// sites caches stores for receipts, for ProgrammeTTL like the programme.
type sites struct {
	mu sync.Mutex
	m  map[string]cachedSite
}

func (s *Service) forgetSites() {
	s.sites.mu.Lock()
	s.sites.m = nil
	s.sites.mu.Unlock()
}

// Site returns the store and its partner, reused for ProgrammeTTL; an
// unknown store is ENOTFOUND.
func (s *Service) Site(ctx context.Context, storeID string) (Site, error) {
	s.sites.mu.Lock()
	c, ok := s.sites.m[storeID]
	s.sites.mu.Unlock()
	if ok && time.Since(c.at) < s.ProgrammeTTL {
		return c.site, c.err
	}
	var site Site
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		if site.Outlet, err = tx.Outlet(ctx, storeID); err != nil {
			return err
		}
		site.Partner, err = tx.Partner(ctx, site.Outlet.PartnerID)
		return err
	})
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return Site{}, err
	}
	s.sites.mu.Lock()
	if s.sites.m == nil || len(s.sites.m) > 100_000 {
		s.sites.m = map[string]cachedSite{}
	}
	s.sites.m[storeID] = cachedSite{site, err, time.Now()}
	s.sites.mu.Unlock()
	return site, err
}

// siteFor finds the store a receipt names and refuses an unknown store, a
// closed one, one of a suspended partner, and one outside its opening
// hours at the receipt's time.
func (s *Service) siteFor(ctx context.Context, r *Receipt, now time.Time) (Site, error) {
	site, err := s.Site(ctx, r.StoreID)
	if ErrorCode(err) == ENOTFOUND {
		return site, FieldErr(EUNKNOWNSTORE, "store_id", "no store has this id")
	} else if err != nil {
		return site, err
	}
	at := r.OccurredAt
	if at.IsZero() {
		at = now
	}
	switch {
	case site.Partner.Status != PartnerActive:
		return site, FieldErr(ESTORECLOSED, "store_id", "the store's partner "+site.Partner.ID+" is suspended")
	case site.Outlet.Status != StoreOpen:
		return site, FieldErr(ESTORECLOSED, "store_id", "the store is closed")
	case !site.Outlet.OpenAt(at):
		return site, FieldErr(ESTORECLOSED, "store_id", "the store is closed at "+at.In(mustZone(site.Outlet.TimeZone)).Format("Mon 15:04 MST")+" by its opening hours")
	}
	r.PartnerID = site.Partner.ID
	return site, nil
}

func mustZone(name string) *time.Location {
	loc, err := loadZone(name)
	if err != nil {
		return time.UTC
	}
	return loc
}
