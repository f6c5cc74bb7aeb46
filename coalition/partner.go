package coalition

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// PutPartner creates the partner or changes it; its id is the caller's.
func (s *Service) PutPartner(ctx context.Context, p kopilka.Partner) (kopilka.Partner, error) {
	return s.ChangePartner(ctx, p, kopilka.Change{})
}

// ChangePartner creates or replaces a partner (a PUT: a field not sent that
// holds a value is refused) or, with ch.Patch, changes the fields sent of
// an existing one (ENOTFOUND for none). See kopilka.Change.
func (s *Service) ChangePartner(ctx context.Context, p kopilka.Partner, ch kopilka.Change) (_ kopilka.Partner, err error) {
	a := access.Begin(ctx, s.Env, access.PartnersWrite, p.ID)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return kopilka.Partner{}, err
	}
	err = s.DB.Update(ctx, func(tx Tx) error {
		var before any
		old, err := tx.Partner(ctx, p.ID)
		switch {
		case kopilka.ErrorCode(err) == kopilka.ENOTFOUND && ch.Patch:
			return errNoPartner
		case kopilka.ErrorCode(err) == kopilka.ENOTFOUND:
			p.CreatedAt = s.Env.Time()
		case err != nil:
			return err
		case ch.Create:
			return kopilka.FieldErr(kopilka.ECONFLICT, "id", "a partner has this id already")
		default:
			before, p.CreatedAt = old, old.CreatedAt
			var pr kopilka.Problems
			ch.Apply(&pr, "partner", []kopilka.Field{
				{Name: "name", Set: old.Name != "", Keep: func() { p.Name = old.Name }},
				{Name: "legal_id", Set: old.LegalID != "", Keep: func() { p.LegalID = old.LegalID }},
				{Name: "status", Set: old.Status != "" && old.Status != kopilka.PartnerActive, Keep: func() { p.Status = old.Status }},
				{Name: "earn_rate_percent", Set: old.EarnRate != nil, Keep: func() { p.EarnRate = old.EarnRate }},
				{Name: "max_spend_percent", Set: old.MaxSpend != nil, Keep: func() { p.MaxSpend = old.MaxSpend }},
				{Name: "categories", Set: len(old.Categories) > 0, Keep: func() { p.Categories = old.Categories }},
			})
			if err := pr.Err(); err != nil {
				return err
			}
		}
		if err := p.Validate(); err != nil {
			return err
		}
		p.UpdatedAt = s.Env.Time()
		if err := tx.PutPartner(ctx, p); err != nil {
			return err
		}
		return a.Record(ctx, tx, before, p)
	})
	if err != nil {
		return kopilka.Partner{}, err
	}
	s.forgetSites()
	return p, nil
}

// SetPartnerRates changes only the partner's own earn rate and spend share
// (nil: the programme's), which is what a partner's own staff may change.
func (s *Service) SetPartnerRates(ctx context.Context, id string, earn, spend *kopilka.Percent) (kopilka.Partner, error) {
	return s.ChangePartnerRates(ctx, id, earn, spend, kopilka.Change{})
}

// ChangePartnerRates is SetPartnerRates for a request that may have left a
// rate out: a PUT that leaves out a rate the partner holds is refused (send
// null to clear it), a PATCH keeps it. See kopilka.Change.
func (s *Service) ChangePartnerRates(ctx context.Context, id string, earn, spend *kopilka.Percent, ch kopilka.Change) (p kopilka.Partner, err error) {
	a := access.Begin(ctx, s.Env, access.PartnersRates, id)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return p, err
	}
	err = s.DB.Update(ctx, func(tx Tx) (err error) {
		if p, err = s.partner(ctx, tx, id); err != nil {
			return err
		}
		before := p
		var pr kopilka.Problems
		ch.Apply(&pr, "partner's rates", []kopilka.Field{
			{Name: "earn_rate_percent", Set: p.EarnRate != nil, Keep: func() { earn = p.EarnRate }},
			{Name: "max_spend_percent", Set: p.MaxSpend != nil, Keep: func() { spend = p.MaxSpend }},
		})
		if err := pr.Err(); err != nil {
			return err
		}
		p.EarnRate, p.MaxSpend, p.UpdatedAt = earn, spend, s.Env.Time()
		if err := p.Validate(); err != nil {
			return err
		}
		if err := tx.PutPartner(ctx, p); err != nil {
			return err
		}
		return a.Record(ctx, tx, before, p)
	})
	if err != nil {
		return kopilka.Partner{}, err
	}
	s.forgetSites()
	return p, nil
}

// Partner returns the partner, or ENOTFOUND (also for a principal of
// another partner, in the same words).
func (s *Service) Partner(ctx context.Context, id string) (p kopilka.Partner, err error) {
	if err := access.Allow(ctx, access.PartnersRead); err != nil {
		return p, err
	}
	err = s.DB.View(ctx, func(tx Tx) error {
		p, err = s.partner(ctx, tx, id)
		return err
	})
	return p, err
}

