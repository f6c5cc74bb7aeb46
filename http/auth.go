package http

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// Sign-in: operators by password, members by one-time code; both get a
// bearer token that the API reads like a key.

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in loginJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	sess, o, err := s.App.Access.Login(r.Context(), in.Email, in.Password)
	if err != nil {
		if e, ok := err.(*kopilka.Error); ok && e.Code == kopilka.ELOCKED {
			if until, err := time.Parse(time.RFC3339, e.Extra["locked_until"].(string)); err == nil {
				w.Header().Set("Retry-After", strconv.Itoa(max(1, int(time.Until(until).Seconds()+0.999))))
			}
		} else if ok && e.Code == kopilka.ERATELIMIT {
			if secs, ok := e.Extra["retry_after"].(int); ok {
				w.Header().Set("Retry-After", strconv.Itoa(secs))
			}
		}
		return err
	}
	writeJSON(w, http.StatusOK, operatorSession{Token: sess.Token, ExpiresAt: sess.ExpiresAt, Operator: o})
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
	writeJSON(w, http.StatusOK, whoamiJSON{Kind: p.Kind, ID: p.ID, Name: p.Name, Role: p.Role,
		PartnerID: p.PartnerID, StoreIDs: p.StoreIDs, MemberID: p.MemberID})
	return nil
}

type codeJSON struct {
	Phone string `json:"phone"`
	Email string `json:"email"`
	Code  string `json:"code"`
}

func (s *Server) sendCode(w http.ResponseWriter, r *http.Request) error {
	var in codeRequestJSON // a "code" is refused: it goes to /v1/auth/otp/verify
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.App.Access.SendCode(r.Context(), in.Phone, in.Email); err != nil {
		if e, ok := err.(*kopilka.Error); ok && e.Code == kopilka.ERATELIMIT {
			w.Header().Set("Retry-After", strconv.Itoa(e.Extra["retry_after"].(int)))
		}
		return err
	}
	writeJSON(w, http.StatusAccepted, codeSent{Sent: true, ExpiresIn: int(access.OTPLifetime.Seconds()),
		Detail: "if a member has this phone or e-mail, a code is on its way"})
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
	writeJSON(w, http.StatusOK, memberSession{Token: sess.Token, ExpiresAt: sess.ExpiresAt, MemberID: sess.SubjectID})
	return nil
}
