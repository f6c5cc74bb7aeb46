package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// statuses maps each error code to its HTTP status: the one place where
// the domain's errors meet HTTP.
var statuses = map[kopilka.Code]int{
	kopilka.EINVALID:       http.StatusUnprocessableEntity,
	kopilka.EMALFORMED:     http.StatusBadRequest,
	kopilka.ENOTFOUND:      http.StatusNotFound,
	kopilka.ECONFLICT:      http.StatusConflict,
	kopilka.EINSUFFICIENT:  http.StatusUnprocessableEntity,
	kopilka.ESPENDLIMIT:    http.StatusUnprocessableEntity,
	kopilka.EPOINTSCAP:     http.StatusUnprocessableEntity,
	kopilka.ERECEIPT:       http.StatusConflict,
	kopilka.EUNKNOWNCARD:   http.StatusUnprocessableEntity,
	kopilka.EBLOCKEDCARD:   http.StatusUnprocessableEntity,
	kopilka.EBLOCKEDMEMBER: http.StatusUnprocessableEntity,
	kopilka.ESTATE:         http.StatusConflict,
	kopilka.EIDEMPOTENCY:   http.StatusConflict,
	kopilka.EUNAUTHORIZED:  http.StatusUnauthorized,
	kopilka.EFORBIDDEN:     http.StatusForbidden,
	kopilka.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	kopilka.ETIMEOUT:       http.StatusRequestTimeout,
	kopilka.EMETHOD:        http.StatusMethodNotAllowed,
	kopilka.EINTERNAL:      http.StatusInternalServerError,
	kopilka.EUNAVAILABLE:   http.StatusServiceUnavailable,
	kopilka.ERATELIMIT:     http.StatusTooManyRequests,
	kopilka.EUNKNOWNSTORE:  http.StatusUnprocessableEntity,
	kopilka.ESTORECLOSED:   http.StatusUnprocessableEntity,
	kopilka.ELOCKED:        http.StatusLocked,
}

// titles are the short, fixed summaries of each problem type.
var titles = map[kopilka.Code]string{
	kopilka.EINVALID:       "A field of the request is invalid",
	kopilka.EMALFORMED:     "The request body is not valid JSON of the expected shape",
	kopilka.ENOTFOUND:      "Not found",
	kopilka.ECONFLICT:      "Conflicts with existing data",
	kopilka.EINSUFFICIENT:  "Not enough points",
	kopilka.ESPENDLIMIT:    "Points may not pay that much of this receipt",
	kopilka.EPOINTSCAP:     "More points than the programme's cap",
	kopilka.ERECEIPT:       "A different request was made with this id",
	kopilka.EUNKNOWNCARD:   "Unknown card",
	kopilka.EBLOCKEDCARD:   "The card is blocked",
	kopilka.EBLOCKEDMEMBER: "The member is blocked",
	kopilka.ESTATE:         "The purchase does not allow this",
	kopilka.EIDEMPOTENCY:   "The idempotency key was used for a different request",
	kopilka.EUNAUTHORIZED:  "Missing or invalid API key or session token",
	kopilka.EFORBIDDEN:     "The caller's role may not do this",
	kopilka.ETOOLARGE:      "The request body is too large",
	kopilka.ETIMEOUT:       "The request body did not arrive in time",
	kopilka.EMETHOD:        "The path does not take this method",
	kopilka.EINTERNAL:      "Internal error",
	kopilka.EUNAVAILABLE:   "The service is unavailable",
	kopilka.ERATELIMIT:     "Too many requests",
	kopilka.EUNKNOWNSTORE:  "Unknown store",
	kopilka.ESTORECLOSED:   "The store is closed",
	kopilka.ELOCKED:        "The account is locked",
}

// ProblemTypeBase prefixes every problem type; docs/problems.md describes each.
const ProblemTypeBase = "https://github.com/kopilka/kopilka/blob/main/docs/problems.md#"

// Problem is an RFC 9457 problem document with Kopilka's extensions.
type Problem struct {
	Type      string               `json:"type"`
	Title     string               `json:"title"`
	Status    int                  `json:"status"`
	Detail    string               `json:"detail,omitempty"`
	Instance  string               `json:"instance,omitempty"`
	RequestID string               `json:"request_id,omitempty"`
	Code      kopilka.Code         `json:"code"`
	Errors    []kopilka.FieldError `json:"errors,omitempty"`
	Extra     map[string]any       `json:"-"`
}

