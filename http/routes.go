package http

import (
	"reflect"

	"net/http"

	"github.com/kopilka/kopilka/cases"
	"github.com/kopilka/kopilka/importer"
	"github.com/kopilka/kopilka/privacy"
	"github.com/kopilka/kopilka/programme"
	"github.com/kopilka/kopilka/reports"
	"github.com/kopilka/kopilka/surveys"
	"github.com/kopilka/kopilka/testclock"

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
	ScopeList     = "list"     // a list: a scoped caller gets its own partner's things only
)

// Routes lists every route of the API once: its method and pattern, the
// use case's action (whose roles access.Policy gives), what of one
// partner's it names, and the status it answers with on success. The
// OpenAPI document and the authorisation tests are checked against it.
func (s *Server) Routes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/", Status: http.StatusOK, Summary: "Where to go: a page for a person with a browser", handle: s.home},
		{Method: "GET", Pattern: "/healthz", Status: http.StatusOK, Out: typeOf[healthJSON](), Summary: "Liveness", handle: s.healthz},
		{Method: "GET", Pattern: "/readyz", Status: http.StatusOK, Out: typeOf[readyJSON](), Summary: "Readiness", handle: s.readyz},
		{Method: "GET", Pattern: "/openapi.yaml", Status: http.StatusOK, Summary: "This document", handle: s.openapi},
		{Method: "GET", Pattern: "/metrics", Status: http.StatusOK, Summary: "Prometheus metrics", handle: s.metrics},
		{Method: "GET", Pattern: "/v1/clock", Action: access.ClockRead, Status: http.StatusOK, Out: typeOf[testclock.Clock](), Summary: "Read the programme's clock", handle: s.getClock},
		{Method: "POST", Pattern: "/v1/clock", Action: access.ClockWrite, Status: http.StatusOK, In: typeOf[testclock.Set](), Out: typeOf[testclock.Clock](), Summary: "Move the test clock forward", handle: s.moveClock},

		{Method: "GET", Pattern: "/v1/programme", Action: access.ProgrammeRead, Status: http.StatusOK, Out: typeOf[kopilka.Programme](), Summary: "Read the programme settings", handle: s.getProgramme},
		{Method: "PUT", Pattern: "/v1/programme", Action: access.ProgrammeWrite, Status: http.StatusOK, In: typeOf[programmeJSON](), Out: typeOf[kopilka.Programme](), Summary: "Replace the programme settings", handle: s.putProgramme},
		{Method: "PATCH", Pattern: "/v1/programme", Action: access.ProgrammeWrite, Status: http.StatusOK, In: typeOf[programmeJSON](), Out: typeOf[kopilka.Programme](), Summary: "Change some of the programme settings", handle: s.patchProgramme},
		{Method: "GET", Pattern: "/v1/programme/export", Action: access.ProgrammeRead, Status: http.StatusOK, Out: typeOf[programmeDocument](), Summary: "Export the programme as one document", handle: s.exportProgramme},
		{Method: "PUT", Pattern: "/v1/programme/import", Action: access.ProgrammeWrite, Status: http.StatusOK, In: typeOf[programmeImport](), Out: typeOf[kopilka.Programme](), Summary: "Replace the whole programme from a document", handle: s.importProgramme},
		{Method: "GET", Pattern: "/v1/programme/rules", Action: access.ProgrammeRead, Status: http.StatusOK, Out: typeOf[ruleList](), Summary: "List the programme's rules", handle: s.listRules},
		{Method: "PUT", Pattern: "/v1/programme/rules/{id}", Action: access.ProgrammeWrite, Status: http.StatusOK, In: typeOf[kopilka.Rule](), Out: typeOf[kopilka.Rule](), Summary: "Add or replace a rule", handle: s.putRule},
		{Method: "DELETE", Pattern: "/v1/programme/rules/{id}", Action: access.ProgrammeWrite, Status: http.StatusNoContent, Summary: "Delete a rule", handle: s.deleteRule},
		{Method: "GET", Pattern: "/v1/programme/campaigns", Action: access.ProgrammeRead, Status: http.StatusOK, Out: typeOf[campaignList](), Summary: "List the campaigns", handle: s.listCampaigns},
		{Method: "PUT", Pattern: "/v1/programme/campaigns/{id}", Action: access.ProgrammeWrite, Status: http.StatusOK, In: typeOf[kopilka.Campaign](), Out: typeOf[kopilka.Campaign](), Summary: "Add or replace a campaign", handle: s.putCampaign},
		{Method: "DELETE", Pattern: "/v1/programme/campaigns/{id}", Action: access.ProgrammeWrite, Status: http.StatusNoContent, Summary: "Delete a campaign", handle: s.deleteCampaign},
		{Method: "GET", Pattern: "/v1/programme/campaigns/{id}/holdout", Action: access.ReportsAnalytics, Status: http.StatusOK, Out: typeOf[reports.Holdout](), Summary: "A campaign against its control group: the incremental turnover and its uncertainty", handle: s.campaignHoldout},
		{Method: "POST", Pattern: "/v1/programme/campaigns/{id}/simulate", Action: access.ProgrammeSimulate, Status: http.StatusOK, Out: typeOf[programme.Simulation](), Summary: "Simulate a stored campaign on past receipts", handle: s.simulateCampaign},
		{Method: "POST", Pattern: "/v1/programme/simulate", Action: access.ProgrammeSimulate, Status: http.StatusOK, In: typeOf[programme.Proposal](), Out: typeOf[programme.Simulation](), Summary: "Simulate a change of the programme on past receipts", handle: s.simulate},

		{Method: "POST", Pattern: "/v1/members", Action: access.MembersCreate, Status: http.StatusCreated, In: typeOf[memberJSON](), Out: typeOf[kopilka.Member](), Summary: "Register a member", handle: s.createMember},
		{Method: "GET", Pattern: "/v1/members", Action: access.MembersFind, Status: http.StatusOK, Out: typeOf[kopilka.Member](), Summary: "Find a member by phone, e-mail or card", handle: s.findMember},
		{Method: "GET", Pattern: "/v1/members/search", Action: access.MembersRead, Status: http.StatusOK, Out: typeOf[memberPage](), Summary: "Find and list members", handle: s.searchMembers},
		{Method: "GET", Pattern: "/v1/members/{id}", Action: access.MembersRead, Status: http.StatusOK, Out: typeOf[kopilka.Member](), Summary: "Read a member", handle: s.getMember},
		{Method: "PATCH", Pattern: "/v1/members/{id}", Action: access.MembersUpdate, Status: http.StatusOK, In: typeOf[kopilka.MemberPatch](), Out: typeOf[kopilka.Member](), Summary: "Change a member's profile", handle: s.patchMember},
		{Method: "POST", Pattern: "/v1/members/{id}/block", Action: access.MembersBlock, Status: http.StatusOK, Out: typeOf[kopilka.Member](), Summary: "Block a member", handle: s.memberStatus(kopilka.StatusBlocked)},
		{Method: "POST", Pattern: "/v1/members/{id}/unblock", Action: access.MembersUnblock, Status: http.StatusOK, Out: typeOf[kopilka.Member](), Summary: "Unblock a member", handle: s.memberStatus(kopilka.StatusActive)},
		{Method: "POST", Pattern: "/v1/members/{id}/cards", Action: access.MembersIssueCard, Status: http.StatusCreated, In: typeOf[cardJSON](), BodyOptional: true, Out: typeOf[kopilka.Card](), Summary: "Issue another card to a member", handle: s.issueCard},
		{Method: "GET", Pattern: "/v1/members/{id}/balance", Action: access.LedgerBalance, Status: http.StatusOK, Out: typeOf[kopilka.BalanceView](), Summary: "Read a member's balance", handle: s.balance},
		{Method: "GET", Pattern: "/v1/members/{id}/export", Action: access.MembersExport, Status: http.StatusOK, Out: typeOf[privacy.Export](), Summary: "Export everything held about a member", handle: s.exportMember},
		{Method: "POST", Pattern: "/v1/members/{id}/erase", Action: access.MembersErase, Status: http.StatusOK, In: typeOf[privacy.Erasure](), Out: typeOf[kopilka.Member](), Summary: "Erase a member's personal data", handle: s.eraseMember},
		{Method: "GET", Pattern: "/v1/members/{id}/tier", Action: access.MembersTier, Status: http.StatusOK, Out: typeOf[kopilka.TierProgress](), Summary: "A member's tier and progress to the next", handle: s.tier},
		{Method: "PUT", Pattern: "/v1/members/{id}/categories", Action: access.MembersCategories, Status: http.StatusOK, In: typeOf[categoriesJSON](), Out: typeOf[kopilka.Member](), Summary: "Choose a member's personal categories", handle: s.putCategories},
		{Method: "GET", Pattern: "/v1/members/{id}/transactions", Action: access.LedgerHistory, Status: http.StatusOK, Out: typeOf[transactionPage](), Summary: "A member's history", handle: s.transactions},
		{Method: "POST", Pattern: "/v1/members/{id}/adjustments", Action: access.LedgerAdjust, Status: http.StatusCreated, In: typeOf[kopilka.Adjustment](), Out: typeOf[kopilka.Transaction](), Summary: "Credit or debit points by hand", handle: s.adjust},

		{Method: "GET", Pattern: "/v1/overview", Action: access.ReportsOverview, Status: http.StatusOK, Out: typeOf[reports.Overview](), Summary: "The programme's figures now", handle: s.overview},
		{Method: "GET", Pattern: "/v1/analytics/kpis", Action: access.ReportsAnalytics, Status: http.StatusOK, Out: typeOf[reports.KPIs](), Summary: "Loyalty KPIs step by step (JSON or CSV)", handle: s.kpis},
		{Method: "GET", Pattern: "/v1/analytics/cohorts", Action: access.ReportsAnalytics, Status: http.StatusOK, Out: typeOf[reports.Cohorts](), Summary: "Retention cohorts by month of first purchase (JSON or CSV)", handle: s.cohorts},
		{Method: "GET", Pattern: "/v1/analytics/rfm", Action: access.ReportsAnalytics, Status: http.StatusOK, Out: typeOf[reports.RFM](), Summary: "RFM segments' sizes (JSON or CSV)", handle: s.rfm},
		{Method: "GET", Pattern: "/v1/analytics/churn", Action: access.ReportsAnalytics, Status: http.StatusOK, Out: typeOf[reports.Churn](), Summary: "Churn risk: the BG/NBD model fitted, the most at-risk members (JSON, or every member as CSV)", handle: s.churn},
		{Method: "POST", Pattern: "/v1/analytics/refresh", Action: access.ReportsRefresh, Status: http.StatusOK, Out: typeOf[reports.Refreshed](), Summary: "Tag members with their RFM segment and churn risk now", handle: s.refreshAnalytics},
		{Method: "GET", Pattern: "/v1/analytics/basket-rules", Action: access.ReportsAnalytics, Status: http.StatusOK, Out: typeOf[reports.BasketRules](), Summary: "Association rules of what is bought together (JSON, or every rule as CSV)", handle: s.basketRules},
		{Method: "GET", Pattern: "/v1/members/{id}/offers", Action: access.ReportsOffers, Status: http.StatusOK, Out: typeOf[reports.Offers](), Summary: "What to offer a member: complementary goods and goods due again", handle: s.memberOffers},
		{Method: "GET", Pattern: "/v1/analytics/rfm/members", Action: access.ReportsAnalytics, Status: http.StatusOK, Out: typeOf[rfmMemberList](), Summary: "Members' RFM scores and segments (JSON pages or all as CSV)", handle: s.rfmMembers},

		{Method: "POST", Pattern: "/v1/cases", Action: access.CasesWrite, Status: http.StatusCreated, In: typeOf[cases.Opening](), Out: typeOf[cases.Case](), Summary: "Open a service case", handle: s.openCase},
		{Method: "GET", Pattern: "/v1/cases", Action: access.CasesRead, Status: http.StatusOK, Out: typeOf[casePage](), Summary: "List service cases", handle: s.listCases},
		{Method: "GET", Pattern: "/v1/cases/stats", Action: access.CasesRead, Status: http.StatusOK, Out: typeOf[cases.Stats](), Summary: "The service centre's figures", handle: s.caseStats},
		{Method: "GET", Pattern: "/v1/cases/{id}", Action: access.CasesRead, Status: http.StatusOK, Out: typeOf[cases.Case](), Summary: "Read a service case", handle: s.getCase},
		{Method: "POST", Pattern: "/v1/cases/{id}/notes", Action: access.CasesWrite, Status: http.StatusOK, In: typeOf[caseText](), Out: typeOf[cases.Case](), Summary: "Add a note to a case", handle: s.noteCase},
		{Method: "POST", Pattern: "/v1/cases/{id}/resolve", Action: access.CasesWrite, Status: http.StatusOK, In: typeOf[caseResolution](), Out: typeOf[cases.Case](), Summary: "Resolve a case", handle: s.resolveCase},
		{Method: "POST", Pattern: "/v1/cases/{id}/reopen", Action: access.CasesWrite, Status: http.StatusOK, In: typeOf[caseReopening](), Out: typeOf[cases.Case](), Summary: "Open a resolved case again", handle: s.reopenCase},
		{Method: "POST", Pattern: "/v1/cases/{id}/compensations", Action: access.CasesCompensate, Status: http.StatusCreated, In: typeOf[cases.Compensation](), Out: typeOf[caseCompensated](), Summary: "Give or take points from a case", handle: s.compensateCase},

		{Method: "GET", Pattern: "/v1/cards/{number}", Action: access.CardsRead, Status: http.StatusOK, Out: typeOf[kopilka.Card](), Summary: "Read a card", handle: s.getCard},
		{Method: "POST", Pattern: "/v1/cards/{number}/block", Action: access.CardsBlock, Status: http.StatusOK, Out: typeOf[kopilka.Card](), Summary: "Block a card", handle: s.blockCard},
		{Method: "POST", Pattern: "/v1/cards/{number}/replace", Action: access.CardsReplace, Status: http.StatusCreated, In: typeOf[cardReplacementJSON](), BodyOptional: true, Out: typeOf[kopilka.Card](), Summary: "Replace a card", handle: s.replaceCard},

		{Method: "POST", Pattern: "/v1/purchases/calculate", Action: access.PurchasesQuote, Scope: ScopeReceipts, Status: http.StatusOK, In: typeOf[receiptJSON](), Out: typeOf[kopilka.Quote](), Summary: "Quote a receipt", handle: s.calculate},
		{Method: "POST", Pattern: "/v1/purchases", Action: access.PurchasesConfirm, Scope: ScopeReceipts, Status: http.StatusOK, In: typeOf[receiptJSON](), Out: typeOf[kopilka.Quote](), Summary: "Confirm a purchase", handle: s.confirm},
		{Method: "GET", Pattern: "/v1/purchases", Action: access.PurchasesRead, Scope: ScopeList, Status: http.StatusOK, Out: typeOf[purchasePage](), Summary: "List purchases by member, store, partner and period", handle: s.listPurchases},
		{Method: "GET", Pattern: "/v1/purchases/{id}", Action: access.PurchasesRead, Scope: ScopeReceipt, Status: http.StatusOK, Out: typeOf[kopilka.Quote](), Summary: "Read a confirmed purchase", handle: s.getPurchase},
		{Method: "POST", Pattern: "/v1/purchases/{id}/refunds", Action: access.PurchasesRefund, Scope: ScopeReceipt, Status: http.StatusOK, In: typeOf[refundJSON](), Out: typeOf[kopilka.RefundResult](), Summary: "Refund a purchase, whole or in part", handle: s.refund},
		{Method: "POST", Pattern: "/v1/purchases/{id}/cancel", Action: access.PurchasesCancel, Scope: ScopeReceipt, Status: http.StatusOK, Out: typeOf[kopilka.RefundResult](), Summary: "Cancel a purchase", handle: s.cancel},

		{Method: "GET", Pattern: "/v1/partners", Action: access.PartnersList, Status: http.StatusOK, Out: typeOf[partnerList](), Summary: "List the partners", handle: s.listPartners},
		{Method: "GET", Pattern: "/v1/partners/{id}", Action: access.PartnersRead, Scope: ScopePartner, Status: http.StatusOK, Out: typeOf[kopilka.Partner](), Summary: "Read a partner", handle: s.getPartner},
		{Method: "PUT", Pattern: "/v1/partners/{id}", Action: access.PartnersWrite, Status: http.StatusOK, In: typeOf[partnerJSON](), Out: typeOf[kopilka.Partner](), Summary: "Add or replace a partner", handle: s.putPartner},
		{Method: "PATCH", Pattern: "/v1/partners/{id}", Action: access.PartnersWrite, Status: http.StatusOK, In: typeOf[partnerJSON](), Out: typeOf[kopilka.Partner](), Summary: "Change some fields of a partner", handle: s.patchPartner},
		{Method: "PUT", Pattern: "/v1/partners/{id}/rates", Action: access.PartnersRates, Scope: ScopePartner, Status: http.StatusOK, In: typeOf[partnerRatesJSON](), Out: typeOf[kopilka.Partner](), Summary: "Change a partner's own rates", handle: s.putPartnerRates},
		{Method: "GET", Pattern: "/v1/partners/{id}/stores", Action: access.PartnersStores, Scope: ScopePartner, Status: http.StatusOK, Out: typeOf[storePage](), Summary: "List a partner's stores", handle: s.listStores},
		{Method: "GET", Pattern: "/v1/partners/{id}/statement", Action: access.PartnersReports, Scope: ScopePartner, Status: http.StatusOK, Out: typeOf[kopilka.Statement](), Summary: "A partner's statement for any span of time", handle: s.statement},
		{Method: "POST", Pattern: "/v1/partners/{id}/settlements", Action: access.SettlementsClose, Status: http.StatusOK, In: typeOf[settlementJSON](), Out: typeOf[kopilka.Statement](), Summary: "Close a partner's month", handle: s.closeSettlement},
		{Method: "GET", Pattern: "/v1/partners/{id}/settlements", Action: access.PartnersReports, Scope: ScopePartner, Status: http.StatusOK, Out: typeOf[settlementList](), Summary: "A partner's closed months", handle: s.listSettlements},
		{Method: "GET", Pattern: "/v1/partners/{id}/settlements/{period}", Action: access.PartnersReports, Scope: ScopePartner, Status: http.StatusOK, Out: typeOf[kopilka.Statement](), Summary: "A partner's statement of a month", handle: s.getSettlement},
		{Method: "GET", Pattern: "/v1/stores", Action: access.PartnersStores, Scope: ScopeList, Status: http.StatusOK, Out: typeOf[storePage](), Summary: "List every store of the programme", handle: s.listStores},
		{Method: "GET", Pattern: "/v1/stores/nearby", Action: access.StoresNearby, Status: http.StatusOK, Out: typeOf[nearbyList](), Summary: "The stores nearest a point", handle: s.nearby},
		{Method: "GET", Pattern: "/v1/stores/{id}", Action: access.StoresRead, Scope: ScopeStore, Status: http.StatusOK, Out: typeOf[kopilka.Store](), Summary: "Read a store", handle: s.getStore},
		{Method: "PUT", Pattern: "/v1/stores/{id}", Action: access.StoresWrite, Scope: ScopeStore, Status: http.StatusOK, In: typeOf[storeJSON](), Out: typeOf[kopilka.Store](), Summary: "Add or replace a store", handle: s.putStore},
		{Method: "PATCH", Pattern: "/v1/stores/{id}", Action: access.StoresWrite, Scope: ScopeStore, Status: http.StatusOK, In: typeOf[storeJSON](), Out: typeOf[kopilka.Store](), Summary: "Change some fields of a store", handle: s.patchStore},

		{Method: "POST", Pattern: "/v1/auth/login", Action: access.AuthLogin, Status: http.StatusOK, In: typeOf[loginJSON](), Out: typeOf[operatorSession](), Summary: "Log an operator in", handle: s.login},
		{Method: "POST", Pattern: "/v1/auth/logout", Action: access.AuthLogout, Status: http.StatusNoContent, Summary: "End the session of this token", handle: s.logout},
		{Method: "GET", Pattern: "/v1/auth/whoami", Action: access.AuthWhoami, Status: http.StatusOK, Out: typeOf[whoamiJSON](), Summary: "Who the bearer secret is", handle: s.whoami},
		{Method: "POST", Pattern: "/v1/auth/otp", Action: access.AuthCode, Status: http.StatusAccepted, In: typeOf[codeRequestJSON](), Out: typeOf[codeSent](), Summary: "Send a member a one-time code", handle: s.sendCode},
		{Method: "POST", Pattern: "/v1/auth/otp/verify", Action: access.AuthVerify, Status: http.StatusOK, In: typeOf[codeJSON](), Out: typeOf[memberSession](), Summary: "Trade a one-time code for a member token", handle: s.verifyCode},
		{Method: "GET", Pattern: "/v1/me", Action: access.MeRead, Status: http.StatusOK, Out: typeOf[kopilka.Member](), Summary: "The signed-in member", handle: s.me},
		{Method: "GET", Pattern: "/v1/me/balance", Action: access.MeBalance, Status: http.StatusOK, Out: typeOf[kopilka.BalanceView](), Summary: "The signed-in member's balance", handle: s.myBalance},
		{Method: "PATCH", Pattern: "/v1/me", Action: access.MeUpdate, Status: http.StatusOK, In: typeOf[kopilka.MemberPatch](), Out: typeOf[kopilka.Member](), Summary: "Change the signed-in member's name and consents", handle: s.patchMe},
		{Method: "GET", Pattern: "/v1/me/tier", Action: access.MeTier, Status: http.StatusOK, Out: typeOf[kopilka.TierProgress](), Summary: "The signed-in member's tier and progress", handle: s.myTier},
		{Method: "PUT", Pattern: "/v1/me/categories", Action: access.MeCategories, Status: http.StatusOK, In: typeOf[categoriesJSON](), Out: typeOf[kopilka.Member](), Summary: "Choose the signed-in member's personal categories", handle: s.putMyCategories},
		{Method: "GET", Pattern: "/v1/me/surveys", Action: access.MeRead, Status: http.StatusOK, Out: typeOf[invitationList](), Summary: "The signed-in member's survey invitations", handle: s.mySurveys},
		{Method: "POST", Pattern: "/v1/me/surveys/{id}", Action: access.MeSurveys, Status: http.StatusOK, In: typeOf[surveys.Answer](), Out: typeOf[surveys.Invitation](), Summary: "Answer a survey, once", handle: s.answerSurvey},
		{Method: "POST", Pattern: "/v1/imports/members", Action: access.ImportRun, Status: http.StatusAccepted, FileBody: true, Out: typeOf[importer.Job](), Summary: "Import members from another platform (CSV or JSON lines) as a job", handle: s.startMemberImport},
		{Method: "GET", Pattern: "/v1/imports/{id}", Action: access.ImportRun, Status: http.StatusOK, Out: typeOf[importer.Job](), Summary: "An import job's progress and summary", handle: s.getImport},
		{Method: "GET", Pattern: "/v1/surveys", Action: access.ReportsAnalytics, Status: http.StatusOK, Out: typeOf[surveyList](), Summary: "List the surveys", handle: s.listSurveys},
		{Method: "PUT", Pattern: "/v1/surveys/{id}", Action: access.SurveysWrite, Status: http.StatusOK, In: typeOf[surveys.Survey](), Out: typeOf[surveys.Survey](), Summary: "Add or replace a survey (NPS, CSI, CES)", handle: s.putSurvey},
		{Method: "GET", Pattern: "/v1/surveys/{id}/results", Action: access.ReportsAnalytics, Status: http.StatusOK, Out: typeOf[surveys.Results](), Summary: "A survey's results: response rate, NPS, CSI or CES, by store or partner", handle: s.surveyResults},
		{Method: "GET", Pattern: "/v1/me/transactions", Action: access.MeHistory, Status: http.StatusOK, Out: typeOf[transactionPage](), Summary: "The signed-in member's history", handle: s.myTransactions},

		{Method: "GET", Pattern: "/v1/operators", Action: access.OperatorsList, Status: http.StatusOK, Out: typeOf[operatorList](), Summary: "List the operators", handle: s.listOperators},
		{Method: "POST", Pattern: "/v1/operators", Action: access.OperatorsCreate, Status: http.StatusCreated, In: typeOf[access.OperatorInput](), Out: typeOf[kopilka.Operator](), Summary: "Add an operator", handle: s.createOperator},
		{Method: "GET", Pattern: "/v1/operators/{id}", Action: access.OperatorsRead, Status: http.StatusOK, Out: typeOf[kopilka.Operator](), Summary: "Read an operator", handle: s.getOperator},
		{Method: "PATCH", Pattern: "/v1/operators/{id}", Action: access.OperatorsUpdate, Status: http.StatusOK, In: typeOf[access.OperatorInput](), Out: typeOf[kopilka.Operator](), Summary: "Change an operator", handle: s.patchOperator},
		{Method: "POST", Pattern: "/v1/operators/{id}/unlock", Action: access.OperatorsUnlock, Status: http.StatusOK, Out: typeOf[kopilka.Operator](), Summary: "Unlock an operator", handle: s.unlockOperator},
		{Method: "GET", Pattern: "/v1/audit", Action: access.AuditRead, Status: http.StatusOK, Out: typeOf[auditPage](), Summary: "Read the audit log", handle: s.auditLog},

		{Method: "GET", Pattern: "/v1/keys", Action: access.KeysList, Status: http.StatusOK, Out: typeOf[apiKeyList](), Summary: "List API keys", handle: s.listKeys},
		{Method: "POST", Pattern: "/v1/keys", Action: access.KeysCreate, Status: http.StatusCreated, In: typeOf[newKeyJSON](), Out: typeOf[kopilka.APIKey](), Summary: "Create an API key", handle: s.createKey},
		{Method: "DELETE", Pattern: "/v1/keys/{id}", Action: access.KeysRevoke, Status: http.StatusNoContent, Summary: "Revoke an API key", handle: s.revokeKey},
	}
}

// typeOf names a Go type in the route table.
func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }
