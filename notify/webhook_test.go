package notify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kopilka/kopilka/notify"
)

func TestWebhook_PostsTheMessageWithTheToken(t *testing.T) {
	var got map[string]string
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		_ = json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	w := notify.Webhook{URL: srv.URL, Token: "gw-secret"}
	if err := w.Send(context.Background(), "sms", "+79161234567", "Your code: 123456"); err != nil {
		t.Fatal(err)
	}
	if auth != "Bearer gw-secret" || got["channel"] != "sms" || got["to"] != "+79161234567" || got["text"] != "Your code: 123456" {
		t.Fatalf("gateway got %v with %q", got, auth)
	}
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer failing.Close()
	if err := (notify.Webhook{URL: failing.URL}).Send(context.Background(), "email", "a@example.com", "x"); err == nil {
		t.Fatal("a 502 from the gateway was not an error")
	}
}