// errNoPartner answers for a partner that does not exist and for one the
// principal may not see, in the same words (kopilka.ErrNoStore for stores).
var errNoPartner = kopilka.Errorf(kopilka.ENOTFOUND, "no partner has this id")

// partner reads a partner the principal in ctx may see.
func (s *Service) partner(ctx context.Context, tx Tx, id string) (kopilka.Partner, error) {
	if !access.Reaches(ctx, id, "") {
		return kopilka.Partner{}, errNoPartner
	}
	p, err := tx.Partner(ctx, id)
	if kopilka.ErrorCode(err) == kopilka.ENOTFOUND {
		return p, errNoPartner
	}
	return p, err
}

// store reads a store the principal in ctx may see.
func (s *Service) store(ctx context.Context, tx Tx, id string) (kopilka.Store, error) {
	o, err := tx.Store(ctx, id)
	if kopilka.ErrorCode(err) == kopilka.ENOTFOUND || err == nil && !access.Reaches(ctx, o.PartnerID, id) {
		return kopilka.Store{}, kopilka.ErrNoStore
	}
	return o, err
}

// Partners lists every partner by id; a principal of one partner sees only its own.
func (s *Service) Partners(ctx context.Context) (ps []kopilka.Partner, err error) {
	if err := access.Allow(ctx, access.PartnersList); err != nil {
		return nil, err
	}
	err = s.DB.View(ctx, func(tx Tx) error {
		ps, err = tx.Partners(ctx)
		return err
	})
	return slices.DeleteFunc(ps, func(p kopilka.Partner) bool { return !access.Reaches(ctx, p.ID, "") }), err
}

// PutStore creates a store of an existing partner or changes it. A store
// does not move from one partner to another: its receipts are the first
// partner's.
//
// A principal of one partner changes only that partner's stores: another
// partner's store is not found, and a new store must name its own partner.
func (s *Service) PutStore(ctx context.Context, o kopilka.Store) (kopilka.Store, error) {
	return s.ChangeStore(ctx, o, kopilka.Change{})
}

// ChangeStore creates or replaces a store (a PUT: a field not sent that
// holds a value is refused) or, with ch.Patch, changes the fields sent of
// an existing one (not found for none). See kopilka.Change and PutStore.
func (s *Service) ChangeStore(ctx context.Context, o kopilka.Store, ch kopilka.Change) (_ kopilka.Store, err error) {
	a := access.Begin(ctx, s.Env, access.StoresWrite, o.ID)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return kopilka.Store{}, err
	}
	err = s.DB.Update(ctx, func(tx Tx) error {
		old, err := tx.Store(ctx, o.ID)
		exists := err == nil
		if err != nil && kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
			return err
		}
		if exists && !access.Reaches(ctx, old.PartnerID, o.ID) || !exists && ch.Patch {
			return kopilka.ErrNoStore // another partner's, or none to change
		}
		if exists && ch.Create {
			return kopilka.FieldErr(kopilka.ECONFLICT, "id", "a store has this id already")
		}
		if exists {
			var pr kopilka.Problems
			ch.Apply(&pr, "store", []kopilka.Field{
				{Name: "partner_id", Set: old.PartnerID != "", Keep: func() { o.PartnerID = old.PartnerID }},
				{Name: "name", Set: old.Name != "", Keep: func() { o.Name = old.Name }},
				{Name: "address", Set: old.Address != "", Keep: func() { o.Address = old.Address }},
				{Name: "lat", Set: old.Lat != nil, Keep: func() { o.Lat = old.Lat }},
				{Name: "lon", Set: old.Lon != nil, Keep: func() { o.Lon = old.Lon }},
				{Name: "time_zone", Set: old.TimeZone != "" && old.TimeZone != "UTC", Keep: func() { o.TimeZone = old.TimeZone }},
				{Name: "hours", Set: len(old.Hours) > 0, Keep: func() { o.Hours = old.Hours }},
				{Name: "status", Set: old.Status != "" && old.Status != kopilka.StoreOpen, Keep: func() { o.Status = old.Status }},
			})
			if err := pr.Err(); err != nil {
				return err
			}
		}
		if err := o.Validate(); err != nil {
			return err
		}
		if p := kopilka.PrincipalFrom(ctx); p.Scoped() && o.PartnerID != p.PartnerID {
			return kopilka.Invalid("partner_id", "must be your own partner's id, "+p.PartnerID)
		}
		if _, err := tx.Partner(ctx, o.PartnerID); kopilka.ErrorCode(err) == kopilka.ENOTFOUND {
			return kopilka.Invalid("partner_id", "no partner has this id")
		} else if err != nil {
			return err
		}
		var before any
		switch {
		case !exists:
			o.CreatedAt = s.Env.Time()
		case old.PartnerID != o.PartnerID:
			return kopilka.FieldErr(kopilka.ECONFLICT, "partner_id", "the store belongs to partner "+old.PartnerID+"; a store does not change partners")
		default:
			o.CreatedAt, before = old.CreatedAt, old
		}
		o.UpdatedAt = s.Env.Time()
		if err := tx.PutStore(ctx, o); err != nil {
			return err
		}
		return a.Record(ctx, tx, before, o)
	})
	if err != nil {
		return kopilka.Store{}, err
	}
	s.forgetSites()
	return o, nil
}

