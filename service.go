// Package kopilka is the domain of a loyalty programme: members and their
// cards, a double-entry points ledger with lots that activate and expire,
// and the purchase flow of a till (quote, confirm, refund, cancel).
//
// The package imports neither HTTP nor a database driver: it declares the
// Store it needs (store.go), and store/sqlite, store/postgres and http
// are adapters at the edges.
package kopilka

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Service runs the programme's use cases over a Store.
type Service struct {
	Store Store
	// Now is the clock; tests set it to move through days and months.
	Now func() time.Time
	// Random supplies identifiers and card numbers; tests may make it repeatable.
	Random io.Reader
	// Region reads national phone numbers ("RU": 8 916 … is +7 916 …).
	Region string
	// ProgrammeTTL is how long a read of the programme settings is reused.
	ProgrammeTTL time.Duration
	// Sender delivers members' one-time login codes.
	Sender Sender

	mu       sync.Mutex
	engine   *Engine
	loadedAt time.Time
	sites    sites
}

// NewService returns a service with the real clock and randomness.
func NewService(s Store) *Service {
	return &Service{Store: s, Now: time.Now, Random: rand.Reader, Region: "RU", ProgrammeTTL: 5 * time.Second}
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// newID returns a random 128-bit identifier in UUID form. Random keys spread
// writes over a distributed database's ranges.
func (s *Service) newID() string {
	var b [16]byte
	if _, err := io.ReadFull(s.Random, b[:]); err != nil {
		panic(fmt.Sprintf("kopilka: randomness failed: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Programme returns the programme settings, reused for ProgrammeTTL.
func (s *Service) Programme(ctx context.Context) (Programme, error) {
	e, err := s.Engine(ctx)
	if err != nil {
		return Programme{}, err
	}
	return e.Programme, nil
}

// Engine returns the programme compiled for pricing, reused for
// ProgrammeTTL and compiled again only when the programme changed.
func (s *Service) Engine(ctx context.Context) (*Engine, error) {
	s.mu.Lock()
	e, at := s.engine, s.loadedAt
	s.mu.Unlock()
	if e != nil && time.Since(at) < s.ProgrammeTTL {
		return e, nil
	}
	var p Programme
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		p, err = tx.Programme(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	if e == nil || !e.Programme.UpdatedAt.Equal(p.UpdatedAt) {
		if e, err = p.Compile(); err != nil {
			return nil, fmt.Errorf("stored programme: %w", err)
		}
	}
	s.mu.Lock()
	s.engine, s.loadedAt = e, time.Now()
	s.mu.Unlock()
	return e, nil
}

// UpdateProgramme changes the programme settings by change, read and
// written in one transaction so that concurrent changes do not undo each other.
func (s *Service) UpdateProgramme(ctx context.Context, change func(*Programme) error) (Programme, error) {
	var p Programme
	var e *Engine
	err := s.Store.Update(ctx, func(tx Tx) (err error) {
		if p, err = tx.Programme(ctx); err != nil {
			return err
		}
		if err := change(&p); err != nil {
			return err
		}
		p.UpdatedAt = s.now()
		if e, err = p.Compile(); err != nil {
			return err
		}
		return tx.SetProgramme(ctx, p)
	})
	if err != nil {
		return Programme{}, err
	}
	s.mu.Lock()
	s.engine, s.loadedAt = e, time.Now()
	s.mu.Unlock()
	return p, nil
}

// SetProgramme validates and stores new programme settings in full.
func (s *Service) SetProgramme(ctx context.Context, p Programme) (Programme, error) {
	return s.UpdateProgramme(ctx, func(cur *Programme) error { *cur = p; return nil })
}

// CreateMember registers a member and issues a virtual card.
func (s *Service) CreateMember(ctx context.Context, m Member) (Member, error) {
	if err := m.normalize(s.Region); err != nil {
		return Member{}, err
	}
	var pr Problems
	if checkID(&pr, "referred_by", m.ReferredBy, false); pr.Err() != nil {
		return Member{}, pr.Err()
	}
	p, err := s.Programme(ctx)
	if err != nil {
		return Member{}, err
	}
	now := s.now()
	m.ID, m.Status, m.CreatedAt = s.newID(), StatusActive, now
	m.Tier, m.TierReviewAt, m.Categories, m.CategoriesAt = "", nil, []string{}, nil
	card := Card{MemberID: m.ID, Kind: CardVirtual, Status: StatusActive, CreatedAt: now}
	err = s.retryCardNumber(func() error {
		card.Number = s.newCardNumber()
		return s.Store.Update(ctx, func(tx Tx) error {
			if m.ReferredBy != "" {
				ref, err := tx.Member(ctx, m.ReferredBy)
				if ErrorCode(err) == ENOTFOUND || err == nil && ref.Status != StatusActive {
					return Invalid("referred_by", "no active member has this id")
				} else if err != nil {
					return err
				}
			}
			if err := tx.InsertMember(ctx, m); err != nil {
				return err
			}
			if err := tx.InsertCard(ctx, card); err != nil {
				return err
			}
			b := p.Bonuses.Welcome
			if _, err := s.bonus(ctx, tx, p, m.ID, BonusWelcome, "bonus:"+BonusWelcome, b.Points, b.ExpiresDays, now); err != nil {
				return err
			}
			return s.profileBonus(ctx, tx, p, m, now)
		})
	})
	if err != nil {
		return Member{}, err
	}
	m.Cards = []Card{card}
	return m, nil
}

// retryCardNumber runs fn again when a generated card number was taken.
func (s *Service) retryCardNumber(fn func() error) error {
	for range 5 {
		err := fn()
		var e *Error
		if !errors.As(err, &e) || e.Code != ECONFLICT || len(e.Fields) == 0 || e.Fields[0].Field != "card_number" {
			return err
		}
	}
	return Errorf(EINTERNAL, "could not generate a free card number")
}

func (s *Service) newCardNumber() string {
	var b [15]byte
	if _, err := io.ReadFull(s.Random, b[:]); err != nil {
		panic(fmt.Sprintf("kopilka: randomness failed: %v", err))
	}
	return newCardNumber(b[:])
}

// Member returns a member with its cards.
func (s *Service) Member(ctx context.Context, id string) (m Member, err error) {
	err = s.Store.View(ctx, func(tx Tx) error {
		m, err = tx.Member(ctx, id)
		return err
	})
	return m, err
}

// FindMember finds a member by "phone", "email" or "card".
func (s *Service) FindMember(ctx context.Context, key, value string) (Member, error) {
	var err error
	switch key {
	case "phone":
		value, err = NormalizePhone(value, s.Region)
	case "email":
		value, err = NormalizeEmail(value)
	case "card":
		value, err = NormalizeCardNumber("card", value)
	default:
		return Member{}, Invalid(key, "search by phone, email or card")
	}
	if err != nil {
		return Member{}, err
	}
	if value == "" {
		return Member{}, Invalid(key, "is empty")
	}
	var m Member
	err = s.Store.View(ctx, func(tx Tx) error {
		id, err := tx.MemberIDBy(ctx, key, value)
		if err != nil {
			return err
		}
		m, err = tx.Member(ctx, id)
		return err
	})
	return m, err
}

// UpdateMember changes a member's profile.
func (s *Service) UpdateMember(ctx context.Context, id string, p MemberPatch) (m Member, err error) {
	prog, err := s.Programme(ctx)
	if err != nil {
		return Member{}, err
	}
	now := s.now()
	err = s.Store.Update(ctx, func(tx Tx) error {
		// The balance first, as a purchase takes it: the profile bonus
		// needs it, and locks taken in one order cannot deadlock.
		if _, err := tx.LockBalance(ctx, id); err != nil {
			return err
		}
		if m, err = tx.Member(ctx, id); err != nil {
			return err
		}
		phone, email := m.Phone, m.Email
		p.apply(&m)
		if err := m.normalize(s.Region); err != nil {
			return err
		}
		// A changed contact is not verified until it is proved again.
		if m.Phone != phone && p.PhoneVerified == nil {
			m.PhoneVerified = false
		}
		if m.Email != email && p.EmailVerified == nil {
			m.EmailVerified = false
		}
		if err := tx.UpdateMember(ctx, m); err != nil {
			return err
		}
		return s.profileBonus(ctx, tx, prog, m, now)
	})
	return m, err
}

// SetMemberStatus blocks ("blocked") or unblocks ("active") a member.
func (s *Service) SetMemberStatus(ctx context.Context, id, status string) (m Member, err error) {
	err = s.Store.Update(ctx, func(tx Tx) error {
		if m, err = tx.Member(ctx, id); err != nil {
			return err
		}
		m.Status = status
		if err := tx.UpdateMember(ctx, m); err != nil {
			return err
		}
		if status != StatusActive { // a blocked member's app sessions end for good
			return tx.RevokeSessions(ctx, m.ID, s.now())
		}
		return nil
	})
	return m, err
}

// IssueCard gives a member another card: a new virtual card when number is
// empty, else binds the physical (or additional) card with that number.
func (s *Service) IssueCard(ctx context.Context, memberID, kind, number string) (Card, error) {
	switch kind {
	case "":
		kind = CardVirtual
		if number != "" {
			kind = CardPhysical
		}
	case CardVirtual, CardPhysical, CardAdditional:
	default:
		return Card{}, Invalid("kind", `must be "virtual", "physical" or "additional"`)
	}
	if kind == CardPhysical && number == "" {
		return Card{}, Invalid("number", "a physical card needs its number")
	}
	if number != "" {
		n, err := NormalizeCardNumber("number", number)
		if err != nil {
			return Card{}, err
		}
		number = n
	}
	c := Card{MemberID: memberID, Kind: kind, Status: StatusActive, CreatedAt: s.now()}
	issue := func() error {
		c.Number = number
		if c.Number == "" {
			c.Number = s.newCardNumber()
		}
		return s.Store.Update(ctx, func(tx Tx) error {
			m, err := tx.Member(ctx, memberID)
			if err != nil {
				return err
			}
			if m.Status != StatusActive {
				return Errorf(EBLOCKEDMEMBER, "the member is blocked")
			}
			return tx.InsertCard(ctx, c)
		})
	}
	if number != "" {
		return c, issue()
	}
	return c, s.retryCardNumber(issue)
}

// cardNumber normalises a card number named in a path: a malformed one can
// name no card.
func cardNumber(number string) (string, error) {
	n, err := NormalizeCardNumber("number", number)
	if err != nil {
		return "", Errorf(ENOTFOUND, "card not found")
	}
	return n, nil
}

// Card returns a card.
func (s *Service) Card(ctx context.Context, number string) (c Card, err error) {
	if number, err = cardNumber(number); err != nil {
		return c, err
	}
	err = s.Store.View(ctx, func(tx Tx) error {
		c, err = tx.Card(ctx, number)
		return err
	})
	return c, err
}

// BlockCard stops a card; the member's account and other cards are untouched.
func (s *Service) BlockCard(ctx context.Context, number string) (c Card, err error) {
	if number, err = cardNumber(number); err != nil {
		return c, err
	}
	err = s.Store.Update(ctx, func(tx Tx) error {
		if c, err = tx.Card(ctx, number); err != nil {
			return err
		}
		if c.Status == StatusReplaced {
			return Errorf(EBLOCKEDCARD, "the card was replaced by %s", c.ReplacedBy)
		}
		c.Status = StatusBlocked
		return tx.UpdateCard(ctx, c)
	})
	return c, err
}

// ReplaceCard issues a new card (virtual when newNumber is empty) that takes
// over the old card's account; the old card stops working.
func (s *Service) ReplaceCard(ctx context.Context, number, newNumber string) (Card, error) {
	number, err := cardNumber(number)
	if err != nil {
		return Card{}, err
	}
	if newNumber != "" {
		n, err := NormalizeCardNumber("number", newNumber)
		if err != nil {
			return Card{}, err
		}
		newNumber = n
	}
	var fresh Card
	replace := func() error {
		return s.Store.Update(ctx, func(tx Tx) error {
			old, err := tx.Card(ctx, number)
			if err != nil {
				return err
			}
			if old.Status == StatusReplaced {
				return Errorf(ECONFLICT, "the card was already replaced by %s", old.ReplacedBy)
			}
			fresh = Card{Number: newNumber, MemberID: old.MemberID, Kind: old.Kind, Status: StatusActive, CreatedAt: s.now()}
			if fresh.Number == "" {
				fresh.Number, fresh.Kind = s.newCardNumber(), CardVirtual
			} else if old.Kind == CardVirtual {
				fresh.Kind = CardPhysical
			}
			if err := tx.InsertCard(ctx, fresh); err != nil {
				return err
			}
			old.Status, old.ReplacedBy = StatusReplaced, fresh.Number
			return tx.UpdateCard(ctx, old)
		})
	}
	if newNumber != "" {
		return fresh, replace()
	}
	return fresh, s.retryCardNumber(replace)
}
