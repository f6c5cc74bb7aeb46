package web

import (
	"net/http"

	"github.com/kopilka/kopilka/access"
)

// Pages lists every page and form action of the site once: its method and
// pattern, the session it needs and the use case it is for (whose roles
// access.Policy gives). The API's routes are in http/routes.go; the HTTP
// server sends /office/, /app/, /static/ and /lang/ here.
func (s *Site) Pages() []Page {
	return []Page{
		{Method: "GET", Pattern: "/static/{name}", Session: Public, handle: s.static},
		{Method: "GET", Pattern: "/lang/{lang}", Session: Public, handle: s.setLang},

		// The back office.
		{Method: "GET", Pattern: "/office/signin", Session: Public, handle: s.officeSignInPage},
		{Method: "POST", Pattern: "/office/signin", Session: Public, Action: access.AuthLogin, handle: s.officeSignIn},
		{Method: "POST", Pattern: "/office/signout", Session: Office, Action: access.AuthLogout, handle: s.signOut(officeCookie, "/office/signin")},
		{Method: "GET", Pattern: "/office/{$}", Session: Office, Action: access.AuthWhoami, handle: s.officeHome},
		{Method: "GET", Pattern: "/office/members", Session: Office, Action: access.MembersRead, handle: s.memberSearch},
		{Method: "GET", Pattern: "/office/members/{id}", Session: Office, Action: access.MembersRead, handle: s.memberPage},
		{Method: "POST", Pattern: "/office/members/{id}/block", Session: Office, Action: access.MembersBlock, handle: s.memberStatus(true)},
		{Method: "POST", Pattern: "/office/members/{id}/unblock", Session: Office, Action: access.MembersUnblock, handle: s.memberStatus(false)},
		{Method: "POST", Pattern: "/office/members/{id}/cards", Session: Office, Action: access.MembersIssueCard, handle: s.issueCard},
		{Method: "POST", Pattern: "/office/cards/block", Session: Office, Action: access.CardsBlock, handle: s.blockCard},
		{Method: "POST", Pattern: "/office/cards/replace", Session: Office, Action: access.CardsReplace, handle: s.replaceCard},
		{Method: "POST", Pattern: "/office/cases", Session: Office, Action: access.CasesWrite, handle: s.openCase},
		{Method: "GET", Pattern: "/office/cases", Session: Office, Action: access.CasesRead, handle: s.caseList},
		{Method: "GET", Pattern: "/office/cases/{id}", Session: Office, Action: access.CasesRead, handle: s.casePage},
		{Method: "POST", Pattern: "/office/cases/{id}/notes", Session: Office, Action: access.CasesWrite, handle: s.caseChange("noted", s.noteCase)},
		{Method: "POST", Pattern: "/office/cases/{id}/resolve", Session: Office, Action: access.CasesWrite, handle: s.caseChange("resolved", s.resolveCase)},
		{Method: "POST", Pattern: "/office/cases/{id}/reopen", Session: Office, Action: access.CasesWrite, handle: s.caseChange("reopened", s.reopenCase)},
		{Method: "POST", Pattern: "/office/cases/{id}/compensations", Session: Office, Action: access.CasesCompensate, handle: s.caseChange("compensated", s.compensateCase)},
		{Method: "GET", Pattern: "/office/programme", Session: Office, Action: access.ProgrammeRead, handle: s.programmePage},
		{Method: "POST", Pattern: "/office/programme", Session: Office, Action: access.ProgrammeWrite, handle: s.saveSettings},
		{Method: "POST", Pattern: "/office/programme/tiers", Session: Office, Action: access.ProgrammeWrite, handle: s.saveTiers},
		{Method: "POST", Pattern: "/office/programme/bonuses", Session: Office, Action: access.ProgrammeWrite, handle: s.saveBonuses},
		{Method: "GET", Pattern: "/office/programme/export", Session: Office, Action: access.ProgrammeRead, handle: s.exportProgramme},
		{Method: "POST", Pattern: "/office/programme/import", Session: Office, Action: access.ProgrammeWrite, MaxBody: 4 << 20, handle: s.importProgramme},
		{Method: "GET", Pattern: "/office/programme/rules/{id}", Session: Office, Action: access.ProgrammeRead, handle: s.ruleForm},
		{Method: "POST", Pattern: "/office/programme/rules/{id}", Session: Office, Action: access.ProgrammeWrite, handle: s.saveRule},
		{Method: "POST", Pattern: "/office/programme/check", Session: Office, Action: access.ProgrammeRead, handle: s.checkRule},
		{Method: "POST", Pattern: "/office/programme/simulate", Session: Office, Action: access.ProgrammeSimulate, handle: s.simulateRule},
		{Method: "GET", Pattern: "/office/programme/campaigns/{id}", Session: Office, Action: access.ProgrammeRead, handle: s.campaignForm},
		{Method: "POST", Pattern: "/office/programme/campaigns/{id}", Session: Office, Action: access.ProgrammeWrite, handle: s.saveCampaign},
		{Method: "POST", Pattern: "/office/programme/campaigns/simulate", Session: Office, Action: access.ProgrammeSimulate, handle: s.simulateDraftCampaign},
		{Method: "POST", Pattern: "/office/programme/campaigns/{id}/simulate", Session: Office, Action: access.ProgrammeSimulate, handle: s.simulateCampaign},
		{Method: "GET", Pattern: "/office/programme/test", Session: Office, Action: access.ProgrammeSimulate, handle: s.testerPage},
		{Method: "POST", Pattern: "/office/programme/test", Session: Office, Action: access.ProgrammeSimulate, handle: s.testerPage},
		{Method: "GET", Pattern: "/office/partners", Session: Office, Action: access.PartnersList, handle: s.partnerList},
		{Method: "POST", Pattern: "/office/partners", Session: Office, Action: access.PartnersWrite, handle: s.savePartner},
		{Method: "POST", Pattern: "/office/partners/{id}", Session: Office, Action: access.PartnersWrite, handle: s.savePartner},
		{Method: "POST", Pattern: "/office/partners/{id}/stores", Session: Office, Action: access.StoresWrite, handle: s.addStore},
		{Method: "POST", Pattern: "/office/partners/{id}/rates", Session: Office, Action: access.PartnersRates, handle: s.saveRates},
		{Method: "GET", Pattern: "/office/partners/{id}", Session: Office, Action: access.PartnersRead, handle: s.partnerPage},
		{Method: "GET", Pattern: "/office/partners/{id}/statement", Session: Office, Action: access.PartnersReports, handle: s.statementPage},
		{Method: "GET", Pattern: "/office/partners/{id}/settlements/{period}", Session: Office, Action: access.PartnersReports, handle: s.statementPage},
		{Method: "GET", Pattern: "/office/stores/{id}", Session: Office, Action: access.StoresRead, handle: s.storePage},
		{Method: "POST", Pattern: "/office/stores/{id}", Session: Office, Action: access.StoresWrite, handle: s.changeStore},
		{Method: "GET", Pattern: "/office/keys", Session: Office, Action: access.KeysList, handle: s.keysPage},
		{Method: "POST", Pattern: "/office/keys", Session: Office, Action: access.KeysCreate, handle: s.createKey},
		{Method: "POST", Pattern: "/office/keys/{id}/revoke", Session: Office, Action: access.KeysRevoke, handle: s.revokeKey},
		{Method: "GET", Pattern: "/office/operators", Session: Office, Action: access.OperatorsList, handle: s.operatorsPage},
		{Method: "POST", Pattern: "/office/operators", Session: Office, Action: access.OperatorsCreate, handle: s.createOperator},
		{Method: "POST", Pattern: "/office/operators/{id}", Session: Office, Action: access.OperatorsUpdate, handle: s.changeOperator},
		{Method: "GET", Pattern: "/office/audit", Session: Office, Action: access.AuditRead, handle: s.auditPage},
		{Method: "GET", Pattern: "/office/surveys", Session: Office, Action: access.ReportsAnalytics, handle: s.surveysPage},
		{Method: "POST", Pattern: "/office/surveys", Session: Office, Action: access.SurveysWrite, handle: s.saveSurvey},
		{Method: "GET", Pattern: "/office/analytics", Session: Office, Action: access.ReportsAnalytics, handle: s.analyticsPage},
		{Method: "GET", Pattern: "/office/analytics/export/{report}", Session: Office, Action: access.ReportsAnalytics, handle: s.analyticsExport},
		{Method: "GET", Pattern: "/office/receipts/{id}", Session: Office, Action: access.PurchasesRead, handle: s.receiptPage},
		{Method: "POST", Pattern: "/office/receipts/{id}/cancel", Session: Office, Action: access.PurchasesCancel, handle: s.cancelReceipt},

		// The member app.
		{Method: "GET", Pattern: "/app/signin", Session: Public, handle: s.memberSignInPage},
		{Method: "POST", Pattern: "/app/signin", Session: Public, Action: access.AuthCode, handle: s.memberSendCode},
		{Method: "POST", Pattern: "/app/verify", Session: Public, Action: access.AuthVerify, handle: s.memberVerify},
		{Method: "POST", Pattern: "/app/signout", Session: Member, Action: access.AuthLogout, handle: s.signOut(memberCookie, "/app/signin")},
		{Method: "GET", Pattern: "/app/sw.js", Session: Public, handle: s.serviceWorker},
		{Method: "GET", Pattern: "/app/{$}", Session: Member, Action: access.MeRead, handle: s.memberHome},
		{Method: "GET", Pattern: "/app/history", Session: Member, Action: access.MeHistory, handle: s.memberHistory},
		{Method: "GET", Pattern: "/app/stores", Session: Member, Action: access.StoresNearby, handle: s.memberStores},
		{Method: "GET", Pattern: "/app/tier", Session: Member, Action: access.MeTier, handle: s.memberTier},
		{Method: "GET", Pattern: "/app/categories", Session: Member, Action: access.MeRead, handle: s.memberCategories},
		{Method: "POST", Pattern: "/app/categories", Session: Member, Action: access.MeCategories, handle: s.chooseCategories},
		{Method: "GET", Pattern: "/app/surveys", Session: Member, Action: access.MeRead, handle: s.memberSurveys},
		{Method: "POST", Pattern: "/app/surveys/{id}", Session: Member, Action: access.MeSurveys, handle: s.answerSurvey},
		{Method: "GET", Pattern: "/app/profile", Session: Member, Action: access.MeRead, handle: s.memberProfile},
		{Method: "POST", Pattern: "/app/profile", Session: Member, Action: access.MeUpdate, handle: s.saveProfile},
		{Method: "GET", Pattern: "/app/card/{kind}", Session: Member, Action: access.MeRead, handle: s.cardImage},
	}
}

// setLang keeps the language the person chose and goes back to the page.
func (s *Site) setLang(w http.ResponseWriter, r *http.Request) error {
	lang := r.PathValue("lang")
	if lang != "ru" && lang != "en" {
		http.NotFound(w, r)
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, localPath(r.URL.Query().Get("next"), "/"), http.StatusSeeOther)
	return nil
}
