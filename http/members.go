package http

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/members"
	"github.com/kopilka/kopilka/privacy"
)

// Members, their cards and their accounts, for the back office and the till.

type memberJSON struct {
	Phone     string           `json:"phone"`
	Email     string           `json:"email"`
	Name      string           `json:"name"`
	BirthDate string           `json:"birth_date"`
	Consents  kopilka.Consents `json:"consents"`
	// ReferredBy is the id of the member who referred this one.
	ReferredBy    string   `json:"referred_by"`
	Tags          []string `json:"tags"`
	PhoneVerified bool     `json:"phone_verified"`
	EmailVerified bool     `json:"email_verified"`
}

func (s *Server) createMember(w http.ResponseWriter, r *http.Request) error {
	var in memberJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := s.App.Members.CreateMember(r.Context(), kopilka.Member{Phone: in.Phone, Email: in.Email, Name: in.Name,
		BirthDate: in.BirthDate, Consents: in.Consents, ReferredBy: in.ReferredBy, Tags: in.Tags,
		PhoneVerified: in.PhoneVerified, EmailVerified: in.EmailVerified})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/members/"+m.ID)
	writeJSON(w, http.StatusCreated, m)
	return nil
}

func (s *Server) findMember(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	keys := members.LookupKeys(r.Context())
	for _, key := range keys {
		if v := q.Get(key); v != "" {
			m, err := s.App.Members.FindMember(r.Context(), key, v)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, m)
			return nil
		}
	}
	return kopilka.Invalid(keys[0], "give one of: "+strings.Join(keys, ", "))
}

func (s *Server) getMember(w http.ResponseWriter, r *http.Request) error {
	m, err := s.App.Members.Member(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) patchMember(w http.ResponseWriter, r *http.Request) error {
	var p kopilka.MemberPatch
	if err := decode(r, &p); err != nil {
		return err
	}
	m, err := s.App.Members.UpdateMember(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) memberStatus(status string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		m, err := s.App.Members.SetMemberStatus(r.Context(), r.PathValue("id"), status)
		if err != nil {
			return err
		}
		s.forgetPrincipals() // a blocked member's sessions stop at once here
		writeJSON(w, http.StatusOK, m)
		return nil
	}
}

type cardJSON struct {
	Kind   string `json:"kind"`
	Number string `json:"number"`
}

func (s *Server) issueCard(w http.ResponseWriter, r *http.Request) error {
	var in cardJSON
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	c, err := s.App.Members.IssueCard(r.Context(), r.PathValue("id"), in.Kind, in.Number)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) getCard(w http.ResponseWriter, r *http.Request) error {
	c, err := s.App.Members.Card(r.Context(), r.PathValue("number"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) blockCard(w http.ResponseWriter, r *http.Request) error {
	c, err := s.App.Members.BlockCard(r.Context(), r.PathValue("number"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) replaceCard(w http.ResponseWriter, r *http.Request) error {
	var in cardReplacementJSON
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	c, err := s.App.Members.ReplaceCard(r.Context(), r.PathValue("number"), in.Number)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) balance(w http.ResponseWriter, r *http.Request) error {
	b, err := s.App.Ledger.Balance(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func encodeCursor(c *kopilka.Cursor) string {
	if c == nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + ":" + c.ID))
}

func decodeCursor(s string) (*kopilka.Cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	at, id, ok := strings.Cut(string(b), ":")
	n, err2 := strconv.ParseInt(at, 10, 64)
	if err != nil || !ok || err2 != nil || !kopilka.CleanText(id) {
		return nil, kopilka.Invalid("cursor", "is not a cursor this API gave")
	}
	return &kopilka.Cursor{CreatedAt: time.UnixMicro(n).UTC(), ID: id}, nil
}

func (s *Server) transactions(w http.ResponseWriter, r *http.Request) error {
	return s.history(w, r, func(cur *kopilka.Cursor, limit int) ([]kopilka.Transaction, *kopilka.Cursor, error) {
		return s.App.Ledger.History(r.Context(), r.PathValue("id"), cur, limit)
	})
}

// history answers a page of a member's transactions.
func (s *Server) history(w http.ResponseWriter, r *http.Request, page func(*kopilka.Cursor, int) ([]kopilka.Transaction, *kopilka.Cursor, error)) error {
	limit, err := queryInt(r, "limit", 50)
	if err != nil {
		return err
	}
	cur, err := decodeCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	items, next, err := page(cur, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, transactionPage{Items: items, NextCursor: encodeCursor(next)})
	return nil
}

func (s *Server) adjust(w http.ResponseWriter, r *http.Request) error {
	var in kopilka.Adjustment
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := s.App.Ledger.Adjust(r.Context(), r.PathValue("id"), in, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) exportMember(w http.ResponseWriter, r *http.Request) error {
	x, err := s.App.Privacy.Export(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="member-`+x.Member.ID+`.json"`)
	writeJSON(w, http.StatusOK, x)
	return nil
}

func (s *Server) eraseMember(w http.ResponseWriter, r *http.Request) error {
	var in privacy.Erasure
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := s.App.Privacy.Erase(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	s.forgetPrincipals() // the erased member's sessions stop at once here
	writeJSON(w, http.StatusOK, m)
	return nil
}

// searchMembers answers a page of members matching the query's filters.
func (s *Server) searchMembers(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	q := kopilka.MemberQuery{Q: v.Get("q"), Name: v.Get("name"), Phone: v.Get("phone"), Email: v.Get("email"), Card: v.Get("card"),
		Tier: v.Get("tier"), Status: v.Get("status"), Tag: v.Get("tag"), Sort: v.Get("sort")}
	var err error
	if q.Limit, err = queryInt(r, "limit", 0); err != nil {
		return err
	}
	if c := v.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		var sc kopilka.SortCursor
		if err != nil || json.Unmarshal(b, &sc) != nil || sc.ID == "" || !kopilka.CleanText(sc.ID+sc.Key) {
			return kopilka.Invalid("cursor", "is not a cursor this API gave")
		}
		q.After = &sc
	}
	eng, err := s.App.Programme.Engine(r.Context())
	if err != nil {
		return err
	}
	for _, d := range []struct {
		name string
		dst  *time.Time
	}{{"registered_from", &q.RegisteredFrom}, {"registered_to", &q.RegisteredTo}, {"last_purchase_from", &q.LastPurchaseFrom}, {"last_purchase_to", &q.LastPurchaseTo}} {
		if x := v.Get(d.name); x != "" {
			t, ok := dayParam(x, eng.Loc, strings.HasSuffix(d.name, "_to"))
			if !ok {
				return kopilka.Invalid(d.name, "must be a date, YYYY-MM-DD (in the programme's time zone)")
			}
			*d.dst = t
		}
	}
	items, next, err := s.App.Members.SearchMembers(r.Context(), q)
	if err != nil {
		return err
	}
	page := memberPage{Items: items}
	if next != nil {
		b, _ := json.Marshal(next)
		page.NextCursor = base64.RawURLEncoding.EncodeToString(b)
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}
