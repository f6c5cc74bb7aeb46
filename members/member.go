package members

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/programme"
)

// CreateMember registers a member and issues a virtual card.
func (s *Service) CreateMember(ctx context.Context, m kopilka.Member) (_ kopilka.Member, err error) {
	a := access.Begin(ctx, s.Env, access.MembersCreate, "")
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return kopilka.Member{}, err
	}
	if err := m.Normalize(s.Region, true); err != nil {
		return kopilka.Member{}, err
	}
	var pr kopilka.Problems
	if kopilka.CheckID(&pr, "referred_by", m.ReferredBy, false); pr.Err() != nil {
		return kopilka.Member{}, pr.Err()
	}
	p, err := s.programme(ctx)
	if err != nil {
		return kopilka.Member{}, err
	}
	now := s.Env.Time()
	m.ID, m.Status, m.CreatedAt = s.Env.NewID(), kopilka.StatusActive, now
	m.Tier, m.TierReviewAt, m.Categories, m.CategoriesAt = "", nil, []string{}, nil
	card := kopilka.Card{MemberID: m.ID, Kind: kopilka.CardVirtual, Status: kopilka.StatusActive, CreatedAt: now}
	err = s.retryCardNumber(func() error {
		card.Number = s.newCardNumber()
		return s.DB.Update(ctx, func(tx Tx) error {
			if m.ReferredBy != "" {
				ref, err := tx.Member(ctx, m.ReferredBy)
				if kopilka.ErrorCode(err) == kopilka.ENOTFOUND || err == nil && ref.Status != kopilka.StatusActive {
					return kopilka.Invalid("referred_by", "no active member has this id")
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
			if _, err := programme.Bonus(ctx, tx, s.Env, p, m.ID, programme.BonusWelcome, "bonus:"+programme.BonusWelcome, b.Points, b.Life(), now); err != nil {
				return err
			}
			if err := programme.ProfileBonus(ctx, tx, s.Env, p, m, now); err != nil {
				return err
			}
			created := m
			created.Cards = []kopilka.Card{card}
			a.SetTarget(m.ID)
			return a.Record(ctx, tx, nil, created)
		})
	})
	if err != nil {
		return kopilka.Member{}, err
	}
	m.Cards = []kopilka.Card{card}
	return m, nil
}

// errErased refuses a change of a member whose data was erased: nothing
// brings an erased member back.
var errErased = kopilka.Errorf(kopilka.ECONFLICT, "the member's personal data was erased on request: the member cannot be changed or unblocked")

// shown is a member as the principal in ctx may see it: the support role
// sees card numbers masked.
func shown(ctx context.Context, m kopilka.Member) kopilka.Member {
	if kopilka.PrincipalFrom(ctx).Role == kopilka.RoleSupport {
		return m.MaskedCards()
	}
	return m
}

// shownCard is a card as the principal in ctx may see it.
func shownCard(ctx context.Context, c kopilka.Card) kopilka.Card {
	if kopilka.PrincipalFrom(ctx).Role == kopilka.RoleSupport {
		return c.Masked()
	}
	return c
}

// programme reads the programme in force.
func (s *Service) programme(ctx context.Context) (kopilka.Programme, error) {
	e, err := s.Live.Engine(ctx)
	if err != nil {
		return kopilka.Programme{}, err
	}
	return e.Programme, nil
}

// retryCardNumber runs fn again when a generated card number was taken.
func (s *Service) retryCardNumber(fn func() error) error {
	for range 5 {
		err := fn()
		var e *kopilka.Error
		if !errors.As(err, &e) || e.Code != kopilka.ECONFLICT || len(e.Fields) == 0 || e.Fields[0].Field != "card_number" {
			return err
		}
	}
	return kopilka.Errorf(kopilka.EINTERNAL, "could not generate a free card number")
}

func (s *Service) newCardNumber() string {
	var b [15]byte
	if _, err := io.ReadFull(s.Env.Random, b[:]); err != nil {
		panic(fmt.Sprintf("kopilka: randomness failed: %v", err))
	}
	return kopilka.NewCardNumber(b[:])
}

// Member returns a member with its cards.
func (s *Service) Member(ctx context.Context, id string) (m kopilka.Member, err error) {
	if err := access.Allow(ctx, access.MembersRead); err != nil {
		return m, err
	}
	m, err = s.member(ctx, id)
	return shown(ctx, m), err
}

// Me returns the member signed in, with its cards.
func (s *Service) Me(ctx context.Context) (kopilka.Member, error) {
	if err := access.Allow(ctx, access.MeRead); err != nil {
		return kopilka.Member{}, err
	}
	return s.member(ctx, kopilka.PrincipalFrom(ctx).MemberID)
}

func (s *Service) member(ctx context.Context, id string) (m kopilka.Member, err error) {
	err = s.DB.View(ctx, func(tx Tx) error {
		m, err = tx.Member(ctx, id)
		return err
	})
	return m, err
}

// LookupKeys are what the principal in ctx may find a member by: "phone",
// "email" or "card"; a till only by the card it is shown.
func LookupKeys(ctx context.Context) []string {
	if kopilka.PrincipalFrom(ctx).Role == kopilka.RolePOS {
		return []string{"card"}
	}
	return []string{"phone", "email", "card"}
}

// FindMember finds a member by one of LookupKeys.
func (s *Service) FindMember(ctx context.Context, key, value string) (kopilka.Member, error) {
	if err := access.Allow(ctx, access.MembersFind); err != nil {
		return kopilka.Member{}, err
	}
	if keys := LookupKeys(ctx); !slices.Contains(keys, key) {
		return kopilka.Member{}, kopilka.Invalid(keys[0], "give one of: "+strings.Join(keys, ", "))
	}
	var err error
	switch key {
	case "phone":
		value, err = kopilka.NormalizePhone(value, s.Region)
	case "email":
		value, err = kopilka.NormalizeEmail(value)
	case "card":
		value, err = kopilka.NormalizeCardNumber("card", value)
	default:
		return kopilka.Member{}, kopilka.Invalid(key, "search by phone, email or card")
	}
	if err != nil {
		return kopilka.Member{}, err
	}
	if value == "" {
		return kopilka.Member{}, kopilka.Invalid(key, "is empty")
	}
	var m kopilka.Member
	err = s.DB.View(ctx, func(tx Tx) error {
		id, err := tx.MemberIDBy(ctx, key, value)
		if err != nil {
			return err
		}
		m, err = tx.Member(ctx, id)
		return err
	})
	if err == nil && kopilka.PrincipalFrom(ctx).Role == kopilka.RolePOS {
		m = m.TillView(value) // a till learns no personal data
	}
	return shown(ctx, m), err
}

// UpdateMember changes a member's profile.
func (s *Service) UpdateMember(ctx context.Context, id string, p kopilka.MemberPatch) (m kopilka.Member, err error) {
	return s.updateMember(ctx, access.MembersUpdate, id, p)
}

// UpdateMe changes the signed-in member's own name and consents; a phone,
// e-mail or birth date goes through the service centre (EFORBIDDEN naming
// the field), as they carry sign-in and bonuses.
func (s *Service) UpdateMe(ctx context.Context, p kopilka.MemberPatch) (kopilka.Member, error) {
	for _, f := range []struct {
		name string
		set  bool
	}{{"phone", p.Phone != nil}, {"email", p.Email != nil}, {"birth_date", p.BirthDate != nil}, {"tags", p.Tags != nil},
		{"phone_verified", p.PhoneVerified != nil}, {"email_verified", p.EmailVerified != nil}} {
		if f.set {
			return kopilka.Member{}, kopilka.FieldErr(kopilka.EFORBIDDEN, f.name, "a member changes only their name and consents; the service centre changes the rest")
		}
	}
	return s.updateMember(ctx, access.MeUpdate, kopilka.PrincipalFrom(ctx).MemberID, p)
}

func (s *Service) updateMember(ctx context.Context, action access.Action, id string, p kopilka.MemberPatch) (m kopilka.Member, err error) {
	a := access.Begin(ctx, s.Env, action, id)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return m, err
	}
	prog, err := s.programme(ctx)
	if err != nil {
		return kopilka.Member{}, err
	}
	now := s.Env.Time()
	err = s.DB.Update(ctx, func(tx Tx) error {
		// The balance first, as a purchase takes it: the profile bonus
		// needs it, and locks taken in one order cannot deadlock.
		if _, err := tx.LockBalance(ctx, id); err != nil {
			return err
		}
		if m, err = tx.Member(ctx, id); err != nil {
			return err
		}
		if m.Status == kopilka.StatusErased {
			return errErased
		}
		before := m
		phone, email := m.Phone, m.Email
		p.Apply(&m)
		if err := m.Normalize(s.Region, phone != "" || email != ""); err != nil {
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
		if err := programme.ProfileBonus(ctx, tx, s.Env, prog, m, now); err != nil {
			return err
		}
		return a.Record(ctx, tx, before, m)
	})
	return shown(ctx, m), err
}

// SetMemberStatus blocks ("blocked") or unblocks ("active") a member.
func (s *Service) SetMemberStatus(ctx context.Context, id, status string) (m kopilka.Member, err error) {
	act := access.MembersBlock
	if status == kopilka.StatusActive {
		act = access.MembersUnblock
	}
	a := access.Begin(ctx, s.Env, act, id)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return m, err
	}
	err = s.DB.Update(ctx, func(tx Tx) error {
		if m, err = tx.Member(ctx, id); err != nil {
			return err
		}
		if m.Status == kopilka.StatusErased {
			return errErased
		}
		before := m
		m.Status = status
		if err := tx.UpdateMember(ctx, m); err != nil {
			return err
		}
		if status != kopilka.StatusActive { // a blocked member's app sessions end for good
			if err := tx.RevokeSessions(ctx, m.ID, s.Env.Time()); err != nil {
				return err
			}
		}
		return a.Record(ctx, tx, before, m)
	})
	return shown(ctx, m), err // the support role blocks members too: it sees their cards masked
}

