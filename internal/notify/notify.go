// Package notify delivers Baton's notifications outside the app: e-mail over SMTP
// and Slack through an incoming webhook. It only sends; deciding who is told what,
// and making each message go out once, is the outbox's job (store.OutboxMessage,
// activities.SendNotifications).
//
// It imports config only.
package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"

	"github.com/batonhq/baton/config"
)

// Channels, as the outbox and the baton_notifications_total metric name them.
const (
	ChannelEmail = "email"
	ChannelSlack = "slack"
)

// Message is one notification to one person.
type Message struct {
	// To is the recipient's e-mail address (e-mail only).
	To string
	// Subject is a one-line summary; Body the full text, link included.
	Subject string
	Body    string
	// Link is the claim's deep link.
	Link string
	// MessageID is the e-mail's Message-ID header, the same on every attempt, so
	// a message sent twice can be recognised as one by mail systems that
	// de-duplicate on it.
	MessageID string
}

// Sender delivers a message on one channel. A nil error means the channel
// accepted it (the SMTP server answered 250 to DATA, the webhook answered 2xx).
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// FromConfig returns the senders the configuration enables; nil for a channel
// that is not configured (no SMTP host, no Slack webhook).
func FromConfig(cfg config.Config) (email, slack Sender) {
	if cfg.SMTPHost != "" {
		email = &SMTP{
			Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
			From: cfg.SMTPFrom, TLS: TLSMode(cfg.SMTPTLS),
		}
	}
	if cfg.SlackWebhookURL != "" {
		slack = &Slack{WebhookURL: cfg.SlackWebhookURL}
	}
	return email, slack
}

// MessageID builds a stable Message-ID for the notification identified by parts
// (workflow id, stage, seq, channel, recipient), in the From address's domain.
func MessageID(from string, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	domain := "baton.invalid"
	if a, err := mail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok && d != "" {
			domain = d
		}
	}
	return fmt.Sprintf("<baton.%s@%s>", hex.EncodeToString(sum[:16]), domain)
}
