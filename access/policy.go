package access

import (
	"context"
	"slices"

	"github.com/kopilka/kopilka"
)

// Action names a use case for the policy: what a principal asks to do.
type Action string

// The actions of every use case. The route table names one per route, and
// the API document's roles come from Policy.
const (
	ProgrammeRead     Action = "programme.read"
	ProgrammeWrite    Action = "programme.write"
	ProgrammeSimulate Action = "programme.simulate"

	MembersCreate     Action = "members.create"
	MembersFind       Action = "members.find"
	MembersRead       Action = "members.read"
	MembersUpdate     Action = "members.update"
	MembersBlock      Action = "members.block"
	MembersUnblock    Action = "members.unblock"
	MembersIssueCard  Action = "members.issue_card"
	MembersCategories Action = "members.categories"
	MembersTier       Action = "members.tier"
	MembersExport     Action = "members.export"
	MembersErase      Action = "members.erase"
	CardsRead         Action = "cards.read"
	CardsBlock        Action = "cards.block"
	CardsReplace      Action = "cards.replace"

	LedgerBalance Action = "ledger.balance"
	LedgerHistory Action = "ledger.history"
	LedgerAdjust  Action = "ledger.adjust"

	ReportsOverview  Action = "reports.overview"
	ReportsAnalytics Action = "reports.analytics"
	ReportsRefresh   Action = "reports.refresh"
	ReportsOffers    Action = "reports.offers"

	ImportRun Action = "import.run"

	CasesRead       Action = "cases.read"
	CasesWrite      Action = "cases.write"
	CasesCompensate Action = "cases.compensate"

	PurchasesQuote   Action = "purchases.quote"
	PurchasesConfirm Action = "purchases.confirm"
	PurchasesRead    Action = "purchases.read"
	PurchasesRefund  Action = "purchases.refund"
	PurchasesCancel  Action = "purchases.cancel"

	PartnersList     Action = "partners.list"
	PartnersRead     Action = "partners.read"
	PartnersWrite    Action = "partners.write"
	PartnersRates    Action = "partners.rates"
	PartnersStores   Action = "partners.stores"
	PartnersReports  Action = "partners.reports"
	SettlementsClose Action = "settlements.close"
	StoresNearby     Action = "stores.nearby"
	StoresRead       Action = "stores.read"
	StoresWrite      Action = "stores.write"

	AuthLogin    Action = "auth.login"
	AuthLogout   Action = "auth.logout"
	AuthWhoami   Action = "auth.whoami"
	AuthCode     Action = "auth.code"
	AuthVerify   Action = "auth.verify"
	MeRead       Action = "me.read"
	MeBalance    Action = "me.balance"
	MeHistory    Action = "me.history"
	MeTier       Action = "me.tier"
	MeUpdate     Action = "me.update"
	MeCategories Action = "me.categories"
	MeSurveys    Action = "me.surveys"

	SurveysWrite  Action = "surveys.write"
	SurveysInvite Action = "surveys.invite"

	OperatorsList   Action = "operators.list"
	OperatorsRead   Action = "operators.read"
	OperatorsCreate Action = "operators.create"
	OperatorsUpdate Action = "operators.update"
	OperatorsUnlock Action = "operators.unlock"
	AuditRead       Action = "audit.read"
	KeysList        Action = "keys.list"
	KeysCreate      Action = "keys.create"
	KeysRevoke      Action = "keys.revoke"
	JobsRun         Action = "jobs.run"
	ClockRead       Action = "clock.read"
	ClockWrite      Action = "clock.write"
)

// Rule is who may take an action: the roles, and what the action is in
// words for the refusal. No roles means anybody, signed in or not.
type Rule struct {
	Roles []string
	What  string
}

var (
	admin, operator, marketing, support = kopilka.RoleAdmin, kopilka.RoleOperator, kopilka.RoleMarketing, kopilka.RoleSupport
	partnerAdmin, pos, member           = kopilka.RolePartnerAdmin, kopilka.RolePOS, kopilka.RoleMember

	programmeTeam = []string{admin, operator, marketing}
	memberAdmins  = []string{admin, operator}
	backOffice    = []string{admin, operator, support}
	tillLookup    = []string{admin, operator, support, pos}
	till          = []string{admin, operator, pos}
	purchaseRead  = []string{admin, operator, support, pos, partnerAdmin}
	partnersRead  = []string{admin, operator, marketing, support, partnerAdmin}
	partnerOwn    = []string{admin, operator, partnerAdmin}
	storesRead    = []string{admin, operator, marketing, support, partnerAdmin, pos}
	reports       = []string{admin, operator, marketing, partnerAdmin}
	everyone      = []string{admin, operator, marketing, support, partnerAdmin, pos, member}
	members       = []string{member}
	admins        = []string{admin}
	marketers     = []string{admin, marketing}
	// serviceAndMarketing: the back office and marketing.
	serviceAndMarketing = []string{admin, operator, marketing, support}
)

