package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/cases"
	"github.com/kopilka/kopilka/reports"
)

// The back office: sign-in, a member in one place, cards and receipts.

func (s *Site) officeSignInPage(w http.ResponseWriter, r *http.Request) error {
	next := localPath(r.URL.Query().Get("next"), "/office/")
	if c, err := r.Cookie(officeCookie); err == nil {
		if p, err := s.App.Access.Authenticate(r.Context(), c.Value); err == nil && p.Kind == "operator" {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return nil
		}
	}
	s.render(w, r, http.StatusOK, "signin", Office, reqOf(r).T("Sign in to the back office"), map[string]any{"Next": next})
	return nil
}

func (s *Site) officeSignIn(w http.ResponseWriter, r *http.Request) error {
	next := localPath(r.PostForm.Get("next"), "/office/")
	email := r.PostForm.Get("email")
	sess, _, err := s.App.Access.Login(r.Context(), email, r.PostForm.Get("password"))
	if err != nil {
		q := reqOf(r)
		msg := q.T("The e-mail or the password is wrong.")
		switch kopilka.ErrorCode(err) {
		case kopilka.ELOCKED:
			msg = q.T("Too many failed attempts: the account is locked for a while. Try again later or ask an administrator to unlock it.")
		case kopilka.ERATELIMIT:
			msg = q.T("Too many sign-ins at once: wait a few seconds and try again.")
		case kopilka.EUNAUTHORIZED, kopilka.EINVALID:
		default:
			return err
		}
		s.render(w, r, s.StatusOf(err), "signin", Office, q.T("Sign in to the back office"),
			map[string]any{"Next": next, "Email": email, "Error": msg})
		return nil
	}
	setCookie(w, officeCookie, sess.Token, sess.ExpiresAt)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// signOut ends the session of the cookie for good and goes to the sign-in page.
func (s *Site) signOut(cookie, signin string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := s.App.Access.Logout(r.Context(), reqOf(r).session); err != nil {
			return err
		}
		if s.Forget != nil {
			s.Forget() // the token stops working at once as a bearer token too
		}
		clearCookie(w, cookie)
		http.Redirect(w, r, signin, http.StatusSeeOther)
		return nil
	}
}

// officeMenu is what the signed-in operator may open: each item shows only
// when the policy lets their role take its action.
func (s *Site) officeMenu(r *http.Request) []menuItem {
	q := reqOf(r)
	var items []menuItem
	best, bestLen := -1, 0 // the item whose address is the longest start of this page's
	for _, m := range []struct {
		href, label string
		action      access.Action
	}{
		{"/office/", "Overview", access.AuthWhoami},
		{"/office/members", "Members", access.MembersRead},
		{"/office/analytics", "Analytics", access.ReportsAnalytics},
		{"/office/surveys", "Surveys", access.ReportsAnalytics},
		{"/office/programme", "Programme", access.ProgrammeRead},
		{"/office/programme/test", "Receipt tester", access.ProgrammeSimulate},
		{"/office/cases", "Service cases", access.CasesRead},
		{"/office/partners", "Partners", access.PartnersList},
		{"/office/keys", "API keys", access.KeysList},
		{"/office/operators", "Operators", access.OperatorsList},
		{"/office/audit", "Audit log", access.AuditRead},
	} {
		if access.Allow(r.Context(), m.action) != nil {
			continue
		}
		if (r.URL.Path == m.href || strings.HasPrefix(r.URL.Path, m.href)) && len(m.href) > bestLen {
			best, bestLen = len(items), len(m.href)
		}
		items = append(items, menuItem{Href: m.href, Label: q.T(m.label)})
	}
	if best >= 0 {
		items[best].Current = true
	}
	return items
}

// segmentName is the English name of an RFM segment's id.
func segmentName(id string) string {
	for _, s := range reports.Segments {
		if s.ID == id {
			return s.Name
		}
	}
	return id
}

