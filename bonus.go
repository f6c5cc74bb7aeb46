package kopilka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
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

// bonus gives a member points once per key: a new active lot from the
// issuance account, living expiresDays (zero: as earned points do). The
// member's balance is locked first. It reports whether it gave them now.
func (s *Service) bonus(ctx context.Context, tx Tx, p Programme, memberID, kind, key string, points int64, expiresDays int, now time.Time) (bool, error) {
	if points <= 0 {
		return false, nil
	}
	if _, err := tx.LockBalance(ctx, memberID); err != nil {
		return false, err
	}
	if _, err := tx.TransactionByKey(ctx, memberID, key); err == nil {
		return false, nil
	} else if ErrorCode(err) != ENOTFOUND {
		return false, err
	}
	expires := p.expiresAfter(now)
	if expiresDays > 0 {
		expires = now.AddDate(0, 0, expiresDays)
	}
	e := newEntry(Transaction{ID: s.newID(), MemberID: memberID, Kind: KindBonus, Reason: kind,
		IdempotencyKey: key, RequestHash: key, CreatedAt: now})
	e.addLot(s.newID(), points, AccountIssuance, now, expires, now)
	return true, tx.Post(ctx, e)
}

// profileBonus gives the profile bonus once both contacts are verified.
func (s *Service) profileBonus(ctx context.Context, tx Tx, p Programme, m Member, now time.Time) error {
	if !m.PhoneVerified || !m.EmailVerified {
		return nil
	}
	b := p.Bonuses.Profile
	_, err := s.bonus(ctx, tx, p, m.ID, BonusProfile, "bonus:"+BonusProfile, b.Points, b.ExpiresDays, now)
	return err
}

// referral gives both sides their bonus after the referred member's first
// purchase; each is given once.
// It returns the points the referred member got now.
func (s *Service) referral(ctx context.Context, tx Tx, p Programme, m *Member, now time.Time) (int64, error) {
	b := p.Bonuses.Referral
	if m.ReferredBy == "" || (b.ReferrerPoints == 0 && b.RefereePoints == 0) {
		return 0, nil
	}
	last, err := tx.LastPurchase(ctx, m.ID)
	if err != nil || !last.IsZero() {
		return 0, err // not the first purchase
	}
	given, err := s.bonus(ctx, tx, p, m.ID, BonusReferral, "bonus:referral", b.RefereePoints, b.ExpiresDays, now)
	if err != nil {
		return 0, err
	}
	if _, err = s.bonus(ctx, tx, p, m.ReferredBy, BonusReferral, "bonus:referral:"+m.ID, b.ReferrerPoints, b.ExpiresDays, now); err != nil {
		return 0, err
	}
	if !given {
		return 0, nil
	}
	return b.RefereePoints, nil
}

// birthdays gives the birthday bonus to every member whose birthday's
// window holds today, once for each year's birthday.
func (s *Service) birthdays(ctx context.Context, e *Engine, now time.Time) (int, error) {
	b := e.Programme.Bonuses.Birthday
	if b.Points <= 0 {
		return 0, nil
	}
	today := now.In(e.loc)
	// Today is in the window of a birthday falling from today − after to today + before.
	byYear := map[int][]string{}
	for k := -b.DaysAfter; k <= b.DaysBefore; k++ {
		d := time.Date(today.Year(), today.Month(), today.Day()+k, 12, 0, 0, 0, e.loc)
		byYear[d.Year()] = append(byYear[d.Year()], d.Format("01-02"))
		if d.Month() == time.February && d.Day() == 28 && !isLeap(d.Year()) {
			byYear[d.Year()] = append(byYear[d.Year()], "02-29") // born on the 29th: the 28th
		}
	}
	n := 0
	var errs []error
	for year, days := range byYear {
		done, err := s.eachMember(ctx, func(tx Tx, limit int) ([]string, error) {
			return tx.BirthdayMembers(ctx, days, year, limit)
		}, func(tx Tx, m *Member) (bool, error) {
			if m.BirthdayYear >= year {
				return false, nil // another instance gave it
			}
			if _, err := s.bonus(ctx, tx, e.Programme, m.ID, BonusBirthday, fmt.Sprintf("bonus:birthday:%d", year), b.Points, b.ExpiresDays, now); err != nil {
				return false, err
			}
			m.BirthdayYear = year
			return true, nil
		})
		n += done
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// SetCategories records the member's choice of personal categories. A
// member may change it once per the programme's period; the raised rate
// applies from the next purchase.
func (s *Service) SetCategories(ctx context.Context, memberID string, cats []string) (Member, error) {
	e, err := s.Engine(ctx)
	if err != nil {
		return Member{}, err
	}
	pc := e.Programme.Personal
	var pr Problems
	if len(pc.Offered) == 0 {
		return Member{}, Errorf(ECONFLICT, "the programme offers no personal categories")
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
		return Member{}, err
	}
	now := s.now()
	var m Member
	err = s.Store.Update(ctx, func(tx Tx) (err error) {
		if m, err = tx.Member(ctx, memberID); err != nil {
			return err
		}
		if at := m.CategoriesAt; at != nil && !at.Before(periodStart(pc.ChangeEvery, now.In(e.loc))) {
			next := periodStart(pc.ChangeEvery, now.In(e.loc)).AddDate(0, map[string]int{"month": 1, "quarter": 3, "year": 12}[pc.ChangeEvery], 0)
			return &Error{Code: ECONFLICT, Message: fmt.Sprintf("the choice may change once a %s; the next change is possible from %s", pc.ChangeEvery, next.Format(time.DateOnly)),
				Fields: []FieldError{{"categories", "was already changed this " + pc.ChangeEvery}}}
		}
		m.Categories, m.CategoriesAt = cats, &now
		return tx.UpdateMember(ctx, m)
	})
	return m, err
}
