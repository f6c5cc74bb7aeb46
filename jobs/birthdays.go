package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/pricing"
	"github.com/kopilka/kopilka/programme"
)

// birthdays gives the birthday bonus to every member whose birthday's
// window holds today, once for each year's birthday.
func (s *Service) birthdays(ctx context.Context, e *pricing.Engine, now time.Time) (int, error) {
	b := e.Programme.Bonuses.Birthday
	if b.Points <= 0 {
		return 0, nil
	}
	today := now.In(e.Loc)
	// Today is in the window of a birthday falling from today − after to today + before.
	byYear := map[int][]string{}
	for k := -b.DaysAfter; k <= b.DaysBefore; k++ {
		d := time.Date(today.Year(), today.Month(), today.Day()+k, 12, 0, 0, 0, e.Loc)
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
		}, func(tx Tx, m *kopilka.Member) (bool, error) {
			if m.BirthdayYear >= year {
				return false, nil // another instance gave it
			}
			if _, err := programme.Bonus(ctx, tx, s.Env, e.Programme, m.ID, programme.BonusBirthday, fmt.Sprintf("bonus:birthday:%d", year), b.Points, b.Life(), now); err != nil {
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