// officeHome is the overview: the programme's figures for the roles that
// read them, and the member search for the service centre.
func (s *Site) officeHome(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	data := map[string]any{"CanMembers": access.Allow(r.Context(), access.MembersRead) == nil,
		"CanAnalytics": access.Allow(r.Context(), access.ReportsAnalytics) == nil}
	if access.Allow(r.Context(), access.ReportsOverview) == nil {
		o, err := s.App.Reports.Overview(r.Context())
		if err != nil {
			return err
		}
		data["O"] = o
	}
	s.render(w, r, http.StatusOK, "office", Office, q.T("Overview"), data)
	return nil
}

// memberSearch finds members by phone, e-mail, card or name; one match
// opens at once.
func (s *Site) memberSearch(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	text := strings.TrimSpace(r.URL.Query().Get("q"))
	data := map[string]any{"Q": text}
	if text != "" {
		items, _, err := s.App.Members.SearchMembers(r.Context(), kopilka.MemberQuery{Q: text, Limit: 50})
		if err != nil {
			return err
		}
		if len(items) == 1 {
			http.Redirect(w, r, "/office/members/"+url.PathEscape(items[0].ID), http.StatusSeeOther)
			return nil
		}
		data["Items"], data["Searched"] = items, true
	}
	s.render(w, r, http.StatusOK, "members", Office, q.T("Members"), data)
	return nil
}

// memberPage is a member in one place: profile and consents, cards,
// balance with pending and expiring points, tier, categories and history.
func (s *Site) memberPage(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	ctx := r.Context()
	id := r.PathValue("id")
	m, err := s.App.Members.Member(ctx, id)
	if err != nil {
		return err
	}
	data := map[string]any{"M": m, "Masked": q.who.Role == kopilka.RoleSupport}
	if access.Allow(ctx, access.LedgerBalance) == nil {
		b, err := s.App.Ledger.Balance(ctx, id)
		if err != nil {
			return err
		}
		data["Balance"] = b
	}
	if access.Allow(ctx, access.MembersTier) == nil && m.Status != kopilka.StatusErased {
		if t, err := s.App.Programme.Tier(ctx, id); err == nil {
			data["Tier"] = t
		}
	}
	if access.Allow(ctx, access.LedgerHistory) == nil {
		before, err := pageCursor(r.URL.Query().Get("before"))
		if err != nil {
			return err
		}
		items, next, err := s.App.Ledger.History(ctx, id, before, 100)
		if err != nil {
			return err
		}
		data["History"] = items
		if next != nil {
			data["Older"] = "/office/members/" + url.PathEscape(id) + "?before=" + pageToken(next) + "#history"
		}
	}
	if access.Allow(ctx, access.CasesRead) == nil {
		cs, _, err := s.App.Cases.List(ctx, cases.Query{MemberID: id, Limit: 50})
		if err != nil {
			return err
		}
		data["Cases"], data["CaseKinds"], data["Channels"] = cs, cases.Kinds, cases.Channels
	}
	for name, action := range map[string]access.Action{"CanOpenCase": access.CasesWrite, "CanBlock": access.MembersBlock, "CanUnblock": access.MembersUnblock,
		"CanIssue": access.MembersIssueCard, "CanBlockCard": access.CardsBlock, "CanReplace": access.CardsReplace} {
		data[name] = access.Allow(ctx, action) == nil
	}
	if access.Allow(ctx, access.ReportsOffers) == nil && m.Status != kopilka.StatusErased {
		o, err := s.App.Reports.Offers(ctx, id, "", 5)
		if err != nil {
			return err
		}
		data["Offers"] = o
	}
	for _, t := range m.Tags {
		if seg, ok := strings.CutPrefix(t, reports.TagRFM); ok {
			data["Segment"] = segmentName(seg)
		}
		if t == reports.TagAtRisk {
			data["AtRisk"] = true
		}
	}
	data["Done"] = doneMessage(q, r.URL.Query().Get("done"))
	data["Receipt"], data["ReceiptPartner"] = r.URL.Query().Get("receipt"), r.URL.Query().Get("partner")
	s.render(w, r, http.StatusOK, "member", Office, memberTitle(q, m), data)
	return nil
}

func memberTitle(q *request, m kopilka.Member) string {
	switch {
	case m.Name != "":
		return m.Name
	case m.Phone != "":
		return m.Phone
	case m.Email != "":
		return m.Email
	}
	return q.T("Member")
}

