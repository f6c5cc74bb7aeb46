package storagetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/ledger"
	"github.com/kopilka/kopilka/storage"
)

// Run is the conformance suite: what the database must do, on every dialect, checked
// against a fresh store from open for each case.
func Run(t *testing.T, open func(t *testing.T) *storage.DB) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	member := func(id, phone, email string) kopilka.Member {
		return kopilka.Member{ID: id, Phone: phone, Email: email, Name: "N", Status: kopilka.StatusActive, CreatedAt: t0}
	}
	update := func(t *testing.T, s *storage.DB, fn func(*storage.Tx) error) error {
		t.Helper()
		return s.Update(ctx, fn)
	}
	mustUpdate := func(t *testing.T, s *storage.DB, fn func(*storage.Tx) error) {
		t.Helper()
		if err := s.Update(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	withMember := func(t *testing.T) *storage.DB {
		t.Helper()
		s := open(t)
		mustUpdate(t, s, func(tx *storage.Tx) error {
			if err := tx.InsertMember(ctx, member("m1", "+79160000001", "a@example.com")); err != nil {
				return err
			}
			return tx.InsertCard(ctx, kopilka.Card{Number: "2000000000000001", MemberID: "m1", Kind: kopilka.CardVirtual, Status: kopilka.StatusActive, CreatedAt: t0})
		})
		return s
	}
	credit := func(id string, points int64, expires time.Time) *ledger.Entry {
		e := &ledger.Entry{Tx: kopilka.Transaction{ID: id, MemberID: "m1", Kind: kopilka.KindAdjustment, Available: points, CreatedAt: t0},
			Postings: []kopilka.Posting{{Account: kopilka.AccountAdjustment, Amount: -points}, {Account: kopilka.AccountAvailable, Amount: points}},
			NewLots: []kopilka.Lot{{ID: "lot-" + id, MemberID: "m1", TxID: id, Points: points, Remaining: points,
				State: kopilka.LotActive, ActivatesAt: t0, ExpiresAt: expires, CreatedAt: t0}},
			Lots: map[string]*kopilka.Lot{}}
		return e
	}

	t.Run("ProgrammeDefaultsThenStores", func(t *testing.T) {
		s := open(t)
		var p kopilka.Programme
		mustUpdate(t, s, func(tx *storage.Tx) (err error) { p, err = tx.Programme(ctx); return err })
		if !reflect.DeepEqual(p, kopilka.DefaultProgramme()) {
			t.Fatalf("fresh programme = %+v, want the default", p)
		}
		p.EarnRate, p.UpdatedAt, p.TimeZone = 150, t0, "Europe/Moscow"
		p.Rules = []kopilka.Rule{{ID: "coffee", Kind: kopilka.RuleMultiplier, Factor: 3000, Categories: []string{"coffee"}, Condition: `"vip" in member.tags`}}
		p.Tiers = kopilka.TierPlan{Basis: "spend", Window: "rolling", Months: 12, Levels: []kopilka.Tier{{Name: "gold", Threshold: 100}}}
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.SetProgramme(ctx, p) })
		var got kopilka.Programme
		mustUpdate(t, s, func(tx *storage.Tx) (err error) { got, err = tx.Programme(ctx); return err })
		if !reflect.DeepEqual(got, p) {
			t.Fatalf("stored programme = %+v, want %+v", got, p)
		}
	})

	t.Run("MemberUniquePhoneEmailAndCard", func(t *testing.T) {
		s := withMember(t)
		for _, c := range []struct {
			m     kopilka.Member
			field string
		}{
			{member("m2", "+79160000001", ""), "phone"},
			{member("m3", "", "a@example.com"), "email"},
		} {
			err := update(t, s, func(tx *storage.Tx) error { return tx.InsertMember(ctx, c.m) })
			var e *kopilka.Error
			if !errors.As(err, &e) || e.Code != kopilka.ECONFLICT || len(e.Fields) == 0 || e.Fields[0].Field != c.field {
				t.Errorf("duplicate %s: err = %v, want ECONFLICT on %s", c.field, err, c.field)
			}
		}
		err := update(t, s, func(tx *storage.Tx) error {
			if err := tx.InsertMember(ctx, member("m4", "+79160000004", "")); err != nil {
				return err
			}
			return tx.InsertCard(ctx, kopilka.Card{Number: "2000000000000001", MemberID: "m4", Kind: kopilka.CardVirtual, Status: kopilka.StatusActive, CreatedAt: t0})
		})
		if kopilka.ErrorCode(err) != kopilka.ECONFLICT {
			t.Fatalf("duplicate card: err = %v, want ECONFLICT", err)
		}
		// The failed transaction wrote nothing: m4 does not exist.
		err = s.View(ctx, func(tx *storage.Tx) error { _, err := tx.Member(ctx, "m4"); return err })
		if kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
			t.Fatalf("member of a rolled-back transaction: err = %v, want ENOTFOUND", err)
		}
		// Members without phone or e-mail do not collide on NULL.
		mustUpdate(t, s, func(tx *storage.Tx) error {
			if err := tx.InsertMember(ctx, member("m5", "", "e5@example.com")); err != nil {
				return err
			}
			return tx.InsertMember(ctx, member("m6", "", "e6@example.com"))
		})
	})

	t.Run("MemberLookupAndUpdate", func(t *testing.T) {
		s := withMember(t)
		for key, v := range map[string]string{"phone": "+79160000001", "email": "a@example.com", "card": "2000000000000001"} {
			var id string
			err := s.View(ctx, func(tx *storage.Tx) (err error) { id, err = tx.MemberIDBy(ctx, key, v); return err })
			if err != nil || id != "m1" {
				t.Errorf("by %s: %q, %v", key, id, err)
			}
		}
		var m kopilka.Member
		mustUpdate(t, s, func(tx *storage.Tx) (err error) {
			if m, err = tx.Member(ctx, "m1"); err != nil {
				return err
			}
			m.Name, m.BirthDate, m.Consents.SMS, m.Status = "Anna", "1990-05-01", true, kopilka.StatusBlocked
			return tx.UpdateMember(ctx, m)
		})
		var got kopilka.Member
		_ = s.View(ctx, func(tx *storage.Tx) (err error) { got, err = tx.Member(ctx, "m1"); return err })
		if got.Name != "Anna" || got.BirthDate != "1990-05-01" || !got.Consents.SMS || got.Status != kopilka.StatusBlocked ||
			len(got.Cards) != 1 || got.Cards[0].Number != "2000000000000001" || !got.CreatedAt.Equal(t0) {
			t.Fatalf("member after update = %+v", got)
		}
		err := s.View(ctx, func(tx *storage.Tx) error { _, err := tx.Member(ctx, "nobody"); return err })
		if kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
			t.Fatalf("unknown member: %v", err)
		}
	})

	t.Run("PostMovesBalanceAndRefusesOverdraft", func(t *testing.T) {
		s := withMember(t)
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.Post(ctx, credit("t1", 100, t0.AddDate(1, 0, 0))) })
		var b kopilka.Balance
		mustUpdate(t, s, func(tx *storage.Tx) (err error) { b, err = tx.LockBalance(ctx, "m1"); return err })
		if b != (kopilka.Balance{Available: 100}) {
			t.Fatalf("balance = %+v, want 100 available", b)
		}
		// A debit beyond the balance breaks the CHECK and is EINSUFFICIENT; nothing of it stays.
		over := &ledger.Entry{Tx: kopilka.Transaction{ID: "t2", MemberID: "m1", Kind: kopilka.KindAdjustment, Available: -101, CreatedAt: t0},
			Postings: []kopilka.Posting{{Account: kopilka.AccountAvailable, Amount: -101}, {Account: kopilka.AccountAdjustment, Amount: 101}}, Lots: map[string]*kopilka.Lot{}}
		err := update(t, s, func(tx *storage.Tx) error { return tx.Post(ctx, over) })
		if kopilka.ErrorCode(err) != kopilka.EINSUFFICIENT {
			t.Fatalf("overdraft: err = %v, want EINSUFFICIENT", err)
		}
		breaches, err := s.Verify(ctx)
		if err != nil || len(breaches) != 0 {
			t.Fatalf("verify after refused overdraft: %v %v", breaches, err)
		}
		var items []kopilka.Transaction
		_ = s.View(ctx, func(tx *storage.Tx) (err error) { items, err = tx.Transactions(ctx, "m1", nil, 10); return err })
		if len(items) != 1 || items[0].ID != "t1" {
			t.Fatalf("history = %+v, want only t1", items)
		}
	})

	t.Run("LockBalanceMakesASecondWriterWait", func(t *testing.T) {
		s := withMember(t)
		locked, done := make(chan struct{}), make(chan error, 1)
		go func() {
			done <- s.Update(ctx, func(tx *storage.Tx) error {
				if _, err := tx.LockBalance(ctx, "m1"); err != nil {
					return err
				}
				close(locked)
				time.Sleep(200 * time.Millisecond) // hold the lock while the other writer tries
				return tx.Post(ctx, credit("t1", 10, time.Time{}))
			})
		}()
		<-locked
		var seen kopilka.Balance
		mustUpdate(t, s, func(tx *storage.Tx) (err error) { seen, err = tx.LockBalance(ctx, "m1"); return err })
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// Had the second writer not waited, it would have read the balance before the credit.
		if seen.Available != 10 {
			t.Fatalf("second writer read %+v while the first held the lock; want it to wait and see 10", seen)
		}
	})

	t.Run("TwoEntriesOfOneMemberInOneTransactionBothCount", func(t *testing.T) {
		s := withMember(t)
		mustUpdate(t, s, func(tx *storage.Tx) error {
			for _, id := range []string{"t1", "t2", "t3"} {
				if err := tx.Post(ctx, credit(id, 10, time.Time{})); err != nil {
					return err
				}
			}
			return nil
		})
		var b kopilka.Balance
		_ = s.View(ctx, func(tx *storage.Tx) (err error) { b, err = tx.LockBalance(ctx, "m1"); return err })
		if b.Available != 30 {
			t.Fatalf("three credits of 10 in one transaction left %d available", b.Available)
		}
		if breaches, err := s.Verify(ctx); err != nil || len(breaches) != 0 {
			t.Fatalf("verify: %v %v", breaches, err)
		}
	})

	t.Run("ABrokenCheckIsAnInternalErrorNotAConflict", func(t *testing.T) {
		s := withMember(t)
		e := credit("t1", 10, time.Time{})
		e.NewLots[0].Remaining = 11 // more than the lot's points
		err := update(t, s, func(tx *storage.Tx) error { return tx.Post(ctx, e) })
		if err == nil || kopilka.ErrorCode(err) != kopilka.EINTERNAL {
			t.Fatalf("lot with remaining > points: %v, want an internal error", err)
		}
	})

	t.Run("LotsMovesAndExpiring", func(t *testing.T) {
		s := withMember(t)
		soon, later := t0.AddDate(0, 0, 10), t0.AddDate(0, 6, 0)
		mustUpdate(t, s, func(tx *storage.Tx) error {
			if err := tx.Post(ctx, credit("t1", 30, soon)); err != nil {
				return err
			}
			return tx.Post(ctx, credit("t2", 50, later))
		})
		mustUpdate(t, s, func(tx *storage.Tx) error {
			lots, err := tx.Lots(ctx, "m1", kopilka.LotActive)
			if err != nil {
				return err
			}
			ledger.SpendOrder(lots)
			if len(lots) != 2 || lots[0].ID != "lot-t1" || !lots[0].ExpiresAt.Equal(soon) {
				t.Fatalf("lots = %+v", lots)
			}
			lots[0].Remaining = 10
			e := &ledger.Entry{Tx: kopilka.Transaction{ID: "t3", MemberID: "m1", Kind: kopilka.KindAdjustment, Available: -20, CreatedAt: t0},
				Postings: []kopilka.Posting{{Account: kopilka.AccountAvailable, Amount: -20}, {Account: kopilka.AccountAdjustment, Amount: 20}},
				Moves:    []kopilka.LotMove{{LotID: "lot-t1", Delta: -20}}, Lots: map[string]*kopilka.Lot{"lot-t1": lots[0]}}
			return tx.Post(ctx, e)
		})
		var exp []kopilka.Expiring
		_ = s.View(ctx, func(tx *storage.Tx) (err error) { exp, err = tx.Expiring(ctx, "m1", t0.AddDate(0, 1, 0)); return err })
		if len(exp) != 1 || exp[0].Points != 10 || !exp[0].ExpiresAt.Equal(soon) {
			t.Fatalf("expiring = %+v, want 10 at %v", exp, soon)
		}
		var activate, expire []string
		_ = s.View(ctx, func(tx *storage.Tx) (err error) { activate, expire, err = tx.DueMembers(ctx, soon, 10); return err })
		if len(activate) != 0 || len(expire) != 1 || expire[0] != "m1" {
			t.Fatalf("due at %v: activate %v expire %v", soon, activate, expire)
		}
		if breaches, err := s.Verify(ctx); err != nil || len(breaches) != 0 {
			t.Fatalf("verify: %v %v", breaches, err)
		}
	})

	t.Run("VerifyFindsATamperedBalance", func(t *testing.T) {
		s := withMember(t)
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.Post(ctx, credit("t1", 100, time.Time{})) })
		// A transaction whose postings do not balance and that moves a
		// balance its lots do not back: Verify must name both breaches.
		bad := &ledger.Entry{Tx: kopilka.Transaction{ID: "t2", MemberID: "m1", Kind: kopilka.KindAdjustment, Available: 5, CreatedAt: t0},
			Postings: []kopilka.Posting{{Account: kopilka.AccountAvailable, Amount: 5}}, Lots: map[string]*kopilka.Lot{}}
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.Post(ctx, bad) })
		breaches, err := s.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		for _, b := range breaches {
			found[b.Invariant] = true
		}
		for _, want := range []string{"every transaction's postings sum to zero", "available balance equals what its active lots hold"} {
			if !found[want] {
				t.Errorf("verify missed %q; got %+v", want, breaches)
			}
		}
	})

	t.Run("VerifyReportsBadRowsAndCarriesOn", func(t *testing.T) {
		s := withMember(t)
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.Post(ctx, credit("t1", 100, time.Time{})) })
		// Rows that no use case writes: a balance past the ceiling, a
		// fractional one (SQLite keeps 1.5 as a float), and postings whose sum
		// overflows an int64 (SQLite's SUM fails, PostgreSQL's is a numeric).
		for _, q := range []string{
			`UPDATE balances SET available = 5000000000000000, pending = 1.5 WHERE member_id = 'm1'`,
			`INSERT INTO postings (tx_id, seq, account, member_id, amount) VALUES ('huge', 0, 'issuance', NULL, 9000000000000000000)`,
			`INSERT INTO postings (tx_id, seq, account, member_id, amount) VALUES ('huge', 1, 'issuance', NULL, 9000000000000000000)`,
		} {
			if _, err := s.SQL.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		breaches, err := s.Verify(ctx)
		if err != nil {
			t.Fatalf("verify stopped at a bad row: %v", err)
		}
		found := map[string]string{}
		for _, b := range breaches {
			found[b.Invariant] += b.Detail + "; "
		}
		for _, want := range []string{
			"every transaction's postings sum to zero",
			"every balance is between 0 and the ceiling of points",
			"pending balance equals the sum of its postings",
			"available balance equals what its active lots hold",
		} {
			if found[want] == "" {
				t.Errorf("verify missed %q; got %+v", want, breaches)
			}
		}
		if !strings.Contains(found["every balance is between 0 and the ceiling of points"], "m1: 5000000000000000") {
			t.Errorf("the balance breach does not show the value: %q", found["every balance is between 0 and the ceiling of points"])
		}
	})

	t.Run("PurchaseAndRefundRecords", func(t *testing.T) {
		s := withMember(t)
		p := &kopilka.Purchase{ReceiptID: "r1", PartnerID: "pa", MemberID: "m1", StoreID: "s1", RequestHash: "h", Status: kopilka.PurchaseConfirmed,
			TxID: "t1", Spends: []kopilka.Spend{{LotID: "l", Points: 3}}, OccurredAt: t0, CreatedAt: t0,
			Quote: kopilka.Quote{ReceiptID: "r1", Earned: 5},
			Lines: []kopilka.PurchaseLine{{Line: kopilka.Line{Line: 1, SKU: "A", Quantity: 2500, Price: 100, Amount: 250}, Earned: 5}}}
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.InsertPurchase(ctx, p) })
		err := update(t, s, func(tx *storage.Tx) error { return tx.InsertPurchase(ctx, p) })
		if kopilka.ErrorCode(err) != kopilka.ECONFLICT {
			t.Fatalf("second insert of a receipt: %v, want ECONFLICT", err)
		}
		// Another partner's receipt of the same id is another purchase.
		other := *p
		other.PartnerID, other.TxID, other.Quote.Earned = "pb", "t9", 7
		other.Lines = []kopilka.PurchaseLine{{Line: kopilka.Line{Line: 1, SKU: "B", Quantity: 1000, Price: 100, Amount: 100}, Earned: 7}}
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.InsertPurchase(ctx, &other) })
		p.Lines[0].Refunded, p.Spends[0].Restored, p.Status = 1000, 1, kopilka.PurchaseRefunded
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.UpdatePurchase(ctx, p) })
		var got, gotB *kopilka.Purchase
		var partners []string
		_ = s.View(ctx, func(tx *storage.Tx) (err error) {
			if got, err = tx.Purchase(ctx, "pa", "r1"); err != nil {
				return err
			}
			if gotB, err = tx.Purchase(ctx, "pb", "r1"); err != nil {
				return err
			}
			partners, err = tx.PurchasePartners(ctx, "r1", 5)
			return err
		})
		if got.Status != kopilka.PurchaseRefunded || got.Lines[0].Refunded != 1000 || got.Lines[0].Quantity != 2500 ||
			got.Spends[0].Restored != 1 || got.Quote.Earned != 5 || !got.OccurredAt.Equal(t0) || got.PartnerID != "pa" {
			t.Fatalf("purchase = %+v", got)
		}
		if gotB.Status != kopilka.PurchaseConfirmed || len(gotB.Lines) != 1 || gotB.Lines[0].SKU != "B" || gotB.Lines[0].Refunded != 0 || gotB.Quote.Earned != 7 {
			t.Fatalf("the other partner's purchase of the same receipt id = %+v", gotB)
		}
		if !slices.Equal(partners, []string{"pa", "pb"}) {
			t.Fatalf("partners with receipt r1: %v", partners)
		}
		if err := s.View(ctx, func(tx *storage.Tx) error { _, err := tx.Purchase(ctx, "pc", "r1"); return err }); kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
			t.Fatalf("a third partner's r1: %v, want ENOTFOUND", err)
		}
		r := &kopilka.RefundRecord{ReceiptID: "r1", PartnerID: "pa", RefundID: "f1", RequestHash: "h", TxID: "t2", CreatedAt: t0,
			Result: kopilka.RefundResult{RefundID: "f1", EarnedReversed: 2}}
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.InsertRefund(ctx, r) })
		if err := update(t, s, func(tx *storage.Tx) error { return tx.InsertRefund(ctx, r) }); kopilka.ErrorCode(err) != kopilka.ECONFLICT {
			t.Fatalf("second refund with one id: %v, want ECONFLICT", err)
		}
		rb := *r
		rb.PartnerID, rb.TxID = "pb", "t10"
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.InsertRefund(ctx, &rb) })
		var gr *kopilka.RefundRecord
		_ = s.View(ctx, func(tx *storage.Tx) (err error) { gr, err = tx.Refund(ctx, "pa", "r1", "f1"); return err })
		if gr.Result.EarnedReversed != 2 || gr.PartnerID != "pa" || gr.TxID != "t2" {
			t.Fatalf("refund = %+v", gr)
		}
	})

	t.Run("HolderFindsLocksAndReportsPriorPurchase", func(t *testing.T) {
		s := withMember(t)
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.Post(ctx, credit("t1", 70, time.Time{})) })
		mustUpdate(t, s, func(tx *storage.Tx) error {
			h, err := tx.Holder(ctx, "2000000000000001", "", "pa", "r1")
			if err != nil || h.MemberID != "m1" || h.CardStatus != kopilka.StatusActive || h.MemberStatus != kopilka.StatusActive ||
				h.Balance.Available != 70 || h.Prior != nil {
				t.Fatalf("by card: %+v, %v", h, err)
			}
			if h, err = tx.Holder(ctx, "", "m1", "pa", "r1"); err != nil || h.MemberID != "m1" || h.CardStatus != "" {
				t.Fatalf("by member: %+v, %v", h, err)
			}
			if _, err := tx.Holder(ctx, "2999", "", "pa", "r1"); kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
				t.Fatalf("unknown card: %v", err)
			}
			return tx.InsertPurchase(ctx, &kopilka.Purchase{ReceiptID: "r1", PartnerID: "pa", MemberID: "m1", StoreID: "s", RequestHash: "h1",
				Status: kopilka.PurchaseConfirmed, TxID: "t1", OccurredAt: t0, CreatedAt: t0, Quote: kopilka.Quote{ReceiptID: "r1", Earned: 9},
				Lines: []kopilka.PurchaseLine{{Line: kopilka.Line{Line: 1, SKU: "A", Quantity: 1000, Price: 1, Amount: 1}}}})
		})
		var h kopilka.Holder
		mustUpdate(t, s, func(tx *storage.Tx) (err error) {
			h, err = tx.Holder(ctx, "2000000000000001", "", "pa", "r1")
			return err
		})
		if h.Prior == nil || h.Prior.RequestHash != "h1" || h.Prior.Quote.Earned != 9 {
			t.Fatalf("prior purchase = %+v", h.Prior)
		}
		mustUpdate(t, s, func(tx *storage.Tx) (err error) {
			h, err = tx.Holder(ctx, "2000000000000001", "", "pb", "r1")
			return err
		})
		if h.Prior != nil {
			t.Fatalf("another partner's receipt r1 was taken for a prior purchase: %+v", h.Prior)
		}
	})

	t.Run("HistoryPagesNewestFirst", func(t *testing.T) {
		s := withMember(t)
		for i, id := range []string{"a", "b", "c", "d", "e"} {
			e := credit(id, int64(i+1), time.Time{})
			e.Tx.CreatedAt = t0.Add(time.Duration(i/2) * time.Minute) // ties on time are ordered by id
			mustUpdate(t, s, func(tx *storage.Tx) error { return tx.Post(ctx, e) })
		}
		var seen []string
		var cur *kopilka.Cursor
		for range 5 {
			var page []kopilka.Transaction
			_ = s.View(ctx, func(tx *storage.Tx) (err error) { page, err = tx.Transactions(ctx, "m1", cur, 2); return err })
			for _, x := range page {
				seen = append(seen, x.ID)
			}
			if len(page) < 2 {
				break
			}
			last := page[len(page)-1]
			cur = &kopilka.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
		}
		if got := len(seen); got != 5 || seen[0] != "e" || seen[1] != "d" || seen[2] != "c" || seen[3] != "b" || seen[4] != "a" {
			t.Fatalf("pages = %v, want e d c b a", seen)
		}
	})

	t.Run("IdempotencyKeyIsUniquePerMember", func(t *testing.T) {
		s := withMember(t)
		e := credit("t1", 10, time.Time{})
		e.Tx.IdempotencyKey, e.Tx.RequestHash = "k1", "h1"
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.Post(ctx, e) })
		again := credit("t2", 10, time.Time{})
		again.Tx.IdempotencyKey = "k1"
		if err := update(t, s, func(tx *storage.Tx) error { return tx.Post(ctx, again) }); kopilka.ErrorCode(err) != kopilka.ECONFLICT {
			t.Fatalf("second transaction with one key: %v, want ECONFLICT", err)
		}
		var got kopilka.Transaction
		_ = s.View(ctx, func(tx *storage.Tx) (err error) { got, err = tx.TransactionByKey(ctx, "m1", "k1"); return err })
		if got.ID != "t1" || got.RequestHash != "h1" {
			t.Fatalf("by key = %+v", got)
		}
	})

	t.Run("KeysHashedRevokedTouched", func(t *testing.T) {
		s := open(t)
		k := kopilka.APIKey{ID: "k1", Name: "till", Role: kopilka.RolePOS, Hash: kopilka.HashKey("secret"), Prefix: "secret", CreatedAt: t0,
			PartnerID: "p1", StoreIDs: []string{"s1", "s2"}}
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.InsertKey(ctx, k) })
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.TouchKey(ctx, "k1", t0.Add(time.Hour)) })
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.RevokeKey(ctx, "k1", t0.Add(2*time.Hour)) })
		if err := update(t, s, func(tx *storage.Tx) error { return tx.RevokeKey(ctx, "k1", t0) }); kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
			t.Fatalf("revoking a revoked key: %v, want ENOTFOUND", err)
		}
		var got kopilka.APIKey
		_ = s.View(ctx, func(tx *storage.Tx) (err error) { got, err = tx.KeyByHash(ctx, kopilka.HashKey("secret")); return err })
		if got.ID != "k1" || got.LastUsedAt == nil || !got.LastUsedAt.Equal(t0.Add(time.Hour)) || got.RevokedAt == nil ||
			got.PartnerID != "p1" || !reflect.DeepEqual(got.StoreIDs, []string{"s1", "s2"}) {
			t.Fatalf("key = %+v", got)
		}
	})

	t.Run("PartnersAndStoresRoundTrip", func(t *testing.T) {
		s := open(t)
		earn := kopilka.Percent(250)
		p := kopilka.Partner{ID: "p1", Name: "Fuel", LegalID: "7700000000", Status: kopilka.PartnerActive, EarnRate: &earn,
			Categories: []string{"fuel"}, CreatedAt: t0, UpdatedAt: t0}
		lat, lon := 55.751244, 37.618423
		o := kopilka.Store{ID: "s1", PartnerID: "p1", Name: "Pump", Address: "Tverskaya 1", Lat: &lat, Lon: &lon, TimeZone: "Europe/Moscow",
			Hours: []kopilka.OpeningHours{{Days: []string{"mon"}, From: "09:00", To: "21:00"}}, Status: kopilka.StoreOpen, CreatedAt: t0, UpdatedAt: t0}
		online := kopilka.Store{ID: "s2", PartnerID: "p1", Name: "Online", TimeZone: "UTC", Hours: []kopilka.OpeningHours{}, Status: kopilka.StoreOpen, CreatedAt: t0, UpdatedAt: t0}
		mustUpdate(t, s, func(tx *storage.Tx) error {
			if err := tx.PutPartner(ctx, p); err != nil {
				return err
			}
			if err := tx.PutStore(ctx, o); err != nil {
				return err
			}
			return tx.PutStore(ctx, online)
		})
		if err := update(t, s, func(tx *storage.Tx) error {
			return tx.PutStore(ctx, kopilka.Store{ID: "s3", PartnerID: "nobody", Name: "X", Hours: []kopilka.OpeningHours{}, Status: kopilka.StoreOpen})
		}); err == nil {
			t.Error("a store of an unknown partner was stored")
		}
		var gotP kopilka.Partner
		var gotO, gotOnline kopilka.Store
		var all []kopilka.Store
		_ = s.View(ctx, func(tx *storage.Tx) (err error) {
			if gotP, err = tx.Partner(ctx, "p1"); err != nil {
				return err
			}
			if gotO, err = tx.Store(ctx, "s1"); err != nil {
				return err
			}
			if gotOnline, err = tx.Store(ctx, "s2"); err != nil {
				return err
			}
			all, err = tx.Stores(ctx, "p1", nil, "s1", 10)
			return err
		})
		if !reflect.DeepEqual(gotP, p) || !reflect.DeepEqual(gotO, o) || !reflect.DeepEqual(gotOnline, online) {
			t.Fatalf("round trip:\n%+v\n%+v\n%+v", gotP, gotO, gotOnline)
		}
		if len(all) != 1 || all[0].ID != "s2" {
			t.Fatalf("stores after s1 = %+v", all)
		}
		// Changing the partner keeps its creation time as stored by the caller.
		p.Status, p.EarnRate, p.UpdatedAt = kopilka.PartnerSuspended, nil, t0.Add(time.Hour)
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.PutPartner(ctx, p) })
		_ = s.View(ctx, func(tx *storage.Tx) (err error) { gotP, err = tx.Partner(ctx, "p1"); return err })
		if !reflect.DeepEqual(gotP, p) {
			t.Fatalf("after change: %+v", gotP)
		}
		var missing error
		_ = s.View(ctx, func(tx *storage.Tx) error { _, missing = tx.Store(ctx, "nope"); return nil })
		if kopilka.ErrorCode(missing) != kopilka.ENOTFOUND {
			t.Fatalf("unknown store: %v", missing)
		}
	})

	t.Run("StoresInABoxOfOpenStoresOfActivePartners", func(t *testing.T) {
		s := open(t)
		at := func(id, partner string, lat, lon float64, status string) kopilka.Store {
			return kopilka.Store{ID: id, PartnerID: partner, Name: id, Lat: &lat, Lon: &lon, TimeZone: "UTC",
				Hours: []kopilka.OpeningHours{}, Status: status, CreatedAt: t0, UpdatedAt: t0}
		}
		mustUpdate(t, s, func(tx *storage.Tx) error {
			for _, p := range []kopilka.Partner{
				{ID: "a", Name: "A", Status: kopilka.PartnerActive, Categories: []string{"fuel"}, CreatedAt: t0, UpdatedAt: t0},
				{ID: "b", Name: "B", Status: kopilka.PartnerSuspended, Categories: []string{}, CreatedAt: t0, UpdatedAt: t0},
			} {
				if err := tx.PutPartner(ctx, p); err != nil {
					return err
				}
			}
			for _, o := range []kopilka.Store{
				at("in", "a", 55.75, 37.62, kopilka.StoreOpen), at("closed", "a", 55.75, 37.62, kopilka.StoreClosed),
				at("suspended", "b", 55.75, 37.62, kopilka.StoreOpen), at("east", "a", 55.75, 38.5, kopilka.StoreOpen),
				at("north", "a", 56.5, 37.62, kopilka.StoreOpen),
			} {
				if err := tx.PutStore(ctx, o); err != nil {
					return err
				}
			}
			return nil
		})
		var got []kopilka.Store
		_ = s.View(ctx, func(tx *storage.Tx) (err error) {
			got, err = tx.StoresIn(ctx, kopilka.Box{MinLat: 55.7, MaxLat: 55.8, MinLon: 37.5, MaxLon: 37.7}, "", 100)
			return err
		})
		if len(got) != 1 || got[0].ID != "in" || !reflect.DeepEqual(got[0].Categories, []string{"fuel"}) {
			t.Fatalf("in the box: %+v", got)
		}
		_ = s.View(ctx, func(tx *storage.Tx) (err error) {
			got, err = tx.StoresIn(ctx, kopilka.Box{MinLat: 55.7, MaxLat: 55.8, MinLon: 37.5, MaxLon: 37.7}, "b", 100)
			return err
		})
		if len(got) != 0 {
			t.Fatalf("in the box for partner b: %+v", got)
		}
	})

	t.Run("PartnerEntriesAndSettlements", func(t *testing.T) {
		s := withMember(t)
		post := func(id, kind string, at time.Time, postings ...kopilka.Posting) {
			var avail int64
			for _, p := range postings {
				if p.Account == kopilka.AccountAvailable {
					avail += p.Amount
				}
			}
			e := &ledger.Entry{Tx: kopilka.Transaction{ID: id, MemberID: "m1", Kind: kind, ReceiptID: "r-" + id, StoreID: "s1", PartnerID: "p1",
				Available: avail, CreatedAt: at}, Postings: postings, Lots: map[string]*kopilka.Lot{}}
			if avail > 0 {
				e.NewLots = []kopilka.Lot{{ID: "lot-" + id, MemberID: "m1", TxID: id, Points: avail, Remaining: avail,
					State: kopilka.LotActive, ActivatesAt: at, CreatedAt: at}}
			}
			mustUpdate(t, s, func(tx *storage.Tx) error { return tx.Post(ctx, e) })
		}
		post("t1", kopilka.KindPurchase, t0, kopilka.Posting{Account: kopilka.AccountIssuance, Amount: -50}, kopilka.Posting{Account: kopilka.AccountAvailable, Amount: 50})
		post("t2", kopilka.KindPurchase, t0.Add(time.Hour), kopilka.Posting{Account: kopilka.AccountIssuance, Amount: -30}, kopilka.Posting{Account: kopilka.AccountAvailable, Amount: 30},
			kopilka.Posting{Account: kopilka.AccountAvailable, Amount: -20}, kopilka.Posting{Account: kopilka.AccountRedemption, Amount: 20})
		post("t3", kopilka.KindRefund, t0.Add(2*time.Hour), kopilka.Posting{Account: kopilka.AccountRedemption, Amount: -20}, kopilka.Posting{Account: kopilka.AccountAvailable, Amount: 20})
		var es []kopilka.PartnerEntry
		_ = s.View(ctx, func(tx *storage.Tx) (err error) {
			es, err = tx.PartnerEntries(ctx, "p1", t0, t0.Add(2*time.Hour), &kopilka.Cursor{CreatedAt: t0, ID: "t1"}, 10)
			return err
		})
		if len(es) != 1 || es[0].TxID != "t2" || es[0].Issued != 30 || es[0].Redeemed != 20 || es[0].StoreID != "s1" || es[0].ReceiptID != "r-t2" {
			t.Fatalf("entries = %+v", es)
		}
		_ = s.View(ctx, func(tx *storage.Tx) (err error) {
			es, err = tx.PartnerEntries(ctx, "p1", t0, t0.Add(3*time.Hour), nil, 10)
			return err
		})
		if len(es) != 3 || es[2].Redeemed != -20 || es[2].Kind != kopilka.KindRefund {
			t.Fatalf("all entries = %+v", es)
		}
		closed := t0.Add(24 * time.Hour)
		st := kopilka.Statement{PartnerID: "p1", Period: "2026-01", Status: kopilka.StatementClosed, PointsIssued: 80, ClosedAt: &closed}
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.InsertSettlement(ctx, st) })
		if err := update(t, s, func(tx *storage.Tx) error { return tx.InsertSettlement(ctx, st) }); kopilka.ErrorCode(err) != kopilka.ECONFLICT {
			t.Fatalf("a second settlement of the period: %v, want ECONFLICT", err)
		}
		var got kopilka.Statement
		_ = s.View(ctx, func(tx *storage.Tx) (err error) { got, err = tx.Settlement(ctx, "p1", "2026-01"); return err })
		if got.PointsIssued != 80 || got.ClosedAt == nil || !got.ClosedAt.Equal(closed) {
			t.Fatalf("settlement = %+v", got)
		}
	})

	t.Run("LoginFailuresOfAddressesThatAreNoOperators", func(t *testing.T) {
		s := open(t)
		if err := s.View(ctx, func(tx *storage.Tx) error {
			_, err := tx.LockLoginFailures(ctx, "ghost@example.com")
			return err
		}); kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
			t.Fatalf("no failures yet: %v", err)
		}
		until := t0.Add(15 * time.Minute)
		for _, f := range []kopilka.LoginFailures{
			{Email: "ghost@example.com", Failures: 4, UpdatedAt: t0},
			{Email: "ghost@example.com", Failures: 0, LockedUntil: &until, UpdatedAt: t0.Add(time.Minute)},
		} {
			mustUpdate(t, s, func(tx *storage.Tx) error { return tx.PutLoginFailures(ctx, f) })
		}
		mustUpdate(t, s, func(tx *storage.Tx) error {
			f, err := tx.LockLoginFailures(ctx, "ghost@example.com")
			if err != nil || f.Failures != 0 || f.LockedUntil == nil || !f.LockedUntil.Equal(until) || !f.UpdatedAt.Equal(t0.Add(time.Minute)) {
				t.Errorf("read back %+v, %v", f, err)
			}
			return err
		})
	})
	t.Run("OperatorsSessionsCodesAndAudit", func(t *testing.T) {
		s := open(t)
		o := kopilka.Operator{ID: "o1", Email: "vera@example.com", Name: "Vera", Role: kopilka.RoleSupport, Status: kopilka.StatusActive,
			PasswordHash: "$argon2id$x", CreatedAt: t0}
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.InsertOperator(ctx, o) })
		twin := o
		twin.ID = "o2"
		if err := update(t, s, func(tx *storage.Tx) error { return tx.InsertOperator(ctx, twin) }); kopilka.ErrorCode(err) != kopilka.ECONFLICT {
			t.Fatalf("an operator with a taken e-mail: %v, want ECONFLICT", err)
		}
		locked := t0.Add(time.Hour)
		o.FailedLogins, o.LockedUntil, o.LastLoginAt = 3, &locked, &t0
		mustUpdate(t, s, func(tx *storage.Tx) error {
			got, err := tx.LockOperator(ctx, "o1")
			if err != nil || got.Email != o.Email {
				return fmt.Errorf("lock operator: %+v %v", got, err)
			}
			return tx.UpdateOperator(ctx, o)
		})
		var got kopilka.Operator
		var id string
		_ = s.View(ctx, func(tx *storage.Tx) (err error) {
			if id, err = tx.OperatorIDByEmail(ctx, "vera@example.com"); err != nil {
				return err
			}
			got, err = tx.Operator(ctx, id)
			return err
		})
		if !reflect.DeepEqual(got, o) {
			t.Fatalf("operator = %+v, want %+v", got, o)
		}
		for _, h := range []string{"h1", "h2"} {
			mustUpdate(t, s, func(tx *storage.Tx) error {
				return tx.InsertSession(ctx, kopilka.Session{Hash: h, Kind: "operator", SubjectID: "o1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
			})
		}
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.RevokeSession(ctx, "h1", t0) })
		live := func(h string) bool {
			var err error
			_ = s.View(ctx, func(tx *storage.Tx) error { _, err = tx.Session(ctx, h); return nil })
			return err == nil
		}
		if live("h1") || !live("h2") {
			t.Fatalf("after revoking h1: h1 live %v, h2 live %v", live("h1"), live("h2"))
		}
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.RevokeSessions(ctx, "o1", t0) })
		if live("h2") {
			t.Fatal("h2 outlived the revocation of all o1's sessions")
		}
		code := kopilka.OTP{Address: "phone:+79160000001", MemberID: "m1", Hash: "a", SentAt: t0, ExpiresAt: t0.Add(time.Minute),
			Failures: 3, FailuresSince: t0}
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.PutOTP(ctx, code) })
		code.Hash, code.Attempts = "b", 2
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.PutOTP(ctx, code) })
		var gotCode kopilka.OTP
		mustUpdate(t, s, func(tx *storage.Tx) (err error) { gotCode, err = tx.LockOTP(ctx, code.Address); return err })
		if !reflect.DeepEqual(gotCode, code) {
			t.Fatalf("code = %+v, want %+v", gotCode, code)
		}
		entries := []kopilka.AuditEntry{
			{ID: "a1", At: t0, ActorKind: "key", ActorID: "k1", Actor: "key:k1 (till)", Role: "pos", PartnerID: "p1", Action: "POST /v1/purchases",
				Path: "/v1/purchases", Status: 200, RequestID: "r1", Source: "10.0.0.1", Request: []byte(`{"a":1}`), After: []byte(`{"b":2}`)},
			{ID: "a2", At: t0.Add(time.Second), ActorKind: "operator", ActorID: "o1", Actor: "operator:o1", Role: "support", Action: "POST /v1/cards/{number}/block",
				Path: "/v1/cards/2/block", Target: "2", Status: 200, RequestID: "r2", Source: "10.0.0.2", Before: []byte(`{"status":"active"}`)},
			{ID: "a3", At: t0.Add(2 * time.Second), ActorKind: "operator", ActorID: "o1", Actor: "operator:o1", Role: "support", Action: "POST /v1/members",
				Path: "/v1/members", Status: 201, RequestID: "r3", Source: "10.0.0.2"},
		}
		mustUpdate(t, s, func(tx *storage.Tx) error { return tx.InsertAudit(ctx, entries...) })
		var es []kopilka.AuditEntry
		_ = s.View(ctx, func(tx *storage.Tx) (err error) {
			es, err = tx.AuditEntries(ctx, kopilka.AuditFilter{ActorID: "o1", Limit: 10})
			return err
		})
		if len(es) != 2 || !reflect.DeepEqual(es[0], entries[2]) || !reflect.DeepEqual(es[1], entries[1]) {
			t.Fatalf("entries of o1 = %+v", es)
		}
		_ = s.View(ctx, func(tx *storage.Tx) (err error) {
			es, err = tx.AuditEntries(ctx, kopilka.AuditFilter{Before: &kopilka.Cursor{CreatedAt: entries[1].At, ID: "a2"}, Limit: 10})
			return err
		})
		if len(es) != 1 || !reflect.DeepEqual(es[0], entries[0]) {
			t.Fatalf("entries before a2 = %+v", es)
		}
		_ = s.View(ctx, func(tx *storage.Tx) (err error) {
			es, err = tx.AuditEntries(ctx, kopilka.AuditFilter{Target: "2", PartnerID: "", From: t0, To: t0.Add(time.Hour), Limit: 10})
			return err
		})
		if len(es) != 1 || es[0].ID != "a2" {
			t.Fatalf("entries of target 2 = %+v", es)
		}
	})
}