// Store returns the store, or ENOTFOUND (also for a principal of another
// partner, or of other stores, in the same words).
func (s *Service) Store(ctx context.Context, id string) (o kopilka.Store, err error) {
	if err := access.Allow(ctx, access.StoresRead); err != nil {
		return o, err
	}
	err = s.DB.View(ctx, func(tx Tx) error {
		o, err = s.store(ctx, tx, id)
		return err
	})
	return o, err
}

// Stores lists up to limit (1 to 1,000) stores of a partner with ids after
// the cursor, by id; an unknown partner is ENOTFOUND.
func (s *Service) Stores(ctx context.Context, partnerID, after string, limit int) (os []kopilka.Store, err error) {
	if err := access.Allow(ctx, access.PartnersStores); err != nil {
		return nil, err
	}
	if limit < 1 || limit > 1000 {
		return nil, kopilka.Invalid("limit", "must be from 1 to 1000")
	}
	err = s.DB.View(ctx, func(tx Tx) error {
		if _, err := s.partner(ctx, tx, partnerID); err != nil {
			return err
		}
		os, err = tx.Stores(ctx, partnerID, kopilka.PrincipalFrom(ctx).StoreIDs, after, limit)
		return err
	})
	return os, err
}

// AllStores lists the programme's stores, every partner's, by id after
// after (at most limit, 1 to 1000). A principal scoped to a partner lists
// its own partner's, and one scoped to some stores those stores.
func (s *Service) AllStores(ctx context.Context, after string, limit int) ([]kopilka.Store, error) {
	if err := access.Allow(ctx, access.PartnersStores); err != nil {
		return nil, err
	}
	if limit < 1 || limit > 1000 {
		return nil, kopilka.Invalid("limit", "must be from 1 to 1000")
	}
	var os []kopilka.Store
	err := s.DB.View(ctx, func(tx Tx) (err error) {
		p := kopilka.PrincipalFrom(ctx)
		os, err = tx.Stores(ctx, p.PartnerID, p.StoreIDs, after, limit)
		return err
	})
	return os, err
}

type cachedSite struct {
	site kopilka.Site
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
func (s *Service) Site(ctx context.Context, storeID string) (kopilka.Site, error) {
	s.sites.mu.Lock()
	c, ok := s.sites.m[storeID]
	s.sites.mu.Unlock()
	if ok && time.Since(c.at) < s.TTL {
		return c.site, c.err
	}
	var site kopilka.Site
	err := s.DB.View(ctx, func(tx Tx) (err error) {
		if site.Store, err = tx.Store(ctx, storeID); err != nil {
			return err
		}
		site.Partner, err = tx.Partner(ctx, site.Store.PartnerID)
		return err
	})
	if err != nil && kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
		return kopilka.Site{}, err
	}
	s.sites.mu.Lock()
	if s.sites.m == nil || len(s.sites.m) > 100_000 {
		s.sites.m = map[string]cachedSite{}
	}
	s.sites.m[storeID] = cachedSite{site, err, time.Now()}
	s.sites.mu.Unlock()
	return site, err
}

// SiteFor finds the store a receipt names and refuses an unknown store, a
// closed one, one of a suspended partner, and one outside its opening
// hours at the receipt's time.
func (s *Service) SiteFor(ctx context.Context, r *kopilka.Receipt, now time.Time) (kopilka.Site, error) {
	site, err := s.Site(ctx, r.StoreID)
	if kopilka.ErrorCode(err) == kopilka.ENOTFOUND {
		return site, kopilka.FieldErr(kopilka.EUNKNOWNSTORE, "store_id", "no store has this id")
	} else if err != nil {
		return site, err
	}
	// Set before the checks: a replay at a store closed since finds its
	// receipt among its partner's.
	r.PartnerID = site.Partner.ID
	at := r.OccurredAt
	if at.IsZero() {
		at = now
	}
	switch {
	case site.Partner.Status != kopilka.PartnerActive:
		return site, kopilka.FieldErr(kopilka.ESTORECLOSED, "store_id", "the store's partner "+site.Partner.ID+" is suspended")
	case site.Store.Status != kopilka.StoreOpen:
		return site, kopilka.FieldErr(kopilka.ESTORECLOSED, "store_id", "the store is closed")
	case !site.Store.OpenAt(at):
		return site, kopilka.FieldErr(kopilka.ESTORECLOSED, "store_id", "the store is closed at "+at.In(kopilka.MustZone(site.Store.TimeZone)).Format("Mon 15:04 MST")+" by its opening hours")
	}
	return site, nil
}
