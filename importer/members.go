package importer

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/ledger"
)

// MemberRow is a member moving from another platform: their id there,
// contacts, name, birth date, consents, a card number, and an opening
// balance in points with the date it expires (empty: the programme's
// rule of points without an expiry, never).
type MemberRow struct {
	ExternalID string `json:"external_id"`
	Phone      string `json:"phone,omitempty"`
	Email      string `json:"email,omitempty"`
	Name       string `json:"name,omitempty"`
	BirthDate  string `json:"birth_date,omitempty"`
	SMS        bool   `json:"sms,omitempty"`
	EmailOK    bool   `json:"email_consent,omitempty"`
	Card       string `json:"card,omitempty"`
	Balance    int64  `json:"balance,omitempty"`
	ExpiresAt  string `json:"expires_at,omitempty"` // YYYY-MM-DD, in the programme's zone
	// MemberSince is when they joined the old programme (YYYY-MM-DD; empty: now).
	MemberSince string `json:"member_since,omitempty"`
}

// MembersTx is what the member import writes, one member a transaction.
type MembersTx interface {
	ledger.SettleTx
	access.Auditor
	// EnsureMembers is the purchase import's: members by reference.
	EnsureMembers(ctx context.Context, source string, refs []MemberRef) (int, error)
	// Member returns a member with its cards, or ENOTFOUND.
	Member(ctx context.Context, id string) (kopilka.Member, error)
	UpdateMember(ctx context.Context, m kopilka.Member) error
	// InsertCard adds a card; a number in use is ECONFLICT.
	InsertCard(ctx context.Context, c kopilka.Card) error
	// LockBalance reads and locks the member's balance.
	LockBalance(ctx context.Context, memberID string) (kopilka.Balance, error)
}

// MemberSummary is what a member import did: rows read, members made,
// rows already imported (their member exists), rows refused with why
// (the first MaxErrors), cards issued and points opened.
type MemberSummary struct {
	Source   string     `json:"source"`
	Rows     int64      `json:"rows"`
	Created  int64      `json:"created"`
	Already  int64      `json:"already"`
	Refused  int64      `json:"refused"`
	Cards    int64      `json:"cards"`
	Points   int64      `json:"points"`
	Errors   []RowError `json:"errors"`
	Done     bool       `json:"done"`
	Elapsed  float64    `json:"elapsed_seconds"`
	Progress float64    `json:"-"`
}

// MaxMemberLine bounds a row of the member import (JSON lines or CSV).
const MaxMemberLine = 64 << 10

