package kopilka

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Roles. Keys and operators carry one; a member signed in by a one-time
// code is RoleMember. http/routes.go says what each may call.
const (
	RoleAdmin        = "admin"         // everything: keys, operators, the audit log
	RoleOperator     = "operator"      // runs the programme: members, partners, programme, settlements
	RoleMarketing    = "marketing"     // programme, rules, campaigns, reports
	RoleSupport      = "support"       // members, history, cards, adjustments up to a limit
	RolePartnerAdmin = "partner-admin" // one partner's stores, rates, reports and settlements
	RolePOS          = "pos"           // the till: quote, confirm, refund, cancel, look up a card
	RoleMember       = "member"        // a member's own balance, history and cards
)

// KeyRoles are the roles an API key may have.
var KeyRoles = []string{RoleAdmin, RoleOperator, RoleMarketing, RoleSupport, RolePartnerAdmin, RolePOS}

// Principal is who makes a request: a key, an operator or a member.
type Principal struct {
	Kind string // "key", "operator" or "member"
	ID   string
	Name string
	Role string
	// PartnerID scopes the principal to one partner ("": every partner),
	// and StoreIDs to some of its stores (empty: all of them).
	PartnerID string
	StoreIDs  []string
	// MemberID is the member a member principal is.
	MemberID string
}

// Actor names the principal in the ledger and the audit log.
func (p Principal) Actor() string {
	if p.Kind == "" {
		return ""
	}
	return p.Kind + ":" + p.ID + " (" + p.Name + ")"
}

// Scoped reports whether the principal sees only one partner's business.
func (p Principal) Scoped() bool { return p.PartnerID != "" }

// APIKey is a bearer key. Only its hash is stored; the secret is shown once.
type APIKey struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
	// PartnerID scopes the key to a partner, StoreIDs to some of its stores.
	PartnerID  string     `json:"partner_id,omitempty"`
	StoreIDs   []string   `json:"store_ids,omitempty"`
	Hash       string     `json:"-"`
	Prefix     string     `json:"prefix"` // the secret's first characters, to tell keys apart
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	// Secret is set only in the answer that creates the key.
	Secret string `json:"secret,omitempty"`
}

// KeyPrefix starts every secret, so that leaked keys are easy to grep for.
const KeyPrefix = "kpk_"

