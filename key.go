package kopilka

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"strings"
	"time"
)

// Roles of API keys.
const (
	RoleAdmin = "admin" // everything
	RolePOS   = "pos"   // the till: quote, confirm, refund, cancel, look up a card
)

// APIKey is a bearer key. Only its hash is stored; the secret is shown once.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
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
func (s *Service) CreateKey(ctx context.Context, name, role, secret string, expires *time.Time) (APIKey, error) {
	var pr Problems
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 || !CleanText(name) {
		pr.Add("name", "is required: at most 100 characters of text without control characters")
	}
	if role != RoleAdmin && role != RolePOS {
		pr.Add("role", `must be "admin" or "pos"`)
	}
	if expires != nil && !expires.After(s.now()) {
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
	k := APIKey{ID: s.newID(), Name: name, Role: role, Hash: HashKey(secret), Prefix: secret[:min(8, len(secret))],
		CreatedAt: s.now(), ExpiresAt: expires}
	if err := s.Store.Update(ctx, func(tx Tx) error { return tx.InsertKey(ctx, k) }); err != nil {
		return APIKey{}, err
	}
	k.Secret = secret
	return k, nil
}

// Authenticate returns the live key with this secret, or EUNAUTHORIZED.
func (s *Service) Authenticate(ctx context.Context, secret string) (APIKey, error) {
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
	_, err = s.CreateKey(ctx, name, RoleAdmin, secret, nil)
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
