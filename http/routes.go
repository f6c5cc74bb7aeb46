package http

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
)

var (
	admin    = []string{kopilka.RoleAdmin}
	adminPOS = []string{kopilka.RoleAdmin, kopilka.RolePOS}
)

// Routes lists every route of the API with the roles that may call it.
// The OpenAPI document and the authorisation tests are checked against it.
func (s *Server) Routes() []Route {
	return []Route{
		{"GET", "/healthz", nil, s.healthz},
		{"GET", "/readyz", nil, s.readyz},
		{"GET", "/openapi.yaml", nil, s.openapi},

		{"GET", "/v1/programme", admin, s.getProgramme},
		{"PUT", "/v1/programme", admin, s.putProgramme},
		{"GET", "/v1/programme/export", admin, s.exportProgramme},
		{"PUT", "/v1/programme/import", admin, s.importProgramme},
		{"GET", "/v1/programme/rules", admin, s.listRules},
		{"PUT", "/v1/programme/rules/{id}", admin, s.putRule},
		{"DELETE", "/v1/programme/rules/{id}", admin, s.deleteRule},
		{"GET", "/v1/programme/campaigns", admin, s.listCampaigns},
		{"PUT", "/v1/programme/campaigns/{id}", admin, s.putCampaign},
		{"DELETE", "/v1/programme/campaigns/{id}", admin, s.deleteCampaign},
		{"POST", "/v1/programme/campaigns/{id}/simulate", admin, s.simulateCampaign},
		{"POST", "/v1/programme/simulate", admin, s.simulate},

		{"POST", "/v1/members", admin, s.createMember},
		{"GET", "/v1/members", adminPOS, s.findMember},
		{"GET", "/v1/members/{id}", admin, s.getMember},
		{"PATCH", "/v1/members/{id}", admin, s.patchMember},
		{"POST", "/v1/members/{id}/block", admin, s.memberStatus(kopilka.StatusBlocked)},
		{"POST", "/v1/members/{id}/unblock", admin, s.memberStatus(kopilka.StatusActive)},
		{"POST", "/v1/members/{id}/cards", admin, s.issueCard},
		{"GET", "/v1/members/{id}/balance", adminPOS, s.balance},
		{"GET", "/v1/members/{id}/tier", admin, s.tier},
		{"PUT", "/v1/members/{id}/categories", admin, s.putCategories},
		{"GET", "/v1/members/{id}/transactions", admin, s.transactions},
		{"POST", "/v1/members/{id}/adjustments", admin, s.adjust},

		{"GET", "/v1/cards/{number}", adminPOS, s.getCard},
		{"POST", "/v1/cards/{number}/block", admin, s.blockCard},
		{"POST", "/v1/cards/{number}/replace", admin, s.replaceCard},

		{"POST", "/v1/purchases/calculate", adminPOS, s.calculate},
		{"POST", "/v1/purchases", adminPOS, s.confirm},
		{"GET", "/v1/purchases/{id}", adminPOS, s.getPurchase},
		{"POST", "/v1/purchases/{id}/refunds", adminPOS, s.refund},
		{"POST", "/v1/purchases/{id}/cancel", adminPOS, s.cancel},

		{"GET", "/v1/keys", admin, s.listKeys},
		{"POST", "/v1/keys", admin, s.createKey},
		{"DELETE", "/v1/keys/{id}", admin, s.revokeKey},
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.Version})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if err := s.Service.Store.Ping(r.Context()); err != nil {
		s.Logger.Warn("not ready", "err", err)
		return kopilka.Errorf(kopilka.EUNAVAILABLE, "the database does not answer")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml")
	_, err := w.Write(openAPI)
	return err
}

func (s *Server) getProgramme(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Service.Programme(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) putProgramme(w http.ResponseWriter, r *http.Request) error {
	var in programmeJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := s.Service.UpdateProgramme(r.Context(), in.apply)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

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
	m, err := s.Service.CreateMember(r.Context(), kopilka.Member{Phone: in.Phone, Email: in.Email, Name: in.Name,
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
	keys := []string{"phone", "email", "card"}
	if k, _ := keyOf(r.Context()); k.Role == kopilka.RolePOS {
		keys = []string{"card"} // a till looks members up by the card it is shown
	}
	for _, key := range keys {
		if v := q.Get(key); v != "" {
			m, err := s.Service.FindMember(r.Context(), key, v)
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
	m, err := s.Service.Member(r.Context(), r.PathValue("id"))
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
	m, err := s.Service.UpdateMember(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) memberStatus(status string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		m, err := s.Service.SetMemberStatus(r.Context(), r.PathValue("id"), status)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, m)
		return nil
	}
}

// decodeOptional decodes a body that may be empty.
func decodeOptional(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(body)) == "" {
		return nil
	}
	return decodeBytes(body, v)
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
	c, err := s.Service.IssueCard(r.Context(), r.PathValue("id"), in.Kind, in.Number)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) getCard(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Service.Card(r.Context(), r.PathValue("number"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) blockCard(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Service.BlockCard(r.Context(), r.PathValue("number"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) replaceCard(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Number string `json:"number"`
	}
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	c, err := s.Service.ReplaceCard(r.Context(), r.PathValue("number"), in.Number)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) balance(w http.ResponseWriter, r *http.Request) error {
	b, err := s.Service.Balance(r.Context(), r.PathValue("id"))
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
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return kopilka.Invalid("limit", "must be an integer")
		}
		limit = n
	}
	cur, err := decodeCursor(q.Get("cursor"))
	if err != nil {
		return err
	}
	items, next, err := s.Service.History(r.Context(), r.PathValue("id"), cur, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": encodeCursor(next)})
	return nil
}

func (s *Server) adjust(w http.ResponseWriter, r *http.Request) error {
	var in kopilka.Adjustment
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := s.Service.Adjust(r.Context(), r.PathValue("id"), in, actor(r.Context()), r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) readReceipt(r *http.Request) (kopilka.Receipt, error) {
	body, err := readBody(r)
	if err != nil {
		return kopilka.Receipt{}, err
	}
	return DecodeReceipt(body)
}

func (s *Server) calculate(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.readReceipt(r)
	if err != nil {
		return err
	}
	q, err := s.Service.Calculate(r.Context(), rc)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, q)
	return nil
}

func (s *Server) confirm(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.readReceipt(r)
	if err != nil {
		return err
	}
	q, err := s.Service.Confirm(r.Context(), rc)
	if err != nil {
		return err
	}
	s.points.WithLabelValues("earned").Add(float64(q.Earned))
	s.points.WithLabelValues("spent").Add(float64(q.Spent))
	writeJSON(w, http.StatusOK, q)
	return nil
}

func (s *Server) getPurchase(w http.ResponseWriter, r *http.Request) error {
	q, err := s.Service.Purchase(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, q)
	return nil
}

func (s *Server) refund(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	req, err := decodeRefund(body)
	if err != nil {
		return err
	}
	res, err := s.Service.Refund(r.Context(), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) error {
	res, err := s.Service.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	ks, err := s.Service.Keys(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ks})
	return nil
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name      string     `json:"name"`
		Role      string     `json:"role"`
		ExpiresAt *time.Time `json:"expires_at"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	k, err := s.Service.CreateKey(r.Context(), in.Name, in.Role, "", in.ExpiresAt)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.Service.RevokeKey(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	s.keyMu.Lock()
	clear(s.keys) // this instance stops honouring it at once
	s.keyMu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