// HashKey returns the stored form of a secret.
func HashKey(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// CreateKey makes a key with a new random secret (or the given one, for the
// bootstrap key) and returns it with the secret.
func (s *Service) CreateKey(ctx context.Context, k APIKey, secret string) (APIKey, error) {
	var pr Problems
	k.Name = strings.TrimSpace(k.Name)
	if k.Name == "" || len(k.Name) > 100 || !CleanText(k.Name) {
		pr.Add("name", "is required: at most 100 characters of text without control characters")
	}
	partnerRole := k.Role == RolePOS || k.Role == RolePartnerAdmin
	switch {
	case !slices.Contains(KeyRoles, k.Role):
		pr.Add("role", "must be one of "+strings.Join(KeyRoles, ", "))
	case k.Role == RolePartnerAdmin && k.PartnerID == "":
		pr.Add("partner_id", "is required for a partner-admin key")
	case k.PartnerID != "" && !partnerRole:
		pr.Add("partner_id", "only pos and partner-admin keys belong to a partner")
	case len(k.StoreIDs) > 0 && k.PartnerID == "":
		pr.Add("store_ids", "needs partner_id: the stores must be the partner's")
	}
	checkList(&pr, "store_ids", k.StoreIDs)
	if k.ExpiresAt != nil && !k.ExpiresAt.After(s.now()) {
		pr.Add("expires_at", "must be in the future")
	}
	if err := pr.Err(); err != nil {
		return APIKey{}, err
	}
	if secret == "" {
		var b [24]byte
		if _, err := io.ReadFull(s.Random, b[:]); err != nil {
			return APIKey{}, err
		}
		secret = KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	}
	k.ID, k.Hash, k.Prefix, k.CreatedAt = s.newID(), HashKey(secret), secret[:min(8, len(secret))], s.now()
	k.RevokedAt, k.LastUsedAt = nil, nil
	err := s.Store.Update(ctx, func(tx Tx) error {
		if k.PartnerID != "" {
			if _, err := tx.Partner(ctx, k.PartnerID); ErrorCode(err) == ENOTFOUND {
				return Invalid("partner_id", "no partner has this id")
			} else if err != nil {
				return err
			}
		}
		for i, id := range k.StoreIDs {
			o, err := tx.Outlet(ctx, id)
			if ErrorCode(err) == ENOTFOUND || err == nil && o.PartnerID != k.PartnerID {
				return Invalid(fmt.Sprintf("store_ids[%d]", i), "no store of partner "+k.PartnerID+" has this id")
			} else if err != nil {
				return err
			}
		}
		return tx.InsertKey(ctx, k)
	})
	if err != nil {
		return APIKey{}, err
	}
	k.Secret = secret
	return k, nil
}

// Authenticate returns who holds this secret: a live key, an operator's or
// a member's live session, or EUNAUTHORIZED.
func (s *Service) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if strings.HasPrefix(secret, OperatorTokenPrefix) || strings.HasPrefix(secret, MemberTokenPrefix) {
		return s.sessionPrincipal(ctx, secret)
	}
	k, err := s.liveKey(ctx, secret)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Kind: "key", ID: k.ID, Name: k.Name, Role: k.Role, PartnerID: k.PartnerID, StoreIDs: k.StoreIDs}, nil
}

// liveKey returns the live key with this secret, or EUNAUTHORIZED.
func (s *Service) liveKey(ctx context.Context, secret string) (APIKey, error) {
	var k APIKey
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		k, err = tx.KeyByHash(ctx, HashKey(secret))
		return err
	})
	if ErrorCode(err) == ENOTFOUND {
		return APIKey{}, Errorf(EUNAUTHORIZED, "the API key is not valid")
	} else if err != nil {
		return APIKey{}, err
	}
	now := s.now()
	if k.RevokedAt != nil || (k.ExpiresAt != nil && !k.ExpiresAt.After(now)) {
		return APIKey{}, Errorf(EUNAUTHORIZED, "the API key was revoked or has expired")
	}
	return k, nil
}

// TouchKey records that a key was used.
func (s *Service) TouchKey(ctx context.Context, id string) error {
	return s.Store.Update(ctx, func(tx Tx) error { return tx.TouchKey(ctx, id, s.now()) })
}

// Keys lists every key without secrets.
func (s *Service) Keys(ctx context.Context) (ks []APIKey, err error) {
	err = s.Store.View(ctx, func(tx Tx) error {
		ks, err = tx.Keys(ctx)
		return err
	})
	return ks, err
}

// RevokeKey stops a key at once.
func (s *Service) RevokeKey(ctx context.Context, id string) error {
	return s.Store.Update(ctx, func(tx Tx) error { return tx.RevokeKey(ctx, id, s.now()) })
}

// EnsureKey stores the key with this secret as admin unless it exists;
// it reports whether it created one.
func (s *Service) EnsureKey(ctx context.Context, name, secret string) (bool, error) {
	_, err := s.Authenticate(ctx, secret)
	if err == nil {
		return false, nil
	}
	if ErrorCode(err) != EUNAUTHORIZED {
		return false, err
	}
	_, err = s.CreateKey(ctx, APIKey{Name: name, Role: RoleAdmin}, secret)
	if ErrorCode(err) == ECONFLICT {
		return false, nil // the key exists but was revoked or expired: it stays so
	}
	return err == nil, err
}

// HasKeys reports whether any key exists.
func (s *Service) HasKeys(ctx context.Context) (bool, error) {
	ks, err := s.Keys(ctx)
	return len(ks) > 0, err
}
