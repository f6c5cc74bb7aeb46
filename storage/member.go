package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
)

func (t *Tx) Programme(ctx context.Context) (kopilka.Programme, error) {
	var raw string
	if t.locking {
		// A row to lock, so that two changes of the settings queue up.
		def, _ := json.Marshal(kopilka.DefaultProgramme())
		if _, err := t.execNow(ctx, `INSERT INTO programme (id, settings, updated_at) VALUES (1, $1, 0)
			ON CONFLICT (id) DO NOTHING`, string(def)); err != nil {
			return kopilka.Programme{}, fmt.Errorf("programme: %w", err)
		}
	}
	err := t.row(ctx, `SELECT settings FROM programme WHERE id = 1`+t.lock()).Scan(&raw)
	if err == sql.ErrNoRows {
		return kopilka.DefaultProgramme(), nil
	} else if err != nil {
		return kopilka.Programme{}, fmt.Errorf("programme: %w", err)
	}
	p := kopilka.DefaultProgramme()
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return kopilka.Programme{}, fmt.Errorf("programme: %w", err)
	}
	return p, nil
}

func (t *Tx) SetProgramme(ctx context.Context, p kopilka.Programme) error {
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = t.execNow(ctx, `INSERT INTO programme (id, settings, updated_at) VALUES (1, $1, $2)
		ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
		string(raw), micros(p.UpdatedAt))
	return t.mapErr(err, "programme")
}

// memberArgs are the member's columns after id, in memberColumns' order.
func memberArgs(m kopilka.Member) []any {
	consents, _ := json.Marshal(m.Consents)
	tags, _ := json.Marshal(nonNil(m.Tags))
	cats, _ := json.Marshal(nonNil(m.Categories))
	var md any
	if len(m.BirthDate) == 10 {
		md = m.BirthDate[5:]
	}
	var year any
	if m.BirthdayYear > 0 {
		year = m.BirthdayYear
	}
	return []any{nullString(m.Phone), nullString(m.Email), m.Name, nullString(m.BirthDate), string(consents), m.Status,
		boolInt(m.PhoneVerified), boolInt(m.EmailVerified), string(tags), nullString(m.ReferredBy), m.Tier,
		ptrMicros(m.TierReviewAt), string(cats), ptrMicros(m.CategoriesAt), md, year}
}

const memberColumns = `phone, email, name, birth_date, consents, status, phone_verified, email_verified, tags,
	referred_by, tier, tier_review_at, categories, categories_at, birth_md, birthday_year`

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (t *Tx) InsertMember(ctx context.Context, m kopilka.Member) error {
	args := append([]any{m.ID, micros(m.CreatedAt)}, memberArgs(m)...)
	_, err := t.execNow(ctx, `INSERT INTO members (id, created_at, `+memberColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`, args...)
	if err != nil {
		return t.mapErr(err, "member")
	}
	_, err = t.execNow(ctx, `INSERT INTO balances (member_id, available, pending) VALUES ($1, 0, 0)`, m.ID)
	return t.mapErr(err, "balance")
}

func (t *Tx) UpdateMember(ctx context.Context, m kopilka.Member) error {
	args := append([]any{m.ID}, memberArgs(m)...)
	n, err := t.execNow(ctx, `UPDATE members SET phone = $2, email = $3, name = $4, birth_date = $5, consents = $6,
		status = $7, phone_verified = $8, email_verified = $9, tags = $10, referred_by = $11, tier = $12,
		tier_review_at = $13, categories = $14, categories_at = $15, birth_md = $16, birthday_year = $17
		WHERE id = $1`, args...)
	if err != nil {
		return t.mapErr(err, "member")
	}
	return mustAffect(n, "member")
}

func mustAffect(n int64, what string) error {
	if n == 0 {
		return kopilka.Errorf(kopilka.ENOTFOUND, "%s not found", what)
	}
	return nil
}

func (t *Tx) Member(ctx context.Context, id string) (kopilka.Member, error) {
	var m kopilka.Member
	var phone, email, birth, referrer, md sql.NullString
	var consents, tags, cats string
	var created, phoneOK, emailOK int64
	var review, catsAt, year sql.NullInt64
	err := t.row(ctx, `SELECT id, created_at, `+memberColumns+`
		FROM members WHERE id = $1`+t.lock(), id).
		Scan(&m.ID, &created, &phone, &email, &m.Name, &birth, &consents, &m.Status, &phoneOK, &emailOK, &tags,
			&referrer, &m.Tier, &review, &cats, &catsAt, &md, &year)
	if err != nil {
		return m, notFound(err, "member")
	}
	m.Phone, m.Email, m.BirthDate, m.CreatedAt = phone.String, email.String, birth.String, fromMicros(created)
	m.PhoneVerified, m.EmailVerified, m.ReferredBy = phoneOK == 1, emailOK == 1, referrer.String
	m.TierReviewAt, m.CategoriesAt, m.BirthdayYear = fromPtrMicros(review), fromPtrMicros(catsAt), int(year.Int64)
	for _, f := range []struct {
		raw string
		dst any
	}{{consents, &m.Consents}, {tags, &m.Tags}, {cats, &m.Categories}} {
		if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
			return m, fmt.Errorf("member %s: %w", id, err)
		}
	}
	rows, err := t.query(ctx, `SELECT number, member_id, kind, status, replaced_by, created_at
		FROM cards WHERE member_id = $1 ORDER BY created_at, number`, id)
	if err != nil {
		return m, fmt.Errorf("cards: %w", err)
	}
	defer rows.Close()
	m.Cards = []kopilka.Card{}
	for rows.Next() {
		c, err := scanCard(rows)
		if err != nil {
			return m, err
		}
		m.Cards = append(m.Cards, c)
	}
	return m, rows.Err()
}

