package programme

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/ledger"
)

// KindBonus is the transaction kind of an event bonus.
const KindBonus = "bonus"

// Event bonus kinds, each given once (birthday: once a year).
const (
	BonusWelcome  = "welcome"
	BonusProfile  = "profile_complete"
	BonusBirthday = "birthday"
	BonusReferral = "referral"
)

// Bonus gives a member points once per key: a new active lot from the
// issuance account, living life (zero: as earned points do). The
// member's balance is locked first. It reports whether it gave them now: a
// balance that cannot take them under the programme's cap gets nothing, and
// the bonus stays ungiven.
func Bonus(ctx context.Context, tx BonusTx, env *kopilka.Env, p kopilka.Programme, memberID, kind, key string, points int64, life kopilka.Life, now time.Time) (bool, error) {
	if points <= 0 {
		return false, nil
	}
	bal, err := tx.LockBalance(ctx, memberID)
	if err != nil {
		return false, err
	}
	if _, err := tx.TransactionByKey(ctx, memberID, key); err == nil {
		return false, nil
	} else if kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
		return false, err
	}
	expires := p.ExpiresAfter(now)
	if life.Set() {
		expires = life.After(now)
	}
	e := ledger.NewEntry(kopilka.Transaction{ID: env.NewID(), MemberID: memberID, Kind: KindBonus, Reason: kind,
		IdempotencyKey: key, RequestHash: key, CreatedAt: now})
	e.AddLot(env.NewID(), points, kopilka.AccountIssuance, now, expires, now)
	if e.Fits(bal, p.BalanceCap(), "points") != nil {
		return false, nil // a balance at its cap takes no bonus; it is not marked given
	}
	return true, tx.Post(ctx, e)
}

// ProfileBonus gives the profile bonus once both contacts are verified.
func ProfileBonus(ctx context.Context, tx BonusTx, env *kopilka.Env, p kopilka.Programme, m kopilka.Member, now time.Time) error {
	if !m.PhoneVerified || !m.EmailVerified {
		return nil
	}
	b := p.Bonuses.Profile
	_, err := Bonus(ctx, tx, env, p, m.ID, BonusProfile, "bonus:"+BonusProfile, b.Points, b.Life(), now)
	return err
}

// Referral gives both sides their bonus after the referred member's first
// purchase; each is given once.
// It returns the points the referred member got now.
func Referral(ctx context.Context, tx BonusTx, env *kopilka.Env, p kopilka.Programme, m *kopilka.Member, now time.Time) (int64, error) {
	b := p.Bonuses.Referral
	if m.ReferredBy == "" || (b.ReferrerPoints == 0 && b.RefereePoints == 0) {
		return 0, nil
	}
	last, err := tx.LastPurchase(ctx, m.ID)
	if err != nil || !last.IsZero() {
		return 0, err // not the first purchase
	}
	given, err := Bonus(ctx, tx, env, p, m.ID, BonusReferral, "bonus:referral", b.RefereePoints, b.Life(), now)
	if err != nil {
		return 0, err
	}
	if _, err = Bonus(ctx, tx, env, p, m.ReferredBy, BonusReferral, "bonus:referral:"+m.ID, b.ReferrerPoints, b.Life(), now); err != nil {
		return 0, err
	}
	if !given {
		return 0, nil
	}
	return b.RefereePoints, nil
}

// SetCategories records the member's choice of personal categories. A
// member may change it once per the programme's period; the raised rate
// applies from the next purchase.
func (s *Service) SetCategories(ctx context.Context, memberID string, cats []string) (m kopilka.Member, err error) {
	return s.setCategories(ctx, access.MembersCategories, memberID, cats)
}

// MyCategories records the signed-in member's own choice (see SetCategories).
func (s *Service) MyCategories(ctx context.Context, cats []string) (kopilka.Member, error) {
	return s.setCategories(ctx, access.MeCategories, kopilka.PrincipalFrom(ctx).MemberID, cats)
}

func (s *Service) setCategories(ctx context.Context, action access.Action, memberID string, cats []string) (m kopilka.Member, err error) {
	a := access.Begin(ctx, s.Env, action, memberID)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return m, err
	}
	e, err := s.Engine(ctx)
	if err != nil {
		return kopilka.Member{}, err
	}
	pc := e.Programme.Personal
	var pr kopilka.Problems
	if len(pc.Offered) == 0 {
		return kopilka.Member{}, kopilka.Errorf(kopilka.ECONFLICT, "the programme offers no personal categories")
	}
	if len(cats) > pc.Picks {
		pr.Add("categories", fmt.Sprintf("a member may choose at most %d categories", pc.Picks))
	}
	for i, c := range cats {
		if !slices.Contains(pc.Offered, c) {
			pr.Add(fmt.Sprintf("categories[%d]", i), "is not one of the offered categories")
		} else if slices.Index(cats, c) != i {
			pr.Add(fmt.Sprintf("categories[%d]", i), "appears twice")
		}
	}
	if err := pr.Err(); err != nil {
		return kopilka.Member{}, err
	}
	now := s.Env.Time()
	err = s.DB.Update(ctx, func(tx Tx) (err error) {
		if m, err = tx.Member(ctx, memberID); err != nil {
			return err
		}
		if at := m.CategoriesAt; at != nil && !at.Before(kopilka.PeriodStart(pc.ChangeEvery, now.In(e.Loc))) {
			next := kopilka.AddMonths(kopilka.PeriodStart(pc.ChangeEvery, now.In(e.Loc)), map[string]int{"month": 1, "quarter": 3, "year": 12}[pc.ChangeEvery])
			return &kopilka.Error{Code: kopilka.ECONFLICT, Message: fmt.Sprintf("the choice may change once a %s; the next change is possible from %s", pc.ChangeEvery, next.Format(time.DateOnly)),
				Fields: []kopilka.FieldError{{Field: "categories", Detail: "was already changed this " + pc.ChangeEvery}}}
		}
		before := m
		m.Categories, m.CategoriesAt = cats, &now
		if err := tx.UpdateMember(ctx, m); err != nil {
			return err
		}
		return a.Record(ctx, tx, before, m)
	})
	return m, err
}
