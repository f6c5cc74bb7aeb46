package importer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/importer"
)

const oldMembers = `external_id,phone,email,name,card,balance,expires_at,sms,member_since
A-1,+7 916 555-00-01,,Анна,7000000001,500,2026-12-31,yes,2019-05-01
A-2,,boris@example.com,Борис,,0,,,
A-3,+7 916 555-00-01,,Dup phone,,,,,
A-4,+7 916 555-00-04,,Bad date,,10,31.12.2026,,
A-5,+7 916 555-00-05,,Card in use,7000000001,,,,
A-6,+7 916 555-00-06,,,,-5,,,
`

// TestImportMembers_FromAnotherPlatformOnceWithTheirBalances imports six
// members: two are made (a card and an opening balance of 500 points
// expiring at the end of 2026 for one), four refused with their lines and
// fields, and a second run makes nothing.
func TestImportMembers_FromAnotherPlatformOnceWithTheirBalances(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		s, err := f.svc.Import.ImportMembers(f.ctx, strings.NewReader(oldMembers), "csv", "oldclub", nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.Rows != 6 || s.Created != 2 || s.Refused != 4 || s.Cards != 1 || s.Points != 500 {
			t.Fatalf("summary %+v", s)
		}
		want := map[int64]string{4: "phone", 5: "expires_at", 6: "card", 7: "balance"}
		for _, e := range s.Errors {
			if want[e.Line] == "" || !strings.Contains(e.Field, want[e.Line]) {
				t.Errorf("refused %+v, want line → field %v", e, want)
			}
		}
		anna, err := f.svc.Members.FindMember(f.ctx, "card", "7000000001")
		if err != nil || anna.ID != importer.MemberID("oldclub", "A-1") || anna.Name != "Анна" || anna.Phone != "+79165550001" || !anna.Consents.SMS ||
			!anna.CreatedAt.Equal(time.Date(2019, 5, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("anna %+v %v", anna, err)
		}
		b, err := f.svc.Ledger.Balance(f.ctx, anna.ID)
		if err != nil || b.Available != 500 {
			t.Fatalf("anna's balance %+v %v", b, err)
		}
		eng, _ := f.svc.Programme.Engine(f.ctx)
		end := time.Date(2027, 1, 1, 0, 0, 0, 0, eng.Loc) // the whole of 31 December
		if n := f.count(t, `SELECT COUNT(*) FROM lots WHERE member_id = $1 AND remaining = 500 AND expires_at = $2`, anna.ID, end.UnixMicro()); n != 1 {
			t.Fatalf("anna's lot does not expire at %v", end)
		}
		if breaches, err := f.db.Verify(f.ctx); err != nil || len(breaches) > 0 {
			t.Fatalf("verify %v %v", breaches, err)
		}
		again, err := f.svc.Import.ImportMembers(f.ctx, strings.NewReader(oldMembers), "csv", "oldclub", nil)
		if err != nil || again.Created != 0 || again.Already != 2 || again.Points != 0 {
			t.Fatalf("second run %+v %v", again, err)
		}
		if b2, _ := f.svc.Ledger.Balance(f.ctx, anna.ID); b2.Available != 500 {
			t.Fatalf("a second run changed anna's balance: %d", b2.Available)
		}
		// JSON lines, as a job of the server.
		j, err := f.svc.Import.StartMemberImport(f.ctx, []byte(`{"external_id":"J-1","email":"j1@example.com","balance":70}
{"external_id":"J-2","email":"j2@example.com","bogus":1}
`), "jsonl", "oldclub")
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for j.Status == "running" && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			if j, err = f.svc.Import.GetJob(f.ctx, j.ID); err != nil {
				t.Fatal(err)
			}
		}
		if j.Status != "done" || !strings.Contains(string(j.Summary), `"created":1`) || !strings.Contains(string(j.Summary), `"refused":1`) {
			t.Fatalf("job %+v: %s", j, j.Summary)
		}
		if _, err := f.svc.Import.StartMemberImport(f.ctx, []byte("x"), "xml", "oldclub"); kopilka.ErrorCode(err) != kopilka.EINVALID {
			t.Errorf("format xml: %v", err)
		}
	})
}

// TestImportMembers_ALongLineBadCardsAndDatesAreRowsRefused: a JSON line
// over 64 KiB is refused and the import goes on to the end; a card number
// no till would take, and dates outside 1900-8999, are refused by field.
func TestImportMembers_ALongLineBadCardsAndDatesAreRowsRefused(t *testing.T) {
	f := newFixture(t, "sqlite")
	file := `{"external_id":"L1","email":"l1@example.com"}` + "\n" +
		`{"external_id":"L2","name":"` + strings.Repeat("x", 70_000) + `"}` + "\n" +
		`{"external_id":"L3","email":"l3@example.com","card":"HCARD000"}` + "\n" +
		`{"external_id":"L4","email":"l4@example.com","balance":10,"expires_at":"9999-12-31"}` + "\n" +
		`{"external_id":"L5","email":"l5@example.com","member_since":"0001-01-01"}` + "\n" +
		`{"external_id":"L6","email":"l6@example.com"}`
	done := make(chan struct{})
	var s importer.MemberSummary
	var err error
	go func() {
		defer close(done)
		s, err = f.svc.Import.ImportMembers(f.ctx, strings.NewReader(file), "jsonl", "old", nil)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the import does not end")
	}
	if err != nil || s.Rows != 6 || s.Created != 2 || s.Refused != 4 {
		t.Fatalf("summary %+v %v", s, err)
	}
	want := map[int64]string{2: "(row)", 3: "card", 4: "expires_at", 5: "member_since"}
	for _, e := range s.Errors {
		if want[e.Line] != e.Field {
			t.Errorf("refused %+v, want %v", e, want)
		}
	}
}