// doneMessage is the line a page shows after a change it redirected from.
func doneMessage(q *request, done string) string {
	return map[string]string{
		"blocked":        q.T("The member is blocked."),
		"unblocked":      q.T("The member is unblocked."),
		"card-blocked":   q.T("The card is blocked."),
		"replaced":       q.T("The card is replaced; the member is told by SMS or e-mail."),
		"issued":         q.T("A new card is issued."),
		"cancelled":      q.T("The purchase is cancelled: its points are returned and taken back."),
		"opened":         q.T("The case is opened."),
		"store-saved":    q.T("The store is saved."),
		"rule-saved":     q.T("The rule is saved: it counts from the next receipt."),
		"settings-saved": q.T("The settings are saved."),
		"imported":       q.T("The programme is replaced by the imported document."),
		"noted":          q.T("The note is added."),
		"resolved":       q.T("The case is resolved."),
		"reopened":       q.T("The case is open again."),
		"compensated":    q.T("The points are given and noted on the case."),
	}[done]
}

func (s *Site) memberStatus(block bool) func(w http.ResponseWriter, r *http.Request) error {
	status, done := kopilka.StatusActive, "unblocked"
	if block {
		status, done = kopilka.StatusBlocked, "blocked"
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		if _, err := s.App.Members.SetMemberStatus(r.Context(), id, status); err != nil {
			return err
		}
		http.Redirect(w, r, "/office/members/"+url.PathEscape(id)+"?done="+done, http.StatusSeeOther)
		return nil
	}
}

func (s *Site) issueCard(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	number, kind := strings.TrimSpace(r.PostForm.Get("number")), kopilka.CardVirtual
	if number != "" {
		kind = kopilka.CardPhysical
	}
	if _, err := s.App.Members.IssueCard(r.Context(), id, kind, number); err != nil {
		return err
	}
	http.Redirect(w, r, "/office/members/"+url.PathEscape(id)+"?done=issued", http.StatusSeeOther)
	return nil
}

// blockCard and replaceCard take the card's whole number: the member's
// page has it for the roles that see numbers, and support asks the member
// for it (they see the last four digits only).
func (s *Site) blockCard(w http.ResponseWriter, r *http.Request) error {
	c, err := s.App.Members.BlockCard(r.Context(), strings.TrimSpace(r.PostForm.Get("number")))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/office/members/"+url.PathEscape(c.MemberID)+"?done=card-blocked", http.StatusSeeOther)
	return nil
}

func (s *Site) replaceCard(w http.ResponseWriter, r *http.Request) error {
	c, err := s.App.Members.ReplaceCard(r.Context(), strings.TrimSpace(r.PostForm.Get("number")), strings.TrimSpace(r.PostForm.Get("new_number")))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/office/members/"+url.PathEscape(c.MemberID)+"?done=replaced", http.StatusSeeOther)
	return nil
}

// receiptPage shows a purchase: its lines with the points each earned and
// spent and the rules that gave them, and cancel for the roles that may.
func (s *Site) receiptPage(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	partner := r.URL.Query().Get("partner_id")
	v, err := s.App.Purchases.Receipt(r.Context(), partner, r.PathValue("id"))
	if err != nil {
		return err
	}
	p := v.Quote
	lines := map[int]kopilka.QuoteLine{}
	for _, l := range p.Lines {
		lines[l.Line] = l
	}
	data := map[string]any{"P": p, "V": v, "QuoteLines": lines, "Partner": partner, "CanCancel": access.Allow(r.Context(), access.PurchasesCancel) == nil && p.Status == kopilka.PurchaseConfirmed,
		"Done": doneMessage(q, r.URL.Query().Get("done"))}
	s.render(w, r, http.StatusOK, "receipt", Office, q.T("Receipt")+" "+p.ReceiptID, data)
	return nil
}

func (s *Site) cancelReceipt(w http.ResponseWriter, r *http.Request) error {
	partner := r.PostForm.Get("partner_id")
	id := r.PathValue("id")
	if _, err := s.App.Purchases.Cancel(r.Context(), partner, id); err != nil {
		return err
	}
	to := "/office/receipts/" + url.PathEscape(id) + "?done=cancelled"
	if partner != "" {
		to += "&partner_id=" + url.QueryEscape(partner)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
