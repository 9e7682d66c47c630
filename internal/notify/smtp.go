package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// TLSMode is how the SMTP connection is protected: the smtp_tls setting.
type TLSMode string

const (
	// TLSNone sends in the clear. PLAIN auth is then refused unless the server is
	// on localhost (net/smtp's rule: a password never crosses the network
	// unencrypted).
	TLSNone TLSMode = "none"
	// TLSStartTLS connects in the clear and upgrades with STARTTLS; a server that
	// does not offer it is an error, never a silent downgrade.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS, usually port 465).
	TLSImplicit TLSMode = "tls"
)

// DefaultTimeout bounds one send whose context has no earlier deadline.
const DefaultTimeout = 30 * time.Second

// SMTP sends e-mail through one SMTP server.
type SMTP struct {
	Host string
	Port int
	// Username turns on PLAIN auth; empty sends without auth.
	Username string
	Password string
	// From is the sender, an address or "Name <address>".
	From string
	TLS  TLSMode
	// TLSConfig replaces the default TLS settings (verify Host against the
	// system roots); tests use it to trust their own certificate.
	TLSConfig *tls.Config
	// LocalName is the name sent with EHLO; "localhost" when empty.
	LocalName string
	// Timeout bounds one send; DefaultTimeout when zero.
	Timeout time.Duration
}

// Send delivers m to m.To. It returns nil once the server has accepted the
// message (its reply to the end of DATA); a failure after that, such as on QUIT,
// is not an error, so a caller never resends a message the server took.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if m.To == "" {
		return errors.New("smtp: message has no recipient address")
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("smtp: from address %q: %w", s.From, err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("smtp: recipient address %q: %w", m.To, err)
	}
	data, err := compose(from, to, m)
	if err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.send(ctx, from.Address, to.Address, data); err != nil {
		return fmt.Errorf("smtp %s: %w", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), err)
	}
	return nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	if s.TLSConfig != nil {
		cfg := s.TLSConfig.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = s.Host
		}
		return cfg
	}
	return &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
}

func (s *SMTP) send(ctx context.Context, from, to string, data []byte) error {
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	// net/smtp knows no contexts: the deadline bounds every read and write, and a
	// cancelled context unblocks them at once.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	mode := s.TLS
	if mode == "" {
		mode = TLSStartTLS
	}
	if mode == TLSImplicit {
		tc := tls.Client(conn, s.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		return err
	}
	defer c.Close()
	local := s.LocalName
	if local == "" {
		local = "localhost"
	}
	if err := c.Hello(local); err != nil {
		return err
	}
	switch mode {
	case TLSStartTLS:
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("server does not offer STARTTLS (smtp_tls is starttls)")
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	case TLSNone, TLSImplicit:
	default:
		return fmt.Errorf("unknown TLS mode %q: want none, starttls or tls", mode)
	}
	if s.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("server does not offer AUTH, but smtp_username is set")
		}
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := w.Close(); err != nil { // the server's verdict on the message
		return err
	}
	_ = c.Quit() // accepted already: a failed goodbye is not a failed send
	return nil
}

// compose renders the message: plain UTF-8 text, quoted-printable, with a stable
// Message-ID.
func compose(from, to *mail.Address, m Message) ([]byte, error) {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	header("Date", time.Now().Format(time.RFC1123Z))
	if m.MessageID != "" {
		header("Message-ID", oneLine(m.MessageID))
	}
	header("MIME-Version", "1.0")
	header("Content-Type", `text/plain; charset="utf-8"`)
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

// oneLine keeps a header value on one line, so no text can add headers.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