// Policy says who may take each action. A principal scoped to a partner is
// further limited to that partner's business (see Reaches).
var Policy = map[Action]Rule{
	ProgrammeRead:     {programmeTeam, "read the programme"},
	ProgrammeWrite:    {programmeTeam, "change the programme"},
	ProgrammeSimulate: {programmeTeam, "simulate the programme"},

	MembersCreate:     {memberAdmins, "register members"},
	MembersFind:       {tillLookup, "look members up"},
	MembersRead:       {backOffice, "read members"},
	MembersUpdate:     {memberAdmins, "change members"},
	MembersBlock:      {backOffice, "block members"},
	MembersUnblock:    {memberAdmins, "unblock members"},
	MembersIssueCard:  {memberAdmins, "issue cards"},
	MembersCategories: {memberAdmins, "choose members' categories"},
	MembersTier:       {backOffice, "read members' tiers"},
	MembersExport:     {admins, "export a member's personal data"},
	MembersErase:      {admins, "erase a member's personal data"},
	CardsRead:         {tillLookup, "read cards"},
	CardsBlock:        {backOffice, "block cards"},
	CardsReplace:      {backOffice, "replace cards"},

	LedgerBalance: {tillLookup, "read balances"},
	LedgerHistory: {backOffice, "read members' histories"},
	LedgerAdjust:  {backOffice, "adjust balances"},

	ReportsOverview:  {programmeTeam, "read the programme's overview"},
	ReportsAnalytics: {programmeTeam, "read cohorts, RFM segments, KPIs, churn risk and basket rules"},
	ReportsRefresh:   {marketers, "tag members with their RFM segment and churn risk"},
	ReportsOffers:    {serviceAndMarketing, "read what to offer a member"},

	ImportRun: {admins, "import receipts and members"},

	CasesRead:       {backOffice, "read service cases"},
	CasesWrite:      {backOffice, "open, note and resolve service cases"},
	CasesCompensate: {backOffice, "compensate members from service cases"},

	PurchasesQuote:   {till, "quote receipts"},
	PurchasesConfirm: {till, "confirm purchases"},
	PurchasesRead:    {purchaseRead, "read purchases"},
	PurchasesRefund:  {till, "refund purchases"},
	PurchasesCancel:  {till, "cancel purchases"},

	PartnersList:     {partnersRead, "list partners"},
	PartnersRead:     {partnersRead, "read partners"},
	PartnersWrite:    {memberAdmins, "change partners"},
	PartnersRates:    {partnerOwn, "change partners' rates"},
	PartnersStores:   {partnersRead, "list partners' stores"},
	PartnersReports:  {reports, "read statements and settlements"},
	SettlementsClose: {memberAdmins, "close settlements"},
	StoresNearby:     {everyone, "find stores"},
	StoresRead:       {storesRead, "read stores"},
	StoresWrite:      {partnerOwn, "change stores"},

	AuthLogin:    {nil, "sign in"},
	AuthLogout:   {everyone, "sign out"},
	AuthWhoami:   {everyone, "ask who they are"},
	AuthCode:     {nil, "ask for a sign-in code"},
	AuthVerify:   {nil, "sign in by code"},
	MeRead:       {members, "read their own profile"},
	MeBalance:    {members, "read their own balance"},
	MeHistory:    {members, "read their own history"},
	MeTier:       {members, "read their own tier"},
	MeUpdate:     {members, "change their own name and consents"},
	MeCategories: {members, "choose their own categories"},
	MeSurveys:    {members, "answer their surveys"},

	SurveysWrite:  {marketers, "set up surveys"},
	SurveysInvite: {admins, "send survey invitations (the jobs)"},

	OperatorsList:   {admins, "list operators"},
	OperatorsRead:   {admins, "read operators"},
	OperatorsCreate: {admins, "create operators"},
	OperatorsUpdate: {admins, "change operators"},
	OperatorsUnlock: {admins, "unlock operators"},
	AuditRead:       {admins, "read the audit log"},
	KeysList:        {admins, "list API keys"},
	KeysCreate:      {admins, "create API keys"},
	KeysRevoke:      {admins, "revoke API keys"},
	JobsRun:         {admins, "run the background jobs"},
	ClockRead:       {admins, "read the test clock"},
	ClockWrite:      {admins, "move the test clock"},
}

// Roles returns the roles that may take the action (nil: anybody).
func Roles(a Action) []string { return Policy[a].Roles }

// Allow reports whether the principal in ctx may take the action: nil, or
// EUNAUTHORIZED when nobody is signed in, or EFORBIDDEN for another role.
// An action missing from Policy is refused to everyone.
func Allow(ctx context.Context, a Action) error {
	rule, ok := Policy[a]
	if !ok {
		return kopilka.Errorf(kopilka.EFORBIDDEN, "no one may %s: it is not in the policy", a)
	}
	if len(rule.Roles) == 0 {
		return nil
	}
	p := kopilka.PrincipalFrom(ctx)
	if p.Kind == "" {
		return kopilka.Errorf(kopilka.EUNAUTHORIZED, "sign in to %s", rule.What)
	}
	if !slices.Contains(rule.Roles, p.Role) {
		return kopilka.Errorf(kopilka.EFORBIDDEN, "the %s role may not %s", p.Role, rule.What)
	}
	return nil
}

// Reaches reports whether the principal in ctx may see the business of a
// partner's store: always for a principal of no partner; for one scoped to
// a partner, only that partner's, and of its stores only those it names
// (storeID "" asks about the partner as a whole).
func Reaches(ctx context.Context, partnerID, storeID string) bool {
	p := kopilka.PrincipalFrom(ctx)
	if !p.Scoped() {
		return true
	}
	if p.PartnerID != partnerID {
		return false
	}
	return storeID == "" || len(p.StoreIDs) == 0 || slices.Contains(p.StoreIDs, storeID)
}
