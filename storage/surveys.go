package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/surveys"
)

func (t *Tx) PutSurvey(ctx context.Context, s surveys.Survey) error {
	attrs, _ := json.Marshal(nonNil(s.Attributes))
	_, err := t.execNow(ctx, `INSERT INTO surveys (id, kind, after_kind, question, attributes, bonus_points, sample_percent, valid_days, enabled, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, after_kind = excluded.after_kind, question = excluded.question,
			attributes = excluded.attributes, bonus_points = excluded.bonus_points, sample_percent = excluded.sample_percent,
			valid_days = excluded.valid_days, enabled = excluded.enabled, updated_at = excluded.updated_at`,
		s.ID, s.Kind, s.After, s.Question, string(attrs), s.BonusPoints, int64(s.SamplePercent), s.ValidDays, boolInt(s.Enabled), micros(s.UpdatedAt))
	return t.mapErr(err, "survey")
}

func (t *Tx) Surveys(ctx context.Context) ([]surveys.Survey, error) {
	rows, err := t.query(ctx, `SELECT id, kind, after_kind, question, attributes, bonus_points, sample_percent, valid_days, enabled, updated_at
		FROM surveys ORDER BY id LIMIT 1000`)
	return collect(rows, err, "surveys", func(s Scanner) (surveys.Survey, error) {
		var v surveys.Survey
		var attrs string
		var pct, enabled, updated int64
		if err := s.Scan(&v.ID, &v.Kind, &v.After, &v.Question, &attrs, &v.BonusPoints, &pct, &v.ValidDays, &enabled, &updated); err != nil {
			return v, err
		}
		v.SamplePercent, v.Enabled, v.UpdatedAt = kopilka.Percent(pct), enabled == 1, fromMicros(updated)
		return v, json.Unmarshal([]byte(attrs), &v.Attributes)
	})
}

func (t *Tx) Subjects(ctx context.Context, surveyID, after string, since time.Time, limit int) ([]surveys.Subject, error) {
	q := `SELECT p.partner_id || '/' || p.receipt_id, p.member_id, p.partner_id, p.store_id, p.occurred_at FROM purchases p
		WHERE p.occurred_at >= $2 AND p.member_id <> '' AND p.status IN ('confirmed', 'refunded') AND p.request_hash NOT LIKE 'import:%'
			AND NOT EXISTS (SELECT 1 FROM survey_invitations i WHERE i.survey_id = $1 AND i.subject_kind = 'purchase'
				AND i.subject_id = p.partner_id || '/' || p.receipt_id)
		ORDER BY p.occurred_at LIMIT $3`
	if after == surveys.AfterCase {
		q = `SELECT c.id, c.member_id, c.partner_id, '', c.resolved_at FROM cases c
			WHERE c.status = 'resolved' AND c.resolved_at >= $2
				AND NOT EXISTS (SELECT 1 FROM survey_invitations i WHERE i.survey_id = $1 AND i.subject_kind = 'case' AND i.subject_id = c.id)
			ORDER BY c.resolved_at LIMIT $3`
	}
	rows, err := t.query(ctx, q, surveyID, micros(since), limit)
	return collect(rows, err, "survey subjects", func(s Scanner) (surveys.Subject, error) {
		var v surveys.Subject
		var at int64
		err := s.Scan(&v.ID, &v.MemberID, &v.PartnerID, &v.StoreID, &at)
		v.At = fromMicros(at)
		return v, err
	})
}

const invitationColumns = `id, survey_id, kind, question, attributes, member_id, subject_kind, subject_id, partner_id, store_id,
	sent_at, expires_at, answered_at, scores, comment, bonus`

func (t *Tx) InsertInvitation(ctx context.Context, v surveys.Invitation) error {
	attrs, _ := json.Marshal(nonNil(v.Attributes))
	_, err := t.execNow(ctx, `INSERT INTO survey_invitations (`+invitationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, '[]', '', 0)`,
		v.ID, v.SurveyID, v.Kind, v.Question, string(attrs), v.MemberID, v.SubjectKind, v.SubjectID, v.PartnerID, v.StoreID,
		micros(v.SentAt), micros(v.ExpiresAt))
	return t.mapErr(err, "survey invitation")
}

func scanInvitation(s Scanner) (surveys.Invitation, error) {
	var v surveys.Invitation
	var attrs, scores string
	var sent, expires int64
	var answered sql.NullInt64
	if err := s.Scan(&v.ID, &v.SurveyID, &v.Kind, &v.Question, &attrs, &v.MemberID, &v.SubjectKind, &v.SubjectID, &v.PartnerID, &v.StoreID,
		&sent, &expires, &answered, &scores, &v.Comment, &v.Bonus); err != nil {
		return v, err
	}
	v.SentAt, v.ExpiresAt, v.AnsweredAt = fromMicros(sent), fromMicros(expires), fromPtrMicros(answered)
	if err := json.Unmarshal([]byte(attrs), &v.Attributes); err != nil {
		return v, err
	}
	return v, json.Unmarshal([]byte(scores), &v.Scores)
}

func (t *Tx) Invitation(ctx context.Context, id string) (surveys.Invitation, error) {
	v, err := scanInvitation(t.row(ctx, `SELECT `+invitationColumns+` FROM survey_invitations WHERE id = $1`, id))
	return v, notFound(err, "survey invitation")
}

func (t *Tx) MemberInvitations(ctx context.Context, memberID string, since time.Time) ([]surveys.Invitation, error) {
	rows, err := t.query(ctx, `SELECT `+invitationColumns+` FROM survey_invitations WHERE member_id = $1 AND sent_at >= $2
		ORDER BY sent_at DESC, id LIMIT 50`, memberID, micros(since))
	return collect(rows, err, "survey invitations", scanInvitation)
}

func (t *Tx) AnswerInvitation(ctx context.Context, v surveys.Invitation) (bool, error) {
	scores, _ := json.Marshal(v.Scores)
	n, err := t.execNow(ctx, `UPDATE survey_invitations SET answered_at = $2, scores = $3, comment = $4, bonus = $5
		WHERE id = $1 AND answered_at IS NULL`, v.ID, ptrMicros(v.AnsweredAt), string(scores), v.Comment, v.Bonus)
	if err != nil {
		return false, t.mapErr(err, "survey invitation")
	}
	return n == 1, nil
}

func (t *Tx) Invitations(ctx context.Context, surveyID string, from, to time.Time, fn func(surveys.Invitation) error) error {
	rows, err := t.query(ctx, `SELECT `+invitationColumns+` FROM survey_invitations WHERE survey_id = $1 AND sent_at >= $2 AND sent_at < $3`,
		surveyID, micros(from), micros(to))
	if err != nil {
		return fmt.Errorf("survey invitations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scanInvitation(rows)
		if err != nil {
			return fmt.Errorf("survey invitations: %w", err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (t *Tx) SurveyInvited(ctx context.Context, id string) (bool, error) {
	ids, err := t.ids(ctx, `SELECT id FROM survey_invitations WHERE survey_id = $1 LIMIT 1`, id)
	return len(ids) > 0, err
}
