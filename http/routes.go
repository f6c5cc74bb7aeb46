package http

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
)

// Who may call what. A route's roles are checked before its handler runs;
// a principal scoped to a partner is further limited by the route's Scope.
var (
	role = struct{ admin, operator, marketing, support, partnerAdmin, pos, member string }{
		kopilka.RoleAdmin, kopilka.RoleOperator, kopilka.RoleMarketing, kopilka.RoleSupport,
		kopilka.RolePartnerAdmin, kopilka.RolePOS, kopilka.RoleMember}
	adminOnly      = []string{role.admin}
	programmeRoles = []string{role.admin, role.operator, role.marketing}
	backOffice     = []string{role.admin, role.operator, role.support}
	memberAdmin    = []string{role.admin, role.operator}
	till           = []string{role.admin, role.operator, role.pos}
	tillLookup     = []string{role.admin, role.operator, role.support, role.pos}
	purchaseRead   = []string{role.admin, role.operator, role.support, role.pos, role.partnerAdmin}
	partnersRead   = []string{role.admin, role.operator, role.marketing, role.support, role.partnerAdmin}
	partnersWrite  = []string{role.admin, role.operator}
	partnerOwn     = []string{role.admin, role.operator, role.partnerAdmin}
	storesRead     = []string{role.admin, role.operator, role.marketing, role.support, role.partnerAdmin, role.pos}
	reports        = []string{role.admin, role.operator, role.marketing, role.partnerAdmin}
	everyone       = []string{role.admin, role.operator, role.marketing, role.support, role.partnerAdmin, role.pos, role.member}
	memberOnly     = []string{role.member}
	auditors       = []string{role.admin}
)

// Scopes: what a route's path or body names that belongs to one partner.
// A principal of another partner gets 404 for it.
const (
	ScopeNone     = ""         // nothing of a partner's, or filtered to the principal's own
	ScopePartner  = "partner"  // {id} is a partner
	ScopeStore    = "store"    // {id} is a store
	ScopeReceipt  = "receipt"  // {id} is a purchase's receipt id
	ScopeReceipts = "receipts" // the body is a receipt naming its store
)