// MarshalJSON writes the extension members beside the standard ones.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	b, err := json.Marshal(plain(p))
	if err != nil || len(p.Extra) == 0 {
		return b, err
	}
	m := map[string]any{}
	for k, v := range p.Extra {
		m[k] = v
	}
	var std map[string]any
	if err := json.Unmarshal(b, &std); err != nil {
		return nil, err
	}
	for k, v := range std {
		m[k] = v
	}
	return json.Marshal(m)
}

// StatusOf returns the HTTP status of an error.
func StatusOf(err error) int {
	if s, ok := statuses[kopilka.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// writeError writes err as problem+json. Internal errors are logged with the
// request id and shown to the client only as "internal".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var rec *access.RecordError
	if errors.As(err, &rec) {
		s.Logger.ErrorContext(r.Context(), "audit log: could not record a refused or failed write", "err", rec.Record,
			"route", r.Pattern, "path", r.URL.Path, "request_id", requestID(r.Context()))
		s.auditFailures.Inc()
	}
	code := kopilka.ErrorCode(err)
	var maxErr *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &maxErr):
		code, err = kopilka.ETOOLARGE, kopilka.Errorf(kopilka.ETOOLARGE, "the body is over %d bytes", maxErr.Limit)
	case errors.Is(err, context.DeadlineExceeded) && r.Context().Err() != nil:
		// The server's bound on a request's work, not a fault: a warning.
		s.Logger.WarnContext(r.Context(), "request stopped at the server's time limit", "path", r.URL.Path, "request_id", requestID(r.Context()))
		code, err = kopilka.EUNAVAILABLE, kopilka.Errorf(kopilka.EUNAVAILABLE, "the request took longer than the server allows (%s); retry it with the same ids (a confirmation, refund or adjustment never posts twice)", s.Timeout)
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		// The client's slowness, not the server's fault: a warning.
		s.Logger.WarnContext(r.Context(), "request body timed out", "path", r.URL.Path, "request_id", requestID(r.Context()))
		code, err = kopilka.ETIMEOUT, kopilka.Errorf(kopilka.ETIMEOUT, "the request body did not arrive within the server's read timeout")
	}
	status := StatusOf(err)
	if code == kopilka.ETOOLARGE {
		status = http.StatusRequestEntityTooLarge
	}
	p := Problem{Type: ProblemTypeBase + string(code), Title: titles[code], Status: status, Code: code,
		Instance: r.URL.Path, RequestID: requestID(r.Context())}
	var e *kopilka.Error
	if code == kopilka.EINTERNAL || !errors.As(err, &e) {
		s.Logger.ErrorContext(r.Context(), "request failed", "err", err, "request_id", p.RequestID, "path", r.URL.Path)
		p.Detail = "an internal error occurred; quote request id " + p.RequestID + " to the operator"
	} else {
		p.Detail, p.Errors, p.Extra = e.Message, e.Fields, e.Extra
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kopilka"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// jsonError turns a decoding error into a problem naming the field.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return err
	case errors.As(err, &syntax):
		return kopilka.Errorf(kopilka.EMALFORMED, "the body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return kopilka.Invalid(field, fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		if unq, err := strconv.Unquote(field); err == nil {
			field = unq
		}
		if field == "" {
			return kopilka.Invalid("body", `has a field with an empty name ("")`)
		}
		return kopilka.Invalid(field, "is not a field of this request")
	case errors.Is(err, errTrailing):
		return kopilka.Errorf(kopilka.EMALFORMED, "the body holds more than one JSON value")
	default:
		var e *kopilka.Error
		if errors.As(err, &e) {
			return e
		}
		return kopilka.Errorf(kopilka.EMALFORMED, "the body is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "int32":
		return "an integer"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return k
}

var errTrailing = errors.New("trailing data")

// writeJSON writes v with the status.
// The body is encoded before the status is sent: a value that does not
// encode is a 500 with a problem, never a 200 with an empty body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		slog.Error("encode response", "err", err)
		status, body = http.StatusInternalServerError, []byte(`{"type":"`+ProblemTypeBase+string(kopilka.EINTERNAL)+`","title":"Internal error","status":500,"code":"internal"}`)
		w.Header().Set("Content-Type", "application/problem+json")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	if _, err := w.Write(append(body, '\n')); err != nil {
		slog.Debug("write response", "err", err)
	}
}