// ImportMembers reads members from r, CSV with a header naming MemberRow's
// JSON fields (format "csv") or one JSON object a line ("jsonl"), and makes
// each in its own transaction with its audit entry: the member (their id
// derived from source and external id, as the purchase import's), their
// contacts, card and opening balance as one lot. A row whose member exists
// already is skipped whole, so that a second run changes nothing; a row
// that cannot be imported (a phone or card in use, a bad date) is refused
// with its line and the rest goes on. Role admin. progress, when set, is
// called every 100 rows.
func (s *Service) ImportMembers(ctx context.Context, r io.Reader, format, source string, progress func(MemberSummary)) (sum MemberSummary, err error) {
	members := s.Members
	start := time.Now()
	if err := access.Allow(ctx, access.ImportRun); err != nil {
		return sum, err
	}
	if source == "" {
		return sum, kopilka.FieldErr(kopilka.EINVALID, "source", "name the platform the members come from")
	}
	sum.Source = source
	eng, err := s.Live.Engine(ctx)
	if err != nil {
		return sum, err
	}
	next, err := memberRows(r, format)
	if err != nil {
		return sum, err
	}
	defer func() { sum.Elapsed = time.Since(start).Seconds() }()
	refuse := func(line int64, field, reason string) {
		sum.Refused++
		if len(sum.Errors) < 1000 {
			sum.Errors = append(sum.Errors, RowError{Line: line, Field: field, Reason: reason})
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		line, row, rerr := next()
		if rerr == io.EOF {
			break
		}
		sum.Rows++
		var re RowError
		var ferr error
		var created bool
		var cards, points int64
		switch {
		case errors.As(rerr, &re):
			ferr = re
		case rerr != nil:
			return sum, rerr
		default:
			created, cards, points, ferr = s.importMember(ctx, members, eng.Loc, source, row)
		}
		var ke *kopilka.Error
		switch {
		case errors.As(ferr, &re):
			refuse(re.Line, re.Field, re.Reason)
		case ferr == nil && !created:
			sum.Already++
		case ferr == nil:
			sum.Created++
			sum.Cards += cards
			sum.Points += points
		case errors.As(ferr, &ke) && ke.Code != kopilka.EINTERNAL:
			field, reason := "(row)", ke.Message
			if len(ke.Fields) > 0 {
				field, reason = ke.Fields[0].Field, ke.Fields[0].Detail
			}
			refuse(line, field, reason)
		default:
			return sum, ferr
		}
		if progress != nil && sum.Rows%100 == 0 {
			progress(sum)
		}
	}
	sum.Done = true
	if progress != nil {
		progress(sum)
	}
	return sum, nil
}

// importMember makes one member in one transaction.
func (s *Service) importMember(ctx context.Context, members kopilka.Transactor[MembersTx], loc *time.Location, source string, row MemberRow) (created bool, cards, points int64, err error) {
	row.ExternalID = strings.TrimSpace(row.ExternalID)
	var pr kopilka.Problems
	if row.ExternalID == "" || len(row.ExternalID) > maxField || !kopilka.CleanText(row.ExternalID) {
		pr.Add("external_id", "is required: at most 256 bytes of text")
	}
	now := s.Env.Time()
	since := now
	if row.MemberSince != "" {
		d, perr := time.ParseInLocation(time.DateOnly, row.MemberSince, loc)
		if perr != nil || d.After(now) || d.Year() < 1900 {
			pr.Add("member_since", "must be a past date from 1900, YYYY-MM-DD")
		}
		since = d
	}
	var expires time.Time
	if row.ExpiresAt != "" {
		d, perr := time.ParseInLocation(time.DateOnly, row.ExpiresAt, loc)
		if perr != nil || d.Year() < 1900 || d.Year() >= 9000 {
			pr.Add("expires_at", "must be a date from 1900 to 8999, YYYY-MM-DD")
		}
		expires = d.AddDate(0, 0, 1) // the whole of that day
	}
	if row.Balance < 0 || row.Balance > kopilka.PointsCeiling {
		pr.Add("balance", "must be 0 or more points, within the ceiling")
	}
	if row.Balance > 0 && !expires.IsZero() && !expires.After(now) {
		pr.Add("expires_at", "the opening balance would have expired already")
	}
	m := kopilka.Member{ID: MemberID(source, row.ExternalID), Phone: row.Phone, Email: row.Email, Name: row.Name, BirthDate: row.BirthDate,
		Consents: kopilka.Consents{SMS: row.SMS, Email: row.EmailOK}, Status: kopilka.StatusActive, CreatedAt: since}
	if err := m.Normalize(s.Region, false); err != nil {
		var ke *kopilka.Error
		if errors.As(err, &ke) {
			for _, f := range ke.Fields {
				pr.Add(f.Field, f.Detail)
			}
		}
	}
	if row.Card = strings.TrimSpace(row.Card); row.Card != "" {
		// The number a till will read: the rule every card follows.
		n, err := kopilka.NormalizeCardNumber("card", row.Card)
		var ke *kopilka.Error
		if errors.As(err, &ke) && len(ke.Fields) > 0 {
			pr.Add("card", ke.Fields[0].Detail)
		} else if err != nil {
			pr.Add("card", "is not a card number")
		}
		row.Card = n
	}
	if err := pr.Err(); err != nil {
		return false, 0, 0, err
	}
	a := access.Begin(ctx, s.Env, access.ImportRun, m.ID)
	err = kopilka.RetryRace(func() error {
		created, cards, points = false, 0, 0
		return members.Update(ctx, func(tx MembersTx) error {
			n, err := tx.EnsureMembers(ctx, source, []MemberRef{{ExternalID: row.ExternalID, MemberID: m.ID, FirstAt: since}})
			if err != nil {
				return err
			}
			if n == 0 {
				return nil // imported already: nothing changes
			}
			created = true
			stored, err := tx.Member(ctx, m.ID)
			if err != nil {
				return err
			}
			m.Tags, m.Categories = stored.Tags, stored.Categories
			if err := tx.UpdateMember(ctx, m); err != nil {
				return err // a phone or e-mail in use: ECONFLICT naming it
			}
			if row.Card != "" {
				if err := tx.InsertCard(ctx, kopilka.Card{Number: row.Card, MemberID: m.ID, Kind: kopilka.CardPhysical, Status: kopilka.StatusActive, CreatedAt: now}); err != nil {
					if kopilka.ErrorCode(err) == kopilka.ECONFLICT {
						return kopilka.FieldErr(kopilka.ECONFLICT, "card", "another member has this card number")
					}
					return err
				}
				cards = 1
			}
			if row.Balance > 0 {
				if _, err := tx.LockBalance(ctx, m.ID); err != nil {
					return err
				}
				e := ledger.NewEntry(kopilka.Transaction{ID: s.Env.NewID(), MemberID: m.ID, Kind: kopilka.KindAdjustment,
					Reason: "opening balance from " + source, CreatedAt: now})
				e.AddLot(s.Env.NewID(), row.Balance, kopilka.AccountAdjustment, now, expires, now)
				if err := tx.Post(ctx, e); err != nil {
					return err
				}
				points = row.Balance
			}
			return a.Record(ctx, tx, nil, map[string]any{"source": source, "external_id": row.ExternalID, "member_id": m.ID,
				"card": row.Card != "", "balance": row.Balance})
		})
	})
	return created, cards, points, access.Finish(ctx, members, a, err)
}

// memberRows returns a reader of rows: the line number, the row, or a
// RowError for a row that does not read, io.EOF at the end.
func memberRows(r io.Reader, format string) (func() (int64, MemberRow, error), error) {
	switch format {
	case "jsonl", "ndjson":
		br := bufio.NewReaderSize(r, 64<<10)
		var line int64
		return func() (int64, MemberRow, error) {
			for {
				text, long, err := readLine(br, MaxMemberLine)
				if err == io.EOF && text == "" && !long {
					return line, MemberRow{}, io.EOF
				}
				if err != nil && err != io.EOF {
					return line + 1, MemberRow{}, err
				}
				line++
				if long {
					return line, MemberRow{}, RowError{Line: line, Field: "(row)", Reason: fmt.Sprintf("longer than %d bytes", MaxMemberLine)}
				}
				text = strings.TrimSpace(text)
				if text == "" {
					if err == io.EOF {
						return line, MemberRow{}, io.EOF
					}
					continue
				}
				dec := json.NewDecoder(strings.NewReader(text))
				dec.DisallowUnknownFields()
				var row MemberRow
				if err := dec.Decode(&row); err != nil {
					return line, row, RowError{Line: line, Field: "(row)", Reason: "not a member object: " + err.Error()}
				}
				return line, row, nil
			}
		}, nil
	case "csv":
		cr := csv.NewReader(r)
		cr.FieldsPerRecord = -1
		head, err := cr.Read()
		if err != nil {
			return nil, kopilka.FieldErr(kopilka.EINVALID, "file", "the CSV has no header")
		}
		cols := map[string]int{}
		for i, h := range head {
			cols[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
		}
		if _, ok := cols["external_id"]; !ok {
			return nil, kopilka.FieldErr(kopilka.EINVALID, "file", "the header needs external_id")
		}
		known := map[string]bool{"external_id": true, "phone": true, "email": true, "name": true, "birth_date": true, "sms": true,
			"email_consent": true, "card": true, "balance": true, "expires_at": true, "member_since": true}
		for c := range cols {
			if !known[c] {
				return nil, kopilka.FieldErr(kopilka.EINVALID, "file", fmt.Sprintf("unknown column %q", c))
			}
		}
		return func() (int64, MemberRow, error) {
			rec, err := cr.Read()
			line, _ := cr.FieldPos(0)
			if err == io.EOF {
				return int64(line), MemberRow{}, io.EOF
			}
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				return int64(perr.StartLine), MemberRow{}, RowError{Line: int64(perr.StartLine), Field: "(row)", Reason: perr.Err.Error()}
			}
			if err != nil {
				return 0, MemberRow{}, err
			}
			get := func(c string) string {
				if i, ok := cols[c]; ok && i < len(rec) {
					return strings.TrimSpace(rec[i])
				}
				return ""
			}
			row := MemberRow{ExternalID: get("external_id"), Phone: get("phone"), Email: get("email"), Name: get("name"),
				BirthDate: get("birth_date"), Card: get("card"), ExpiresAt: get("expires_at"), MemberSince: get("member_since"),
				SMS: truthy(get("sms")), EmailOK: truthy(get("email_consent"))}
			if b := get("balance"); b != "" {
				n, err := strconv.ParseInt(b, 10, 64)
				if err != nil {
					return int64(line), row, RowError{Line: int64(line), Field: "balance", Reason: "must be a whole number of points"}
				}
				row.Balance = n
			}
			return int64(line), row, nil
		}, nil
	}
	return nil, kopilka.FieldErr(kopilka.EINVALID, "format", `format is "csv" or "jsonl"`)
}

// readLine reads a line (without its end) of at most max bytes; a longer
// one is read to its end and dropped, long set. io.EOF comes with the last
// line when the file does not end with a newline.
func readLine(br *bufio.Reader, max int) (string, bool, error) {
	var b []byte
	long := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !long {
			if len(b)+len(chunk) > max+1 {
				long, b = true, nil
			} else {
				b = append(b, chunk...)
			}
		}
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil:
			return strings.TrimRight(string(b), "\r\n"), long, nil
		default:
			return strings.TrimRight(string(b), "\r\n"), long, err
		}
	}
}

func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "y", "да":
		return true
	}
	return false
}