// Routes lists every route of the API with the roles that may call it.
// The OpenAPI document and the authorisation tests are checked against it.
func (s *Server) Routes() []Route {
	return []Route{
		{"GET", "/healthz", nil, "", s.healthz},
		{"GET", "/readyz", nil, "", s.readyz},
		{"GET", "/openapi.yaml", nil, "", s.openapi},

		{"GET", "/v1/programme", programmeRoles, "", s.getProgramme},
		{"PUT", "/v1/programme", programmeRoles, "", s.putProgramme},
		{"GET", "/v1/programme/export", programmeRoles, "", s.exportProgramme},
		{"PUT", "/v1/programme/import", programmeRoles, "", s.importProgramme},
		{"GET", "/v1/programme/rules", programmeRoles, "", s.listRules},
		{"PUT", "/v1/programme/rules/{id}", programmeRoles, "", s.putRule},
		{"DELETE", "/v1/programme/rules/{id}", programmeRoles, "", s.deleteRule},
		{"GET", "/v1/programme/campaigns", programmeRoles, "", s.listCampaigns},
		{"PUT", "/v1/programme/campaigns/{id}", programmeRoles, "", s.putCampaign},
		{"DELETE", "/v1/programme/campaigns/{id}", programmeRoles, "", s.deleteCampaign},
		{"POST", "/v1/programme/campaigns/{id}/simulate", programmeRoles, "", s.simulateCampaign},
		{"POST", "/v1/programme/simulate", programmeRoles, "", s.simulate},

		{"POST", "/v1/members", memberAdmin, "", s.createMember},
		{"GET", "/v1/members", tillLookup, "", s.findMember},
		{"GET", "/v1/members/{id}", backOffice, "", s.getMember},
		{"PATCH", "/v1/members/{id}", memberAdmin, "", s.patchMember},
		{"POST", "/v1/members/{id}/block", backOffice, "", s.memberStatus(kopilka.StatusBlocked)},
		{"POST", "/v1/members/{id}/unblock", memberAdmin, "", s.memberStatus(kopilka.StatusActive)},
		{"POST", "/v1/members/{id}/cards", memberAdmin, "", s.issueCard},
		{"GET", "/v1/members/{id}/balance", tillLookup, "", s.balance},
		{"GET", "/v1/members/{id}/tier", backOffice, "", s.tier},
		{"PUT", "/v1/members/{id}/categories", memberAdmin, "", s.putCategories},
		{"GET", "/v1/members/{id}/transactions", backOffice, "", s.transactions},
		{"POST", "/v1/members/{id}/adjustments", backOffice, "", s.adjust},

		{"GET", "/v1/cards/{number}", tillLookup, "", s.getCard},
		{"POST", "/v1/cards/{number}/block", backOffice, "", s.blockCard},
		{"POST", "/v1/cards/{number}/replace", backOffice, "", s.replaceCard},

		{"POST", "/v1/purchases/calculate", till, ScopeReceipts, s.calculate},
		{"POST", "/v1/purchases", till, ScopeReceipts, s.confirm},
		{"GET", "/v1/purchases/{id}", purchaseRead, ScopeReceipt, s.getPurchase},
		{"POST", "/v1/purchases/{id}/refunds", till, ScopeReceipt, s.refund},
		{"POST", "/v1/purchases/{id}/cancel", till, ScopeReceipt, s.cancel},

		{"GET", "/v1/partners", partnersRead, "", s.listPartners},
		{"GET", "/v1/partners/{id}", partnersRead, ScopePartner, s.getPartner},
		{"PUT", "/v1/partners/{id}", partnersWrite, "", s.putPartner},
		{"PUT", "/v1/partners/{id}/rates", partnerOwn, ScopePartner, s.putPartnerRates},
		{"GET", "/v1/partners/{id}/stores", partnersRead, ScopePartner, s.listStores},
		{"GET", "/v1/partners/{id}/statement", reports, ScopePartner, s.statement},
		{"POST", "/v1/partners/{id}/settlements", partnersWrite, "", s.closeSettlement},
		{"GET", "/v1/partners/{id}/settlements/{period}", reports, ScopePartner, s.getSettlement},
		{"GET", "/v1/stores/nearby", everyone, "", s.nearby},
		{"GET", "/v1/stores/{id}", storesRead, ScopeStore, s.getStore},
		{"PUT", "/v1/stores/{id}", partnerOwn, ScopeStore, s.putStore},

		{"POST", "/v1/auth/login", nil, "", s.login},
		{"POST", "/v1/auth/logout", everyone, "", s.logout},
		{"GET", "/v1/auth/whoami", everyone, "", s.whoami},
		{"POST", "/v1/auth/otp", nil, "", s.sendCode},
		{"POST", "/v1/auth/otp/verify", nil, "", s.verifyCode},
		{"GET", "/v1/me", memberOnly, "", s.me},
		{"GET", "/v1/me/balance", memberOnly, "", s.myBalance},
		{"GET", "/v1/me/transactions", memberOnly, "", s.myTransactions},

		{"GET", "/v1/operators", adminOnly, "", s.listOperators},
		{"POST", "/v1/operators", adminOnly, "", s.createOperator},
		{"GET", "/v1/operators/{id}", adminOnly, "", s.getOperator},
		{"PATCH", "/v1/operators/{id}", adminOnly, "", s.patchOperator},
		{"POST", "/v1/operators/{id}/unlock", adminOnly, "", s.unlockOperator},
		{"GET", "/v1/audit", auditors, "", s.auditLog},

		{"GET", "/v1/keys", adminOnly, "", s.listKeys},
		{"POST", "/v1/keys", adminOnly, "", s.createKey},
		{"DELETE", "/v1/keys/{id}", adminOnly, "", s.revokeKey},
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
	return s.history(w, r, r.PathValue("id"))
}

// history answers a page of a member's transactions.
func (s *Server) history(w http.ResponseWriter, r *http.Request, memberID string) error {
	limit, err := queryInt(r, "limit", 50)
	if err != nil {
		return err
	}
	cur, err := decodeCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	items, next, err := s.App.Ledger.History(r.Context(), memberID, cur, limit)
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
	if principalOf(r.Context()).Role == kopilka.RoleSupport && (in.Points > s.SupportAdjustLimit || in.Points < -s.SupportAdjustLimit) {
		return &kopilka.Error{Code: kopilka.EFORBIDDEN, Message: fmt.Sprintf("the support role may adjust at most %d points at a time; ask an operator", s.SupportAdjustLimit),
			Fields: []kopilka.FieldError{{Field: "points", Detail: fmt.Sprintf("at most %d either way for the support role", s.SupportAdjustLimit)}}}
	}
	t, err := s.App.Ledger.Adjust(r.Context(), r.PathValue("id"), in, actor(r.Context()), r.Header.Get("Idempotency-Key"))
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
	if err := s.ownStore(r.Context(), rc.StoreID); err != nil {
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
	if err := s.ownStore(r.Context(), rc.StoreID); err != nil {
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
	if err := s.ownReceipt(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
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
	if err := s.ownReceipt(r.Context(), r.PathValue("id")); err != nil {
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
	if err := s.ownReceipt(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
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
