package notify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/notify"
)

func message() notify.Message {
	return notify.Message{
		To:        "Ava Moreau <ava@example.com>",
		Subject:   "Claim C-1 is yours at capture",
		Body:      "Hello Ava,\n\nClaim C-1 is yours at capture.\n\nOpen the claim: https://baton.example/claims/C-1?stage=capture\n",
		Link:      "https://baton.example/claims/C-1?stage=capture",
		MessageID: notify.MessageID("Baton <baton@example.com>", "claim/C-1", "capture", "1", "email", "ava"),
	}
}

func TestSMTPEachTLSModeAndAuth(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts batontest.SMTPOptions
		tls  bool
	}{
		{"none", batontest.SMTPOptions{TLS: notify.TLSNone}, false},
		{"none_plain_auth_on_localhost", batontest.SMTPOptions{TLS: notify.TLSNone, Username: "baton", Password: "s3cret"}, false},
		{"starttls_plain_auth", batontest.SMTPOptions{TLS: notify.TLSStartTLS, Username: "baton", Password: "s3cret"}, true},
		{"starttls", batontest.SMTPOptions{TLS: notify.TLSStartTLS}, true},
		{"tls_plain_auth", batontest.SMTPOptions{TLS: notify.TLSImplicit, Username: "baton", Password: "s3cret"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := batontest.NewSMTPServer(t, tc.opts)
			m := message()
			require.NoError(t, srv.Sender("Baton <baton@example.com>").Send(context.Background(), m))
			mails := srv.Mails()
			require.Len(t, mails, 1)
			got := mails[0]
			require.Equal(t, "baton@example.com", got.From)
			require.Equal(t, []string{"ava@example.com"}, got.To)
			require.Equal(t, tc.opts.Username, got.User)
			require.Equal(t, tc.tls, got.TLS)
			require.Equal(t, `"Baton" <baton@example.com>`, got.Header.Get("From"))
			require.Equal(t, `"Ava Moreau" <ava@example.com>`, got.Header.Get("To"))
			require.Equal(t, "Claim C-1 is yours at capture", got.Header.Get("Subject"))
			require.Equal(t, m.MessageID, got.Header.Get("Message-ID"))
			require.Contains(t, got.Body, "Open the claim: https://baton.example/claims/C-1?stage=capture\n")
		})
	}
}

func TestSMTPRefusesToDowngradeOrLeakCredentials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	plain := batontest.NewSMTPServer(t, batontest.SMTPOptions{TLS: notify.TLSNone})
	s := plain.Sender("baton@example.com")
	s.TLS = notify.TLSStartTLS
	err := s.Send(ctx, message())
	require.ErrorContains(t, err, "server does not offer STARTTLS")

	secure := batontest.NewSMTPServer(t, batontest.SMTPOptions{TLS: notify.TLSImplicit})
	s = secure.Sender("baton@example.com")
	s.TLSConfig = nil // the system roots do not trust the test certificate
	require.ErrorContains(t, s.Send(ctx, message()), "certificate")

	authed := batontest.NewSMTPServer(t, batontest.SMTPOptions{TLS: notify.TLSStartTLS, Username: "baton", Password: "s3cret"})
	s = authed.Sender("baton@example.com")
	s.Password = "wrong"
	require.ErrorContains(t, s.Send(ctx, message()), "auth")
	s.Username = ""
	require.ErrorContains(t, s.Send(ctx, message()), "authenticate first")

	for _, srv := range []*batontest.SMTPServer{plain, secure, authed} {
		require.Empty(t, srv.Mails())
	}
}

func TestSMTPTemporaryFailureThenSuccess(t *testing.T) {
	t.Parallel()
	srv := batontest.NewSMTPServer(t, batontest.SMTPOptions{FailFirst: 1})
	s := srv.Sender("baton@example.com")
	require.ErrorContains(t, s.Send(context.Background(), message()), "451")
	require.NoError(t, s.Send(context.Background(), message()))
	require.Len(t, srv.Mails(), 1)
	require.Equal(t, 1, srv.Rejected())
}

func TestSMTPHeadersStayOnOneLine(t *testing.T) {
	t.Parallel()
	srv := batontest.NewSMTPServer(t, batontest.SMTPOptions{})
	m := message()
	m.Subject = "Claim C-1\r\nBcc: eve@example.com"
	require.NoError(t, srv.Sender("baton@example.com").Send(context.Background(), m))
	got := srv.Mails()[0]
	require.Equal(t, []string{"ava@example.com"}, got.To)
	require.Empty(t, got.Header.Get("Bcc"))
	require.Equal(t, "Claim C-1 Bcc: eve@example.com", got.Header.Get("Subject"))
}

func TestSMTPNonASCII(t *testing.T) {
	t.Parallel()
	srv := batontest.NewSMTPServer(t, batontest.SMTPOptions{})
	m := message()
	m.Subject = "Claim Ł-1 is yours at capture"
	m.Body = "Zoë's claim: " + strings.Repeat("é", 200) + "\n.\n"
	require.NoError(t, srv.Sender("baton@example.com").Send(context.Background(), m))
	got := srv.Mails()[0]
	require.Contains(t, got.Header.Get("Subject"), "=?utf-8?q?")
	require.Equal(t, m.Body, got.Body, "quoted-printable and dot-stuffing round-trip")
}

func TestSlack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := batontest.NewSlackServer(t, 1)
	s := srv.Sender()
	m := message()
	m.Body = "*Claim C-1 is yours at capture* for Ava\n<https://baton.example/claims/C-1?stage=capture|Open the claim>"
	err := s.Send(ctx, m)
	require.ErrorContains(t, err, "500 Internal Server Error: injected failure")
	require.NotContains(t, err.Error(), "secret", "the webhook's path is a secret")
	require.NoError(t, s.Send(ctx, m))
	require.Equal(t, []string{m.Body}, srv.Texts())
	require.Equal(t, 1, srv.Failures())

	gone := &notify.Slack{WebhookURL: "http://127.0.0.1:1/services/T/B/secret"}
	err = gone.Send(ctx, m)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret")
}

func TestFromConfig(t *testing.T) {
	t.Parallel()
	email, slack := notify.FromConfig(config.Default())
	require.Nil(t, email, "no smtp_host: no e-mail")
	require.Nil(t, slack, "no slack_webhook_url: no Slack")

	cfg := config.Default()
	cfg.SMTPHost, cfg.SMTPUsername, cfg.SMTPPassword, cfg.SMTPTLS = "mail.example.com", "baton", "pw", "tls"
	cfg.SlackWebhookURL = "https://hooks.slack.com/services/T/B/x"
	email, slack = notify.FromConfig(cfg)
	require.Equal(t, &notify.SMTP{Host: "mail.example.com", Port: 587, Username: "baton", Password: "pw",
		From: "baton@localhost", TLS: notify.TLSImplicit}, email)
	require.Equal(t, &notify.Slack{WebhookURL: "https://hooks.slack.com/services/T/B/x"}, slack)
}

func TestMessageIDIsStable(t *testing.T) {
	t.Parallel()
	a := notify.MessageID("Baton <baton@example.com>", "claim/C-1", "capture", "1", "email", "ava")
	require.Equal(t, a, notify.MessageID("baton@example.com", "claim/C-1", "capture", "1", "email", "ava"))
	require.NotEqual(t, a, notify.MessageID("baton@example.com", "claim/C-1", "capture", "2", "email", "ava"))
	require.Regexp(t, `^<baton\.[0-9a-f]{32}@example\.com>$`, a)
	require.Regexp(t, `@baton\.invalid>$`, notify.MessageID("", "x"))
}
