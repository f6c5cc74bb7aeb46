package http

import (
	"encoding/json"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/coalition"
)

// The bodies the API answers with and reads that are not domain types of
// their own: lists, pages, sessions. The route table names them, and the
// API document's schemas are made from them (openapi_gen.go).

type healthJSON struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

type readyJSON struct {
	Status string `json:"status"`
	// TestClock is the programme's time on a server running on the test
	// clock (left out otherwise).
	TestClock *time.Time `json:"test_clock,omitempty"`
}

type ruleList struct {
	Rules []kopilka.Rule `json:"rules"`
}

type campaignList struct {
	Campaigns []kopilka.Campaign `json:"campaigns"`
}

type transactionPage struct {
	Items      []kopilka.Transaction `json:"items"`
	NextCursor string                `json:"next_cursor"`
}

// purchasePage is a page of purchases, and the cursor of the next.
type purchasePage struct {
	Items      []kopilka.Quote `json:"items"`
	NextCursor string          `json:"next_cursor"`
}

// memberPage is a page of members found, and the cursor of the next.
type memberPage struct {
	Items      []kopilka.Member `json:"items"`
	NextCursor string           `json:"next_cursor"`
}

type partnerList struct {
	Items []kopilka.Partner `json:"items"`
}

type storePage struct {
	Items     []kopilka.Store `json:"items"`
	NextAfter string          `json:"next_after"`
}

type nearbyList struct {
	Items []coalition.NearbyStore `json:"items"`
}

type apiKeyList struct {
	Items []kopilka.APIKey `json:"items"`
}

type operatorList struct {
	Items []kopilka.Operator `json:"items"`
}

type auditPage struct {
	Items      []kopilka.AuditEntry `json:"items"`
	NextCursor string               `json:"next_cursor"`
}

type operatorSession struct {
	Token     string           `json:"token"`
	ExpiresAt time.Time        `json:"expires_at"`
	Operator  kopilka.Operator `json:"operator"`
}

type memberSession struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	MemberID  string    `json:"member_id"`
}

type codeSent struct {
	Sent      bool   `json:"sent"`
	ExpiresIn int    `json:"expires_in"`
	Detail    string `json:"detail"`
}

type whoamiJSON struct {
	Kind      string   `json:"kind"`
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Role      string   `json:"role"`
	PartnerID string   `json:"partner_id"`
	StoreIDs  []string `json:"store_ids"`
	MemberID  string   `json:"member_id"`
}

// programmeDocument is the programme as a document to import: without the
// time it last changed, which the import sets, so that exporting twice
// gives the same file.
type programmeDocument struct {
	kopilka.Programme
	UpdatedAt *struct{} `json:"updated_at,omitempty"` // hides the programme's
}

type loginJSON struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type newKeyJSON struct {
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	PartnerID string     `json:"partner_id"`
	StoreIDs  []string   `json:"store_ids"`
	ExpiresAt *time.Time `json:"expires_at"`
}

type cardReplacementJSON struct {
	Number string `json:"number"`
}

type partnerRatesJSON struct {
	EarnRate *kopilka.Percent `json:"earn_rate_percent"`
	MaxSpend *kopilka.Percent `json:"max_spend_percent"`
}

type settlementJSON struct {
	Period string `json:"period"`
}

type categoriesJSON struct {
	Categories []string `json:"categories"`
}

type codeRequestJSON struct {
	Phone string `json:"phone"`
	Email string `json:"email"`
}

// programmeImport is a programme document as an import reads it: an
// export's updated_at is accepted and ignored.
type programmeImport struct {
	kopilka.Programme
	UpdatedAt json.RawMessage `json:"updated_at"`
}
