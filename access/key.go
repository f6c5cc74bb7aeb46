package access

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kopilka/kopilka"
)

// CreateKey makes a key with a new random secret (or the given one, for the
// bootstrap key) and returns it with the secret.
func (s *Service) CreateKey(ctx context.Context, k kopilka.APIKey, secret string) (_ kopilka.APIKey, err error) {
	a := Begin(ctx, s.Env, KeysCreate, "")
	defer func() { err = Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return kopilka.APIKey{}, err
	}
	var pr kopilka.Problems
	k.Name = strings.TrimSpace(k.Name)
	if k.Name == "" || len(k.Name) > 100 || !kopilka.CleanText(k.Name) {
		pr.Add("name", "is required: at most 100 characters of text without control characters")
	}
	partnerRole := k.Role == kopilka.RolePOS || k.Role == kopilka.RolePartnerAdmin
	switch {
	case !slices.Contains(kopilka.KeyRoles, k.Role):
		pr.Add("role", "must be one of "+strings.Join(kopilka.KeyRoles, ", "))
	case k.Role == kopilka.RolePartnerAdmin && k.PartnerID == "":
		pr.Add("partner_id", "is required for a partner-admin key")
	case k.PartnerID != "" && !partnerRole:
		pr.Add("partner_id", "only pos and partner-admin keys belong to a partner")
	case len(k.StoreIDs) > 0 && k.PartnerID == "":
		pr.Add("store_ids", "needs partner_id: the stores must be the partner's")
	}
	kopilka.CheckList(&pr, "store_ids", k.StoreIDs)
	if k.ExpiresAt != nil && !k.ExpiresAt.After(s.Env.Time()) {
		pr.Add("expires_at", "must be in the future")
	}
	if err := pr.Err(); err != nil {
		return kopilka.APIKey{}, err
	}
	if secret == "" {
		var b [24]byte
		if _, err := io.ReadFull(s.Env.Random, b[:]); err != nil {
			return kopilka.APIKey{}, err
		}
		secret = kopilka.KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	}
	k.ID, k.Hash, k.Prefix, k.CreatedAt = s.Env.NewID(), kopilka.HashKey(secret), secret[:min(8, len(secret))], s.Env.Time()
	k.RevokedAt, k.LastUsedAt = nil, nil
	err = s.DB.Update(ctx, func(tx Tx) error {
		if k.PartnerID != "" {
			if _, err := tx.Partner(ctx, k.PartnerID); kopilka.ErrorCode(err) == kopilka.ENOTFOUND {
				return kopilka.Invalid("partner_id", "no partner has this id")
			} else if err != nil {
				return err
			}
		}
		for i, id := range k.StoreIDs {
			o, err := tx.Store(ctx, id)
			if kopilka.ErrorCode(err) == kopilka.ENOTFOUND || err == nil && o.PartnerID != k.PartnerID {
				return kopilka.Invalid(fmt.Sprintf("store_ids[%d]", i), "no store of partner "+k.PartnerID+" has this id")
			} else if err != nil {
				return err
			}
		}
		if err := tx.InsertKey(ctx, k); err != nil {
			return err
		}
		a.SetTarget(k.ID)
		shown := k // as the answer shows it; the log keeps "(removed)" for the secret
		shown.Secret = secret
		return a.Record(ctx, tx, nil, shown)
	})
	if err != nil {
		return kopilka.APIKey{}, err
	}
	k.Secret = secret
	return k, nil
}

// Authenticate returns who holds this secret: a live key, an operator's or
// a member's live session, or EUNAUTHORIZED.
func (s *Service) Authenticate(ctx context.Context, secret string) (kopilka.Principal, error) {
	if strings.HasPrefix(secret, OperatorTokenPrefix) || strings.HasPrefix(secret, MemberTokenPrefix) {
		return s.sessionPrincipal(ctx, secret)
	}
	k, err := s.liveKey(ctx, secret)
	if err != nil {
		return kopilka.Principal{}, err
	}
	return kopilka.Principal{Kind: "key", ID: k.ID, Name: k.Name, Role: k.Role, PartnerID: k.PartnerID, StoreIDs: k.StoreIDs}, nil
}

// liveKey returns the live key with this secret, or EUNAUTHORIZED.
func (s *Service) liveKey(ctx context.Context, secret string) (kopilka.APIKey, error) {
	var k kopilka.APIKey
	err := s.DB.View(ctx, func(tx Tx) (err error) {
		k, err = tx.KeyByHash(ctx, kopilka.HashKey(secret))
		return err
	})
	if kopilka.ErrorCode(err) == kopilka.ENOTFOUND {
		return kopilka.APIKey{}, kopilka.Errorf(kopilka.EUNAUTHORIZED, "the API key is not valid")
	} else if err != nil {
		return kopilka.APIKey{}, err
	}
	now := s.Env.Time()
	if k.RevokedAt != nil || (k.ExpiresAt != nil && !k.ExpiresAt.After(now)) {
		return kopilka.APIKey{}, kopilka.Errorf(kopilka.EUNAUTHORIZED, "the API key was revoked or has expired")
	}
	return k, nil
}

// TouchKey records that a key was used.
func (s *Service) TouchKey(ctx context.Context, id string) error {
	return s.DB.Update(ctx, func(tx Tx) error { return tx.TouchKey(ctx, id, s.Env.Time()) })
}

// Keys lists every key without secrets.
func (s *Service) Keys(ctx context.Context) (ks []kopilka.APIKey, err error) {
	if err := Allow(ctx, KeysList); err != nil {
		return nil, err
	}
	return s.keys(ctx)
}

func (s *Service) keys(ctx context.Context) (ks []kopilka.APIKey, err error) {
	err = s.DB.View(ctx, func(tx Tx) error {
		ks, err = tx.Keys(ctx)
		return err
	})
	return ks, err
}

// RevokeKey stops a key at once; an unknown key is ENOTFOUND.
func (s *Service) RevokeKey(ctx context.Context, id string) (err error) {
	a := Begin(ctx, s.Env, KeysRevoke, id)
	defer func() { err = Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return err
	}
	return s.DB.Update(ctx, func(tx Tx) error {
		ks, err := tx.Keys(ctx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(ks, func(k kopilka.APIKey) bool { return k.ID == id })
		if i < 0 {
			return kopilka.Errorf(kopilka.ENOTFOUND, "no key has this id")
		}
		now := s.Env.Time()
		if err := tx.RevokeKey(ctx, id, now); err != nil {
			return err
		}
		after := ks[i]
		if after.RevokedAt == nil {
			after.RevokedAt = &now
		}
		return a.Record(ctx, tx, ks[i], after)
	})
}

// EnsureKey stores the key with this secret as admin unless it exists;
// it reports whether it created one.
func (s *Service) EnsureKey(ctx context.Context, name, secret string) (bool, error) {
	_, err := s.Authenticate(ctx, secret)
	if err == nil {
		return false, nil
	}
	if kopilka.ErrorCode(err) != kopilka.EUNAUTHORIZED {
		return false, err
	}
	_, err = s.CreateKey(ctx, kopilka.APIKey{Name: name, Role: kopilka.RoleAdmin}, secret)
	if kopilka.ErrorCode(err) == kopilka.ECONFLICT {
		return false, nil // the key exists but was revoked or expired: it stays so
	}
	return err == nil, err
}

// HasKeys reports whether any key exists.
func (s *Service) HasKeys(ctx context.Context) (bool, error) {
	ks, err := s.keys(ctx)
	return len(ks) > 0, err
}