func scanCard(s Scanner) (kopilka.Card, error) {
	var c kopilka.Card
	var replaced sql.NullString
	var created int64
	if err := s.Scan(&c.Number, &c.MemberID, &c.Kind, &c.Status, &replaced, &created); err != nil {
		return c, err
	}
	c.ReplacedBy, c.CreatedAt = replaced.String, fromMicros(created)
	return c, nil
}

func (t *Tx) MemberIDBy(ctx context.Context, key, value string) (string, error) {
	var q string
	switch key {
	case "phone":
		q = `SELECT id FROM members WHERE phone = $1`
	case "email":
		q = `SELECT id FROM members WHERE email = $1`
	case "card":
		q = `SELECT member_id FROM cards WHERE number = $1`
	default:
		return "", kopilka.Invalid(key, "search by phone, email or card")
	}
	var id string
	err := t.row(ctx, q, value).Scan(&id)
	return id, notFound(err, "member")
}

func (t *Tx) InsertCard(ctx context.Context, c kopilka.Card) error {
	_, err := t.execNow(ctx, `INSERT INTO cards (number, member_id, kind, status, replaced_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.Number, c.MemberID, c.Kind, c.Status, nullString(c.ReplacedBy), micros(c.CreatedAt))
	return t.mapErr(err, "card")
}

func (t *Tx) UpdateCard(ctx context.Context, c kopilka.Card) error {
	n, err := t.execNow(ctx, `UPDATE cards SET status = $2, replaced_by = $3 WHERE number = $1`,
		c.Number, c.Status, nullString(c.ReplacedBy))
	if err != nil {
		return t.mapErr(err, "card")
	}
	return mustAffect(n, "card")
}

func (t *Tx) Card(ctx context.Context, number string) (kopilka.Card, error) {
	c, err := scanCard(t.row(ctx, `SELECT number, member_id, kind, status, replaced_by, created_at
		FROM cards WHERE number = $1`+t.lock(), number))
	return c, notFound(err, "card")
}

func (t *Tx) InsertKey(ctx context.Context, k kopilka.APIKey) error {
	stores, _ := json.Marshal(nonNil(k.StoreIDs))
	_, err := t.execNow(ctx, `INSERT INTO api_keys (id, name, role, hash, prefix, created_at, expires_at, partner_id, store_ids)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, k.ID, k.Name, k.Role, k.Hash, k.Prefix, micros(k.CreatedAt), ptrMicros(k.ExpiresAt),
		nullString(k.PartnerID), string(stores))
	return t.mapErr(err, "api key")
}

const keyColumns = `id, name, role, hash, prefix, created_at, expires_at, revoked_at, last_used_at, partner_id, store_ids`

func scanKey(s Scanner) (kopilka.APIKey, error) {
	var k kopilka.APIKey
	var created int64
	var expires, revoked, used sql.NullInt64
	var partner sql.NullString
	var stores string
	if err := s.Scan(&k.ID, &k.Name, &k.Role, &k.Hash, &k.Prefix, &created, &expires, &revoked, &used, &partner, &stores); err != nil {
		return k, err
	}
	k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt = fromMicros(created), fromPtrMicros(expires), fromPtrMicros(revoked), fromPtrMicros(used)
	k.PartnerID = partner.String
	if err := json.Unmarshal([]byte(stores), &k.StoreIDs); err != nil {
		return k, err
	}
	if len(k.StoreIDs) == 0 {
		k.StoreIDs = nil
	}
	return k, nil
}

func (t *Tx) KeyByHash(ctx context.Context, hash string) (kopilka.APIKey, error) {
	k, err := scanKey(t.row(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = $1`, hash))
	return k, notFound(err, "api key")
}

func (t *Tx) Keys(ctx context.Context) ([]kopilka.APIKey, error) {
	rows, err := t.query(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_at, id`)
	return collect(rows, err, "api keys", scanKey)
}

func (t *Tx) RevokeKey(ctx context.Context, id string, at time.Time) error {
	n, err := t.execNow(ctx, `UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, micros(at))
	if err != nil {
		return err
	}
	return mustAffect(n, "live api key")
}

func (t *Tx) TouchKey(ctx context.Context, id string, at time.Time) error {
	_, err := t.execNow(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, id, micros(at))
	return err
}

func (t *Tx) BirthdayMembers(ctx context.Context, days []string, year, limit int) ([]string, error) {
	if len(days) == 0 {
		return nil, nil
	}
	args := []any{year, limit}
	marks := make([]string, len(days))
	for i, d := range days {
		args = append(args, d)
		marks[i] = fmt.Sprintf("$%d", i+3)
	}
	return t.ids(ctx, `SELECT id FROM members WHERE birth_md IN (`+strings.Join(marks, ", ")+`)
		AND status = 'active' AND (birthday_year IS NULL OR birthday_year < $1) ORDER BY id LIMIT $2`, args...)
}

func (t *Tx) TierReviews(ctx context.Context, now time.Time, limit int) ([]string, error) {
	return t.ids(ctx, `SELECT id FROM members WHERE tier_review_at IS NOT NULL AND tier_review_at <= $1
		ORDER BY tier_review_at, id LIMIT $2`, micros(now), limit)
}

// ids runs a query that returns one text column.
func (t *Tx) ids(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
