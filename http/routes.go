package http

import (
	"net/http"

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