// IssueCard gives a member another card: a new virtual card when number is
// empty, else binds the physical (or additional) card with that number.
func (s *Service) IssueCard(ctx context.Context, memberID, kind, number string) (_ kopilka.Card, err error) {
	a := access.Begin(ctx, s.Env, access.MembersIssueCard, memberID)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return kopilka.Card{}, err
	}
	switch kind {
	case "":
		kind = kopilka.CardVirtual
		if number != "" {
			kind = kopilka.CardPhysical
		}
	case kopilka.CardVirtual, kopilka.CardPhysical, kopilka.CardAdditional:
	default:
		return kopilka.Card{}, kopilka.Invalid("kind", `must be "virtual", "physical" or "additional"`)
	}
	if kind == kopilka.CardPhysical && number == "" {
		return kopilka.Card{}, kopilka.Invalid("number", "a physical card needs its number")
	}
	if number != "" {
		n, err := kopilka.NormalizeCardNumber("number", number)
		if err != nil {
			return kopilka.Card{}, err
		}
		number = n
	}
	c := kopilka.Card{MemberID: memberID, Kind: kind, Status: kopilka.StatusActive, CreatedAt: s.Env.Time()}
	issue := func() error {
		c.Number = number
		if c.Number == "" {
			c.Number = s.newCardNumber()
		}
		return s.DB.Update(ctx, func(tx Tx) error {
			m, err := tx.Member(ctx, memberID)
			if err != nil {
				return err
			}
			if m.Status != kopilka.StatusActive {
				return kopilka.Errorf(kopilka.EBLOCKEDMEMBER, "the member is blocked")
			}
			if err := tx.InsertCard(ctx, c); err != nil {
				return err
			}
			return a.Record(ctx, tx, m, c)
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
	n, err := kopilka.NormalizeCardNumber("number", number)
	if err != nil {
		return "", kopilka.Errorf(kopilka.ENOTFOUND, "card not found")
	}
	return n, nil
}

// Card returns a card.
func (s *Service) Card(ctx context.Context, number string) (c kopilka.Card, err error) {
	if err := access.Allow(ctx, access.CardsRead); err != nil {
		return c, err
	}
	if number, err = cardNumber(number); err != nil {
		return c, err
	}
	err = s.DB.View(ctx, func(tx Tx) error {
		c, err = tx.Card(ctx, number)
		return err
	})
	return shownCard(ctx, c), err
}

// BlockCard stops a card; the member's account and other cards are untouched.
func (s *Service) BlockCard(ctx context.Context, number string) (c kopilka.Card, err error) {
	a := access.Begin(ctx, s.Env, access.CardsBlock, number)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return shownCard(ctx, c), err
	}
	if number, err = cardNumber(number); err != nil {
		return shownCard(ctx, c), err
	}
	err = s.DB.Update(ctx, func(tx Tx) error {
		if c, err = tx.Card(ctx, number); err != nil {
			return err
		}
		if c.Status == kopilka.StatusReplaced {
			return kopilka.Errorf(kopilka.EBLOCKEDCARD, "the card was replaced by %s", shownCard(ctx, c).ReplacedBy)
		}
		before := c
		c.Status = kopilka.StatusBlocked
		if err := tx.UpdateCard(ctx, c); err != nil {
			return err
		}
		return a.Record(ctx, tx, before, c)
	})
	return shownCard(ctx, c), err
}

// ReplaceCard issues a new card (virtual when newNumber is empty) that takes
// over the old card's account; the old card stops working.
func (s *Service) ReplaceCard(ctx context.Context, number, newNumber string) (_ kopilka.Card, err error) {
	a := access.Begin(ctx, s.Env, access.CardsReplace, number)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return kopilka.Card{}, err
	}
	number, err = cardNumber(number)
	if err != nil {
		return kopilka.Card{}, err
	}
	if newNumber != "" {
		// A number of one's choosing binds a card one holds: that is issuing
		// a card, which the support role may not do.
		if err := access.Allow(ctx, access.MembersIssueCard); err != nil {
			return kopilka.Card{}, &kopilka.Error{Code: kopilka.EFORBIDDEN, Message: "only a role that issues cards may choose the replacement's number; leave it out and a new one is generated",
				Fields: []kopilka.FieldError{{Field: "number", Detail: "may not be chosen by this role"}}}
		}
		n, err := kopilka.NormalizeCardNumber("number", newNumber)
		if err != nil {
			return kopilka.Card{}, err
		}
		newNumber = n
	}
	var fresh kopilka.Card
	replace := func() error {
		return s.DB.Update(ctx, func(tx Tx) error {
			old, err := tx.Card(ctx, number)
			if err != nil {
				return err
			}
			if old.Status == kopilka.StatusReplaced {
				return kopilka.Errorf(kopilka.ECONFLICT, "the card was already replaced by %s", shownCard(ctx, old).ReplacedBy)
			}
			if m, err := tx.Member(ctx, old.MemberID); err != nil {
				return err
			} else if m.Status == kopilka.StatusErased {
				return errErased
			}
			fresh = kopilka.Card{Number: newNumber, MemberID: old.MemberID, Kind: old.Kind, Status: kopilka.StatusActive, CreatedAt: s.Env.Time()}
			if fresh.Number == "" {
				fresh.Number, fresh.Kind = s.newCardNumber(), kopilka.CardVirtual
			} else if old.Kind == kopilka.CardVirtual {
				fresh.Kind = kopilka.CardPhysical
			}
			if err := tx.InsertCard(ctx, fresh); err != nil {
				return err
			}
			before := old
			old.Status, old.ReplacedBy = kopilka.StatusReplaced, fresh.Number
			if err := tx.UpdateCard(ctx, old); err != nil {
				return err
			}
			if err := s.tellReplaced(ctx, tx, old, fresh); err != nil {
				return err
			}
			return a.Record(ctx, tx, before, fresh)
		})
	}
	if newNumber != "" {
		err = replace()
	} else {
		err = s.retryCardNumber(replace)
	}
	if err == nil && s.Wake != nil {
		s.Wake()
	}
	return shownCard(ctx, fresh), err
}

