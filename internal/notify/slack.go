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
	"strings"
)

// Slack posts messages to a Slack incoming webhook, which delivers them to the
// channel the webhook was created for.
type Slack struct {
	// WebhookURL is the incoming webhook; it is a secret, so errors never
	// include more of it than the host.
	WebhookURL string
	// Client sends the request; nil uses one with DefaultTimeout.
	Client *http.Client
}

// Send posts {"text": m.Body}. Any status but 2xx is a failure.
func (s *Slack) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(map[string]string{"text": m.Body})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("slack webhook %s: %w", s.redacted(), unwrapURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("slack webhook %s: %w", s.redacted(), unwrapURL(err))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("slack webhook %s answered %s: %s", s.redacted(), resp.Status, strings.TrimSpace(string(snippet)))
	}
	return nil
}

// redacted is the webhook's scheme and host: its path holds the secret.
func (s *Slack) redacted() string {
	u, err := url.Parse(s.WebhookURL)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	return u.Scheme + "://" + u.Host
}

// unwrapURL drops a *url.Error's wrapper, whose message repeats the whole URL.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}
