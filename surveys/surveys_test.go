package surveys_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/app"
	"github.com/kopilka/kopilka/cases"
	"github.com/kopilka/kopilka/storage"
	"github.com/kopilka/kopilka/storage/storagetest"
	"github.com/kopilka/kopilka/surveys"
)

type fixture struct {
	svc *app.App
	db  *storage.DB
	ctx context.Context
	now time.Time
}

func newFixture(t *testing.T, dialect string) *fixture {
	t.Helper()
	f := &fixture{db: storagetest.Open(t, dialect), ctx: kopilka.NewContextWithPrincipal(context.Background(), kopilka.System("test")),
		now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	f.svc = app.New(f.db)
	f.svc.Env.Now = func() time.Time { return f.now }
	f.svc.SetTTL(0)
	p := kopilka.DefaultProgramme()
	p.PendingDays = 0
	if _, err := f.svc.Programme.SetProgramme(f.ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Coalition.PutPartner(f.ctx, kopilka.Partner{ID: "shop", Name: "Shop"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Coalition.PutStore(f.ctx, kopilka.Store{ID: "s1", PartnerID: "shop", Name: "S1"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func asMember(m kopilka.Member) context.Context {
	return kopilka.NewContextWithPrincipal(context.Background(), kopilka.Principal{Kind: "member", ID: m.ID, Name: "member", Role: kopilka.RoleMember, MemberID: m.ID})
}

func (f *fixture) count(t *testing.T, q string) int64 {
	t.Helper()
	var n int64
	if err := f.db.SQL.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSurveys_AskAnswerOnceEarnOnceAndCount runs an NPS survey after
// purchases and a CSI survey after service cases, on both databases.
func TestSurveys_AskAnswerOnceEarnOnceAndCount(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, d)
			anna, err := f.svc.Members.CreateMember(f.ctx, kopilka.Member{Phone: "+79161230001", Consents: kopilka.Consents{SMS: true}})
			if err != nil {
				t.Fatal(err)
			}
			boris, err := f.svc.Members.CreateMember(f.ctx, kopilka.Member{Phone: "+79161230002"})
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range []kopilka.Member{anna, boris} {
				if _, err := f.svc.Purchases.Confirm(f.ctx, kopilka.Receipt{ReceiptID: "r" + string(rune('1'+i)), StoreID: "s1", MemberID: m.ID,
					Lines: []kopilka.Line{{Line: 1, SKU: "x", Quantity: 1000, Price: 10000, Amount: 10000}}}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.svc.Surveys.PutSurvey(f.ctx, surveys.Survey{ID: "nps", Kind: "nps", After: "purchase", BonusPoints: 50, Enabled: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Surveys.PutSurvey(f.ctx, surveys.Survey{ID: "bad", Kind: "csi", After: "purchase"}); kopilka.ErrorCode(err) != kopilka.EINVALID {
				t.Fatalf("a CSI survey without attributes: %v", err)
			}
			f.now = f.now.Add(time.Hour)
			if n, err := f.svc.Surveys.Invite(f.ctx); err != nil || n != 2 {
				t.Fatalf("invite: %d %v", n, err)
			}
			if n, err := f.svc.Surveys.Invite(f.ctx); err != nil || n != 0 {
				t.Fatalf("invite again: %d %v", n, err)
			}
			// Anna consented to SMS: she gets a message; Boris did not.
			if n := f.count(t, `SELECT COUNT(*) FROM outbox WHERE kind = 'survey'`); n != 1 {
				t.Errorf("%d survey messages, want 1", n)
			}
			mine, err := f.svc.Surveys.Mine(asMember(anna))
			if err != nil || len(mine) != 1 || mine[0].Kind != "nps" || mine[0].SubjectID != "shop/r1" {
				t.Fatalf("anna's invitations %+v %v", mine, err)
			}
			id := mine[0].ID
			if _, err := f.svc.Surveys.Answer(asMember(anna), id, surveys.Answer{Scores: []int{11}}); kopilka.ErrorCode(err) != kopilka.EINVALID {
				t.Fatalf("a score of 11: %v", err)
			}
			_, errOther := f.svc.Surveys.Answer(asMember(boris), id, surveys.Answer{Scores: []int{0}})
			_, errNone := f.svc.Surveys.Answer(asMember(boris), "nonesuch", surveys.Answer{Scores: []int{0}})
			if kopilka.ErrorCode(errOther) != kopilka.ENOTFOUND || errOther.Error() != errNone.Error() {
				t.Fatalf("boris answers anna's: %v; a missing one: %v", errOther, errNone)
			}
			// Once it has asked, a survey keeps its kind.
			if _, err := f.svc.Surveys.PutSurvey(f.ctx, surveys.Survey{ID: "nps", Kind: "ces", After: "purchase", Enabled: true}); kopilka.ErrorCode(err) != kopilka.ECONFLICT {
				t.Fatalf("an NPS survey that asked turned CES: %v", err)
			}
			before, _ := f.svc.Ledger.Balance(f.ctx, anna.ID)
			// Eight answers at once: one is taken, one bonus given.
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok := 0
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := f.svc.Surveys.Answer(asMember(anna), id, surveys.Answer{Scores: []int{10}, Comment: "Fine"}); err == nil {
						mu.Lock()
						ok++
						mu.Unlock()
					} else if kopilka.ErrorCode(err) != kopilka.ECONFLICT {
						t.Errorf("answer: %v", err)
					}
				}()
			}
			wg.Wait()
			after, _ := f.svc.Ledger.Balance(f.ctx, anna.ID)
			if ok != 1 || after.Available-before.Available != 50 {
				t.Fatalf("%d answers taken, balance %d → %d", ok, before.Available, after.Available)
			}
			// Boris answers 6: a detractor.
			bm, _ := f.svc.Surveys.Mine(asMember(boris))
			if _, err := f.svc.Surveys.Answer(asMember(boris), bm[0].ID, surveys.Answer{Scores: []int{6}}); err != nil {
				t.Fatal(err)
			}
			r, err := f.svc.Surveys.Results(f.ctx, "nps", time.Time{}, time.Time{}, "store")
			if err != nil {
				t.Fatal(err)
			}
			if r.Total.Sent != 2 || r.Total.Answered != 2 || r.Total.ResponseRate != 100 || r.Total.NPS == nil || *r.Total.NPS != 0 ||
				r.Total.Promoters != 1 || r.Total.Detractors != 1 || len(r.Groups) != 1 || r.Groups[0].Group != "s1" {
				t.Fatalf("results %+v", r)
			}

			var csvOut strings.Builder
			if err := r.WriteCSV(&csvOut); err != nil || !strings.Contains(csvOut.String(), "total,2,2,100.00,1,0,1,0.00,") || !strings.Contains(csvOut.String(), "\ns1,2,2,") {
				t.Errorf("results CSV %v:\n%s", err, csvOut.String())
			}
			// CSI after a resolved case.
			if _, err := f.svc.Surveys.PutSurvey(f.ctx, surveys.Survey{ID: "csi", Kind: "csi", After: "case", Attributes: []string{"speed", "courtesy", "outcome"}, Enabled: true}); err != nil {
				t.Fatal(err)
			}
			c, err := f.svc.Cases.Open(f.ctx, cases.Opening{MemberID: boris.ID, Kind: "request", Subject: "card", Resolution: "done"})
			if err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(time.Hour)
			if n, err := f.svc.Surveys.Invite(f.ctx); err != nil || n != 1 {
				t.Fatalf("invite after the case: %d %v", n, err)
			}
			bm, _ = f.svc.Surveys.Mine(asMember(boris))
			if bm[0].SubjectID != c.ID || len(bm[0].Attributes) != 3 {
				t.Fatalf("boris's CSI invitation %+v", bm[0])
			}
			if _, err := f.svc.Surveys.Answer(asMember(boris), bm[0].ID, surveys.Answer{Scores: []int{5, 4}}); kopilka.ErrorCode(err) != kopilka.EINVALID {
				t.Fatalf("two scores for three attributes: %v", err)
			}
			if _, err := f.svc.Surveys.Answer(asMember(boris), bm[0].ID, surveys.Answer{Scores: []int{5, 4, 3}}); err != nil {
				t.Fatal(err)
			}
			cr, err := f.svc.Surveys.Results(f.ctx, "csi", time.Time{}, time.Time{}, "")
			if err != nil || cr.Total.Answered != 1 || cr.Total.Attributes["speed"] != 5 || cr.Total.Mean != 4 || cr.Total.Satisfied != 66.67 {
				t.Fatalf("CSI results %+v %v", cr, err)
			}
			// An invitation past its days can no longer be answered.
			f.now = f.now.AddDate(0, 0, 15)
			if _, err := f.svc.Surveys.Answer(asMember(boris), bm[0].ID, surveys.Answer{Scores: []int{1, 1, 1}}); kopilka.ErrorCode(err) != kopilka.ECONFLICT {
				t.Fatalf("answered twice or late: %v", err)
			}
		})
	}
}
