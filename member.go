package kopilka

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Member statuses.
const (
	StatusActive   = "active"
	StatusBlocked  = "blocked"
	StatusReplaced = "replaced" // cards only: another card took over
	// StatusErased is a member whose personal data was erased on request:
	// for good, never active again.
	StatusErased = "erased"
)

// Card kinds.
const (
	CardVirtual    = "virtual"
	CardPhysical   = "physical"
	CardAdditional = "additional"
)

// Member is a person in the programme. The account (balance, history) is the
// member's; every card of the member spends from it.
type Member struct {
	ID        string    `json:"id"`
	Phone     string    `json:"phone,omitempty"`
	Email     string    `json:"email,omitempty"`
	Name      string    `json:"name,omitempty"`
	BirthDate string    `json:"birth_date,omitempty"` // YYYY-MM-DD
	Consents  Consents  `json:"consents"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	Cards     []Card    `json:"cards"`

	// PhoneVerified and EmailVerified are set when the member proved they
	// own the phone or the address; both together earn the profile bonus.
	PhoneVerified bool `json:"phone_verified"`
	EmailVerified bool `json:"email_verified"`
	// Tags are the operator's segment labels ("student", "vip").
	Tags []string `json:"tags"`
	// ReferredBy is the member who brought this one in.
	ReferredBy string `json:"referred_by,omitempty"`
	// Tier is the member's current tier ("" below the lowest); TierReviewAt
	// is when it is next re-qualified.
	Tier         string     `json:"tier,omitempty"`
	TierReviewAt *time.Time `json:"tier_review_at,omitempty"`
	// Categories are the member's chosen personal categories, changed last at CategoriesAt.
	Categories   []string   `json:"categories"`
	CategoriesAt *time.Time `json:"categories_changed_at,omitempty"`
	// BirthdayYear is the year of the last birthday bonus given.
	BirthdayYear int `json:"-"`
}

// Masked is the card as the support role sees it: the number's last four
// digits only, so that whoever reads the service centre's screens cannot
// use the card (the member tells the number when it is needed).
func (c Card) Masked() Card {
	c.Number = maskNumber(c.Number)
	c.ReplacedBy = maskNumber(c.ReplacedBy)
	return c
}

func maskNumber(n string) string {
	if len(n) <= 4 {
		return n
	}
	return strings.Repeat("*", len(n)-4) + n[len(n)-4:]
}

// MaskedCards is the member with every card Masked.
func (m Member) MaskedCards() Member {
	cards := make([]Card, len(m.Cards))
	for i, c := range m.Cards {
		cards[i] = c.Masked()
	}
	m.Cards = cards
	return m
}

// TillView is what a till may see of a member it found by a card: the id,
// the first name, the status, the tier and that card. Contacts, the birth
// date, consents, tags, chosen categories and the member's other cards are
// for the back office.
func (m Member) TillView(cardNumber string) Member {
	first, _, _ := strings.Cut(strings.TrimSpace(m.Name), " ")
	v := Member{ID: m.ID, Name: first, Status: m.Status, CreatedAt: m.CreatedAt, Tier: m.Tier,
		Cards: []Card{}, Tags: []string{}, Categories: []string{}}
	for _, c := range m.Cards {
		if c.Number == cardNumber {
			v.Cards = append(v.Cards, c)
		}
	}
	return v
}

// Consents records what the member agreed to be contacted by.
type Consents struct {
	Email bool `json:"email"`
	SMS   bool `json:"sms"`
	Push  bool `json:"push"`
}

// Card is a number bound to a member's account.
type Card struct {
	Number     string    `json:"number"`
	MemberID   string    `json:"member_id"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"`
	ReplacedBy string    `json:"replaced_by,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// MemberPatch is a partial update of a member; nil fields stay as they are.
type MemberPatch struct {
	Phone     *string   `json:"phone"`
	Email     *string   `json:"email"`
	Name      *string   `json:"name"`
	BirthDate *string   `json:"birth_date"`
	Consents  *Consents `json:"consents"`
	// The operator's fields.
	Tags          *[]string `json:"tags"`
	PhoneVerified *bool     `json:"phone_verified"`
	EmailVerified *bool     `json:"email_verified"`
}

// NormalizePhone returns the number in E.164 ("+79161234567"), reading
// national numbers as numbers of region (ISO 3166 code, e.g. "RU").
func NormalizePhone(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return "", Invalid("phone", "is not a phone number; give it in international form, e.g. +79161234567")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// NormalizeEmail lower-cases and checks an e-mail address.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndex(s, "@"):], ".") {
		return "", Invalid("email", "is not an e-mail address")
	}
	return strings.ToLower(s), nil
}

// Normalize checks and normalises the member's own fields. With contact, a
// member needs a phone or an e-mail: a new member, and one who had either
// (an update may not remove the last). A member imported from a purchase
// history has neither until the service centre adds one.
func (m *Member) Normalize(region string, contact bool) error {
	var pr Problems
	var err error
	if m.Phone, err = NormalizePhone(m.Phone, region); err != nil {
		pr = append(pr, err.(*Error).Fields...)
	}
	if m.Email, err = NormalizeEmail(m.Email); err != nil {
		pr = append(pr, err.(*Error).Fields...)
	}
	m.Name = strings.TrimSpace(m.Name)
	if !CleanText(m.Name) || utf8.RuneCountInString(m.Name) > 200 {
		pr.Add("name", "must be valid text of at most 200 characters")
	}
	if m.BirthDate != "" {
		d, err := time.Parse(time.DateOnly, m.BirthDate)
		if err != nil || d.Year() < 1900 || d.After(time.Now()) {
			pr.Add("birth_date", "must be a past date as YYYY-MM-DD")
		}
	}
	if contact && m.Phone == "" && m.Email == "" {
		pr.Add("phone", "a member needs a phone or an e-mail")
	}
	if len(m.Tags) > 50 {
		pr.Add("tags", "a member may have at most 50 tags")
	}
	CheckList(&pr, "tags", m.Tags)
	if m.Tags == nil {
		m.Tags = []string{}
	}
	if m.Categories == nil {
		m.Categories = []string{}
	}
	// Verification belongs to the address verified: a new one is unverified.
	if m.Phone == "" {
		m.PhoneVerified = false
	}
	if m.Email == "" {
		m.EmailVerified = false
	}
	return pr.Err()
}

// Apply copies the set fields of the patch onto m.
func (p MemberPatch) Apply(m *Member) {
	if p.Phone != nil {
		m.Phone = *p.Phone
	}
	if p.Email != nil {
		m.Email = *p.Email
	}
	if p.Name != nil {
		m.Name = *p.Name
	}
	if p.BirthDate != nil {
		m.BirthDate = *p.BirthDate
	}
	if p.Consents != nil {
		m.Consents = *p.Consents
	}
	if p.Tags != nil {
		m.Tags = *p.Tags
	}
	if p.PhoneVerified != nil {
		m.PhoneVerified = *p.PhoneVerified
	}
	if p.EmailVerified != nil {
		m.EmailVerified = *p.EmailVerified
	}
}

// luhnDigit returns the check digit that makes digits+check pass the Luhn test.
func luhnDigit(digits string) byte {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// ValidLuhn reports whether the number's last digit is its Luhn check digit.
func ValidLuhn(number string) bool {
	if len(number) < 2 || !allDigits(number) {
		return false
	}
	return luhnDigit(number[:len(number)-1]) == number[len(number)-1]
}

// VirtualCardPrefix starts every generated card number, so that they never
// collide with a bank card's BIN range.
const VirtualCardPrefix = "2"

// NewCardNumber makes a 16-digit number with a Luhn check digit from random bytes.
func NewCardNumber(random []byte) string {
	var b strings.Builder
	b.WriteString(VirtualCardPrefix)
	for i := 0; b.Len() < 15; i++ {
		b.WriteByte('0' + random[i%len(random)]%10)
	}
	s := b.String()
	return s + string(luhnDigit(s))
}

// NormalizeCardNumber strips spaces and dashes and checks that the number is 6 to 32 digits.
func NormalizeCardNumber(field, s string) (string, error) {
	s = strings.NewReplacer(" ", "", "-", "").Replace(s)
	if len(s) < 6 || len(s) > 32 || !allDigits(s) {
		return "", Invalid(field, "must be 6 to 32 digits")
	}
	return s, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MemberQuery finds members for the back office. Every field set must hold
// (text fields match a part, in any letter case; Card and Phone match
// digits). Q matches any of name, phone, e-mail and card number. Dates are
// days in the programme's time zone, From included, To not. Sort is
// "registered" (newest first, the default) or "name". After is the cursor
// of the previous page; Limit is 1 to 200 (0: 50).
type MemberQuery struct {
	Q, Name, Phone, Email, Card      string
	Tier, Status, Tag                string
	RegisteredFrom, RegisteredTo     time.Time
	LastPurchaseFrom, LastPurchaseTo time.Time
	Sort                             string // CardWhole matches Card (and the digits of Q) with whole card numbers
	// only, for a role that sees card numbers masked.
	CardWhole bool

	After *SortCursor
	Limit int
}

// SortCursor is where a sorted page ended: the last item's sort key and id.
type SortCursor struct {
	Key string `json:"k"`
	ID  string `json:"id"`
}

// Member sorts.
const (
	SortRegistered = "registered"
	SortName       = "name"
)
