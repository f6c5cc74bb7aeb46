package http

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// Scopes: what a route's path or body names that belongs to one partner.
// A principal of another partner gets 404 for it, in the same words as for
// something that does not exist: the use case reads the principal and
// refuses it (access.Reaches), so no handler checks it by hand.
const (
	ScopeNone     = ""         // nothing of a partner's, or filtered to the principal's own
	ScopePartner  = "partner"  // {id} is a partner
	ScopeStore    = "store"    // {id} is a store
	ScopeReceipt  = "receipt"  // {id} is a purchase's receipt id
	ScopeReceipts = "receipts" // the body is a receipt naming its store
)

// Routes lists every route of the API once: its method and pattern, the
// use case's action (whose roles access.Policy gives), what of one
// partner's it names, and the status it answers with on success. The
// OpenAPI document and the authorisation tests are checked against it.
func (s *Server) Routes() []Route {
	return []Route{
		{"GET", "/healthz", "", "", http.StatusOK, s.healthz},
		{"GET", "/readyz", "", "", http.StatusOK, s.readyz},
		{"GET", "/openapi.yaml", "", "", http.StatusOK, s.openapi},

		{"GET", "/v1/programme", access.ProgrammeRead, "", http.StatusOK, s.getProgramme},
		{"PUT", "/v1/programme", access.ProgrammeWrite, "", http.StatusOK, s.putProgramme},
		{"GET", "/v1/programme/export", access.ProgrammeRead, "", http.StatusOK, s.exportProgramme},
		{"PUT", "/v1/programme/import", access.ProgrammeWrite, "", http.StatusOK, s.importProgramme},
		{"GET", "/v1/programme/rules", access.ProgrammeRead, "", http.StatusOK, s.listRules},
		{"PUT", "/v1/programme/rules/{id}", access.ProgrammeWrite, "", http.StatusOK, s.putRule},
		{"DELETE", "/v1/programme/rules/{id}", access.ProgrammeWrite, "", http.StatusNoContent, s.deleteRule},
		{"GET", "/v1/programme/campaigns", access.ProgrammeRead, "", http.StatusOK, s.listCampaigns},
		{"PUT", "/v1/programme/campaigns/{id}", access.ProgrammeWrite, "", http.StatusOK, s.putCampaign},
		{"DELETE", "/v1/programme/campaigns/{id}", access.ProgrammeWrite, "", http.StatusNoContent, s.deleteCampaign},
		{"POST", "/v1/programme/campaigns/{id}/simulate", access.ProgrammeSimulate, "", http.StatusOK, s.simulateCampaign},
		{"POST", "/v1/programme/simulate", access.ProgrammeSimulate, "", http.StatusOK, s.simulate},

		{"POST", "/v1/members", access.MembersCreate, "", http.StatusCreated, s.createMember},
		{"GET", "/v1/members", access.MembersFind, "", http.StatusOK, s.findMember},
		{"GET", "/v1/members/{id}", access.MembersRead, "", http.StatusOK, s.getMember},
		{"PATCH", "/v1/members/{id}", access.MembersUpdate, "", http.StatusOK, s.patchMember},
		{"POST", "/v1/members/{id}/block", access.MembersBlock, "", http.StatusOK, s.memberStatus(kopilka.StatusBlocked)},
		{"POST", "/v1/members/{id}/unblock", access.MembersUnblock, "", http.StatusOK, s.memberStatus(kopilka.StatusActive)},
		{"POST", "/v1/members/{id}/cards", access.MembersIssueCard, "", http.StatusCreated, s.issueCard},
		{"GET", "/v1/members/{id}/balance", access.LedgerBalance, "", http.StatusOK, s.balance},
		{"GET", "/v1/members/{id}/tier", access.MembersTier, "", http.StatusOK, s.tier},
		{"PUT", "/v1/members/{id}/categories", access.MembersCategories, "", http.StatusOK, s.putCategories},
		{"GET", "/v1/members/{id}/transactions", access.LedgerHistory, "", http.StatusOK, s.transactions},
		{"POST", "/v1/members/{id}/adjustments", access.LedgerAdjust, "", http.StatusCreated, s.adjust},

		{"GET", "/v1/cards/{number}", access.CardsRead, "", http.StatusOK, s.getCard},
		{"POST", "/v1/cards/{number}/block", access.CardsBlock, "", http.StatusOK, s.blockCard},
		{"POST", "/v1/cards/{number}/replace", access.CardsReplace, "", http.StatusCreated, s.replaceCard},

		{"POST", "/v1/purchases/calculate", access.PurchasesQuote, ScopeReceipts, http.StatusOK, s.calculate},
		{"POST", "/v1/purchases", access.PurchasesConfirm, ScopeReceipts, http.StatusOK, s.confirm},
		{"GET", "/v1/purchases/{id}", access.PurchasesRead, ScopeReceipt, http.StatusOK, s.getPurchase},
		{"POST", "/v1/purchases/{id}/refunds", access.PurchasesRefund, ScopeReceipt, http.StatusOK, s.refund},
		{"POST", "/v1/purchases/{id}/cancel", access.PurchasesCancel, ScopeReceipt, http.StatusOK, s.cancel},

		{"GET", "/v1/partners", access.PartnersList, "", http.StatusOK, s.listPartners},
		{"GET", "/v1/partners/{id}", access.PartnersRead, ScopePartner, http.StatusOK, s.getPartner},
		{"PUT", "/v1/partners/{id}", access.PartnersWrite, "", http.StatusOK, s.putPartner},
		{"PUT", "/v1/partners/{id}/rates", access.PartnersRates, ScopePartner, http.StatusOK, s.putPartnerRates},
		{"GET", "/v1/partners/{id}/stores", access.PartnersStores, ScopePartner, http.StatusOK, s.listStores},
		{"GET", "/v1/partners/{id}/statement", access.PartnersReports, ScopePartner, http.StatusOK, s.statement},
		{"POST", "/v1/partners/{id}/settlements", access.SettlementsClose, "", http.StatusOK, s.closeSettlement},
		{"GET", "/v1/partners/{id}/settlements/{period}", access.PartnersReports, ScopePartner, http.StatusOK, s.getSettlement},
		{"GET", "/v1/stores/nearby", access.StoresNearby, "", http.StatusOK, s.nearby},
		{"GET", "/v1/stores/{id}", access.StoresRead, ScopeStore, http.StatusOK, s.getStore},
		{"PUT", "/v1/stores/{id}", access.StoresWrite, ScopeStore, http.StatusOK, s.putStore},

		{"POST", "/v1/auth/login", access.AuthLogin, "", http.StatusOK, s.login},
		{"POST", "/v1/auth/logout", access.AuthLogout, "", http.StatusNoContent, s.logout},
		{"GET", "/v1/auth/whoami", access.AuthWhoami, "", http.StatusOK, s.whoami},
		{"POST", "/v1/auth/otp", access.AuthCode, "", http.StatusAccepted, s.sendCode},
		{"POST", "/v1/auth/otp/verify", access.AuthVerify, "", http.StatusOK, s.verifyCode},
		{"GET", "/v1/me", access.MeRead, "", http.StatusOK, s.me},
		{"GET", "/v1/me/balance", access.MeBalance, "", http.StatusOK, s.myBalance},
		{"GET", "/v1/me/transactions", access.MeHistory, "", http.StatusOK, s.myTransactions},

		{"GET", "/v1/operators", access.OperatorsList, "", http.StatusOK, s.listOperators},
		{"POST", "/v1/operators", access.OperatorsCreate, "", http.StatusCreated, s.createOperator},
		{"GET", "/v1/operators/{id}", access.OperatorsRead, "", http.StatusOK, s.getOperator},
		{"PATCH", "/v1/operators/{id}", access.OperatorsUpdate, "", http.StatusOK, s.patchOperator},
		{"POST", "/v1/operators/{id}/unlock", access.OperatorsUnlock, "", http.StatusOK, s.unlockOperator},
		{"GET", "/v1/audit", access.AuditRead, "", http.StatusOK, s.auditLog},

		{"GET", "/v1/keys", access.KeysList, "", http.StatusOK, s.listKeys},
		{"POST", "/v1/keys", access.KeysCreate, "", http.StatusCreated, s.createKey},
		{"DELETE", "/v1/keys/{id}", access.KeysRevoke, "", http.StatusNoContent, s.revokeKey},
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.Version})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if err := s.App.DB.Ping(r.Context()); err != nil {
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
	p, err := s.App.Programme.Programme(r.Context())
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
	p, err := s.App.Programme.UpdateProgramme(r.Context(), in.apply)
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
	keys := []string{"phone", "email", "card"}
	if principalOf(r.Context()).Role == kopilka.RolePOS {
		keys = []string{"card"} // a till looks members up by the card it is shown
	}
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
	var in struct {
		Number string `json:"number"`
	}
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
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": encodeCursor(next)})
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
	q, err := s.App.Purchases.Calculate(r.Context(), rc)
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
	q, err := s.App.Purchases.Confirm(r.Context(), rc)
	if err != nil {
		return err
	}
	s.points.WithLabelValues("earned").Add(float64(q.Earned))
	s.points.WithLabelValues("spent").Add(float64(q.Spent))
	writeJSON(w, http.StatusOK, q)
	return nil
}

func (s *Server) getPurchase(w http.ResponseWriter, r *http.Request) error {
	q, err := s.App.Purchases.Purchase(r.Context(), r.PathValue("id"))
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
	res, err := s.App.Purchases.Refund(r.Context(), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) error {
	res, err := s.App.Purchases.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	ks, err := s.App.Access.Keys(r.Context())
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
		PartnerID string     `json:"partner_id"`
		StoreIDs  []string   `json:"store_ids"`
		ExpiresAt *time.Time `json:"expires_at"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	k, err := s.App.Access.CreateKey(r.Context(), kopilka.APIKey{Name: in.Name, Role: in.Role, PartnerID: in.PartnerID,
		StoreIDs: in.StoreIDs, ExpiresAt: in.ExpiresAt}, "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.App.Access.RevokeKey(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	s.forgetPrincipals() // this instance stops honouring it at once
	w.WriteHeader(http.StatusNoContent)
	return nil
}
