package http

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// Operators log in with a password; members with a one-time code. Both
// get a bearer token that the API reads like a key.

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	// The audit log names who tried, even when the attempt fails.
	sess, o, err := s.App.Access.Login(r.Context(), in.Email, in.Password)
	if err != nil {
		if e, ok := err.(*kopilka.Error); ok && e.Code == kopilka.ELOCKED {
			if until, err := time.Parse(time.RFC3339, e.Extra["locked_until"].(string)); err == nil {
				w.Header().Set("Retry-After", strconv.Itoa(max(1, int(time.Until(until).Seconds()+0.999))))
			}
		}
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": sess.Token, "expires_at": sess.ExpiresAt, "operator": o})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	secret, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !strings.HasPrefix(secret, access.OperatorTokenPrefix) && !strings.HasPrefix(secret, access.MemberTokenPrefix) {
		return kopilka.Errorf(kopilka.EINVALID, "only a session token can log out; revoke a key with DELETE /v1/keys/{id}")
	}
	if err := s.App.Access.Logout(r.Context(), secret); err != nil {
		return err
	}
	s.keyMu.Lock()
	delete(s.keys, kopilka.HashKey(secret))
	s.keyMu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) error {
	p, err := s.App.Access.Whoami(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": p.Kind, "id": p.ID, "name": p.Name, "role": p.Role,
		"partner_id": p.PartnerID, "store_ids": p.StoreIDs, "member_id": p.MemberID})
	return nil
}

type codeJSON struct {
	Phone string `json:"phone"`
	Email string `json:"email"`
	Code  string `json:"code"`
}

func (s *Server) sendCode(w http.ResponseWriter, r *http.Request) error {
	var in codeJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Code != "" {
		return kopilka.Invalid("code", "is not sent here: POST it to /v1/auth/otp/verify")
	}
	if err := s.App.Access.SendCode(r.Context(), in.Phone, in.Email); err != nil {
		var notSent *access.NotSentError
		switch e, ok := err.(*kopilka.Error); {
		case errors.As(err, &notSent):
			// Answered as if sent: a failure only for members would tell who is one.
			s.Logger.Error("one-time code not sent", "err", notSent.Err, "channel", notSent.Channel, "request_id", requestID(r.Context()))
		case ok && e.Code == kopilka.ERATELIMIT:
			w.Header().Set("Retry-After", strconv.Itoa(e.Extra["retry_after"].(int)))
			return err
		default:
			return err
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"sent": true, "expires_in": int(access.OTPLifetime.Seconds()),
		"detail": "if a member has this phone or e-mail, a code is on its way"})
	return nil
}

func (s *Server) verifyCode(w http.ResponseWriter, r *http.Request) error {
	var in codeJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	sess, err := s.App.Access.VerifyCode(r.Context(), in.Phone, in.Email, in.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": sess.Token, "expires_at": sess.ExpiresAt, "member_id": sess.SubjectID})
	return nil
}

// The member app's routes: the member's own, and nothing else.

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	m, err := s.App.Members.Me(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) myBalance(w http.ResponseWriter, r *http.Request) error {
	b, err := s.App.Ledger.MyBalance(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (s *Server) myTransactions(w http.ResponseWriter, r *http.Request) error {
	return s.history(w, r, func(cur *kopilka.Cursor, limit int) ([]kopilka.Transaction, *kopilka.Cursor, error) {
		return s.App.Ledger.MyHistory(r.Context(), cur, limit)
	})
}

func (s *Server) listOperators(w http.ResponseWriter, r *http.Request) error {
	os, err := s.App.Access.Operators(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": os})
	return nil
}

func (s *Server) createOperator(w http.ResponseWriter, r *http.Request) error {
	var in access.OperatorInput
	if err := decode(r, &in); err != nil {
		return err
	}
	o, err := s.App.Access.CreateOperator(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/operators/"+o.ID)
	writeJSON(w, http.StatusCreated, o)
	return nil
}

func (s *Server) getOperator(w http.ResponseWriter, r *http.Request) error {
	o, err := s.App.Access.Operator(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) patchOperator(w http.ResponseWriter, r *http.Request) error {
	var in access.OperatorInput
	if err := decode(r, &in); err != nil {
		return err
	}
	o, err := s.App.Access.UpdateOperator(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	s.forgetPrincipals() // a disabled operator or a changed role counts at once here
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) unlockOperator(w http.ResponseWriter, r *http.Request) error {
	o, err := s.App.Access.UnlockOperator(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

// forgetPrincipals drops this instance's cache of checked keys and sessions.
func (s *Server) forgetPrincipals() {
	s.keyMu.Lock()
	clear(s.keys)
	s.keyMu.Unlock()
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := kopilka.AuditFilter{ActorID: q.Get("actor_id"), Action: q.Get("action"), Target: q.Get("target"), PartnerID: q.Get("partner_id")}
	for _, b := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(b.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return kopilka.Invalid(b.name, "must be a time in RFC 3339")
			}
			*b.dst = t
		}
	}
	var err error
	if f.Limit, err = queryInt(r, "limit", 100); err != nil {
		return err
	}
	if f.Before, err = decodeCursor(q.Get("cursor")); err != nil {
		return err
	}
	items, next, err := s.App.Access.Audit(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": encodeCursor(next)})
	return nil
}
