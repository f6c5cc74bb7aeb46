package coalition

import (
	"context"
	"sync"
	"time"

	"github.com/kopilka/kopilka"
)

// PutPartner creates the partner or changes it; its id is the caller's.
func (s *Service) PutPartner(ctx context.Context, p kopilka.Partner) (kopilka.Partner, error) {
	if err := p.Validate(); err != nil {
		return kopilka.Partner{}, err
	}
	err := s.DB.Update(ctx, func(tx Tx) error {
		old, err := tx.Partner(ctx, p.ID)
		switch {
		case kopilka.ErrorCode(err) == kopilka.ENOTFOUND:
			p.CreatedAt = s.Env.Time()
		case err != nil:
			return err
		default:
			p.CreatedAt = old.CreatedAt
		}
		p.UpdatedAt = s.Env.Time()
		return tx.PutPartner(ctx, p)
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
	var p kopilka.Partner
	err := s.DB.Update(ctx, func(tx Tx) (err error) {
		if p, err = tx.Partner(ctx, id); err != nil {
			return err
		}
		p.EarnRate, p.MaxSpend, p.UpdatedAt = earn, spend, s.Env.Time()
		if err := p.Validate(); err != nil {
			return err
		}
		return tx.PutPartner(ctx, p)
	})
	if err != nil {
		return kopilka.Partner{}, err
	}
	s.forgetSites()
	return p, nil
}

// Partner returns the partner, or ENOTFOUND.
func (s *Service) Partner(ctx context.Context, id string) (p kopilka.Partner, err error) {
	err = s.DB.View(ctx, func(tx Tx) error {
		p, err = tx.Partner(ctx, id)
		return err
	})
	return p, err
}

// Partners lists every partner by id.
func (s *Service) Partners(ctx context.Context) (ps []kopilka.Partner, err error) {
	err = s.DB.View(ctx, func(tx Tx) error {
		ps, err = tx.Partners(ctx)
		return err
	})
	return ps, err
}

// PutStore creates a store of an existing partner or changes it. A store
// does not move from one partner to another: its receipts are the first
// partner's.
func (s *Service) PutStore(ctx context.Context, o kopilka.Store) (kopilka.Store, error) {
	if err := o.Validate(); err != nil {
		return kopilka.Store{}, err
	}
	err := s.DB.Update(ctx, func(tx Tx) error {
		if _, err := tx.Partner(ctx, o.PartnerID); kopilka.ErrorCode(err) == kopilka.ENOTFOUND {
			return kopilka.Invalid("partner_id", "no partner has this id")
		} else if err != nil {
			return err
		}
		old, err := tx.Store(ctx, o.ID)
		switch {
		case kopilka.ErrorCode(err) == kopilka.ENOTFOUND:
			o.CreatedAt = s.Env.Time()
		case err != nil:
			return err
		case old.PartnerID != o.PartnerID:
			return kopilka.FieldErr(kopilka.ECONFLICT, "partner_id", "the store belongs to partner "+old.PartnerID+"; a store does not change partners")
		default:
			o.CreatedAt = old.CreatedAt
		}
		o.UpdatedAt = s.Env.Time()
		return tx.PutStore(ctx, o)
	})
	if err != nil {
		return kopilka.Store{}, err
	}
	s.forgetSites()
	return o, nil
}

// Store returns the store, or ENOTFOUND.
func (s *Service) Store(ctx context.Context, id string) (o kopilka.Store, err error) {
	err = s.DB.View(ctx, func(tx Tx) error {
		o, err = tx.Store(ctx, id)
		return err
	})
	return o, err
}

// Stores lists up to limit stores of a partner ("": every partner) with
// ids after the cursor, by id.
func (s *Service) Stores(ctx context.Context, partnerID, after string, limit int) (os []kopilka.Store, err error) {
	err = s.DB.View(ctx, func(tx Tx) error {
		os, err = tx.Stores(ctx, partnerID, after, limit)
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
	r.PartnerID = site.Partner.ID
	return site, nil
}