// tellReplaced writes the member a message that the card was replaced, by
// SMS to the phone or else by e-mail (none when the member has neither), so
// that a replacement the member did not ask for does not go unnoticed. The
// message names the cards by their last four digits only.
func (s *Service) tellReplaced(ctx context.Context, tx Tx, old, fresh kopilka.Card) error {
	m, err := tx.Member(ctx, old.MemberID)
	if err != nil {
		return err
	}
	channel, to := "sms", m.Phone
	if to == "" {
		channel, to = "email", m.Email
	}
	if to == "" {
		return nil
	}
	last4 := func(n string) string { return n[max(0, len(n)-4):] }
	now := s.Env.Time()
	return tx.InsertMessage(ctx, kopilka.Message{ID: s.Env.NewID(), Kind: kopilka.MessageCardReplaced, Channel: channel, To: to,
		MemberID: m.ID, CreatedAt: now, NextAt: now, NotAfter: now.Add(7 * 24 * time.Hour),
		Text: fmt.Sprintf("Your loyalty card ending %s was replaced by a new card ending %s. If you did not ask for this, call us at once.",
			last4(old.Number), last4(fresh.Number))})
}

// SearchMembers finds members for the back office (the roles that read
// members; a till looks members up by card alone, with FindMember): a page
// of at most q.Limit and the cursor of the next page (nil at the end). The
// support role sees card numbers masked. Bad filters are EINVALID naming
// the parameter.
func (s *Service) SearchMembers(ctx context.Context, q kopilka.MemberQuery) ([]kopilka.Member, *kopilka.SortCursor, error) {
	if err := access.Allow(ctx, access.MembersRead); err != nil {
		return nil, nil, err
	}
	var pr kopilka.Problems
	for _, f := range []struct{ name, v string }{{"q", q.Q}, {"name", q.Name}, {"phone", q.Phone}, {"email", q.Email}, {"card", q.Card},
		{"tier", q.Tier}, {"status", q.Status}, {"tag", q.Tag}} {
		kopilka.CheckID(&pr, f.name, f.v, false)
	}
	if q.Status != "" && q.Status != kopilka.StatusActive && q.Status != kopilka.StatusBlocked && q.Status != kopilka.StatusErased {
		pr.Add("status", `must be "active", "blocked" or "erased"`)
	}
	switch q.Sort {
	case "":
		q.Sort = kopilka.SortRegistered
	case kopilka.SortRegistered, kopilka.SortName:
	default:
		pr.Add("sort", `must be "registered" (newest first) or "name"`)
	}
	q.Limit = kopilka.PageLimit(&pr, q.Limit)
	if err := pr.Err(); err != nil {
		return nil, nil, err
	}
	// A role that sees card numbers masked matches a card by its whole
	// number only: a prefix would tell it the digits one by one.
	q.CardWhole = kopilka.PrincipalFrom(ctx).Role == kopilka.RoleSupport
	if !q.RegisteredFrom.IsZero() && !q.RegisteredTo.IsZero() && !q.RegisteredFrom.Before(q.RegisteredTo) {
		return nil, nil, kopilka.Invalid("registered_to", "must not be before registered_from")
	}
	if !q.LastPurchaseFrom.IsZero() && !q.LastPurchaseTo.IsZero() && !q.LastPurchaseFrom.Before(q.LastPurchaseTo) {
		return nil, nil, kopilka.Invalid("last_purchase_to", "must not be before last_purchase_from")
	}
	q.Limit++ // one more tells whether a next page exists
	var ms []kopilka.Member
	var keys []string
	err := s.DB.View(ctx, func(tx Tx) (err error) { ms, keys, err = tx.SearchMembers(ctx, q); return err })
	if err != nil {
		return nil, nil, err
	}
	var next *kopilka.SortCursor
	if len(ms) == q.Limit {
		ms, keys = ms[:q.Limit-1], keys[:q.Limit-1]
		next = &kopilka.SortCursor{Key: keys[len(keys)-1], ID: ms[len(ms)-1].ID}
	}
	for i := range ms {
		ms[i] = shown(ctx, ms[i])
	}
	return ms, next, nil
}
