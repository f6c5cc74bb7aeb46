// Package notify delivers messages to members: the Dispatcher takes what
// the use cases wrote to the outbox (one-time codes, a card replaced) and
// hands each to a Sender after the write committed, outside any request,
// retrying until it is taken or no longer worth sending. The senders here
// are the webhook, which hands each message to an SMS or e-mail gateway of
// the operator's choosing, and the log sender for development.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Webhook POSTs {"channel", "to", "text"} as JSON to URL, with the bearer
// Token when it is set, and expects a 2xx answer within Timeout.
type Webhook struct {
	URL     string
	Token   string
	Timeout time.Duration
	Client  *http.Client
}

// Send delivers one message.
func (w Webhook) Send(ctx context.Context, channel, to, text string) error {
	body, err := json.Marshal(map[string]string{"channel": channel, "to": to, "text": text})
	if err != nil {
		return err
	}
	timeout := w.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if w.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.Token)
	}
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// Without the URL: a token in its query must not reach the log.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("notify webhook %s: %w", w.host(), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("notify webhook %s answered %s", w.host(), resp.Status)
	}
	return nil
}

// host is the webhook's scheme and host, for messages: never its path or
// query, which may hold a secret.
func (w Webhook) host() string {
	u, err := url.Parse(w.URL)
	if err != nil {
		return "(unreadable URL)"
	}
	return u.Scheme + "://" + u.Host
}
