package batontest

// This file runs real notification endpoints inside a test: an SMTP server
// (github.com/emersion/go-smtp) that keeps every message it accepts, and a
// Slack incoming webhook (httptest) that can be told to fail. Both stop when
// the test ends.

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/batonhq/baton/internal/notify"
)

// Mail is one message the SMTP server accepted.
type Mail struct {
	From string
	To   []string
	// User is who authenticated, "" without auth.
	User string
	// TLS says whether the session was encrypted when the message was sent.
	TLS    bool
	Header mail.Header
	// Body is the decoded text.
	Body string
	Raw  []byte
}

// SMTPOptions configure a test SMTP server.
type SMTPOptions struct {
	// TLS is none (plain; no STARTTLS offered), starttls (offered) or tls
	// (implicit TLS from the first byte). Default starttls.
	TLS notify.TLSMode
	// Username and Password, when set, are required (PLAIN auth).
	Username, Password string
	// FailFirst rejects the first n messages with a temporary error (451).
	FailFirst int
}

// SMTPServer is an in-process SMTP server.
type SMTPServer struct {
	Host string
	Port int
	opts SMTPOptions
	// ClientTLS trusts the server's self-signed certificate.
	ClientTLS *tls.Config

	mu       sync.Mutex
	mails    []Mail
	rejected int
}

// NewSMTPServer starts a server on 127.0.0.1 for the test.
func NewSMTPServer(t testing.TB, opts SMTPOptions) *SMTPServer {
	t.Helper()
	if opts.TLS == "" {
		opts.TLS = notify.TLSStartTLS
	}
	ca := NewCA(t)
	cert, pool := ca.Issue(t, x509.ExtKeyUsageServerAuth, "localhost", "127.0.0.1"), ca.Pool()
	s := &SMTPServer{opts: opts, ClientTLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.AllowInsecureAuth = opts.TLS == notify.TLSNone
	srv.ErrorLog = log.New(io.Discard, "", 0)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	var ln net.Listener
	var err error
	switch opts.TLS {
	case notify.TLSImplicit:
		ln, err = tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	case notify.TLSStartTLS:
		srv.TLSConfig = serverTLS
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	default:
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatalf("smtp listen: %v", err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Sender is a notify.SMTP configured for this server: its TLS mode, credentials
// and certificate.
func (s *SMTPServer) Sender(from string) *notify.SMTP {
	return &notify.SMTP{Host: s.Host, Port: s.Port, Username: s.opts.Username, Password: s.opts.Password,
		From: from, TLS: s.opts.TLS, TLSConfig: s.ClientTLS, Timeout: 10 * time.Second}
}

// Mails returns every accepted message, in order.
func (s *SMTPServer) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// To returns the accepted messages to one address.
func (s *SMTPServer) To(addr string) []Mail {
	var out []Mail
	for _, m := range s.Mails() {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// Rejected counts messages refused because of FailFirst.
func (s *SMTPServer) Rejected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected
}

type session struct {
	s    *SMTPServer
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if x.s.opts.Username == "" || username != x.s.opts.Username || password != x.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		x.user = username
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opts.Username != "" && x.user == "" {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.rejected < x.s.opts.FailFirst {
		x.s.rejected++
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "injected temporary failure"}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "unparseable message: " + err.Error()}
	}
	var body []byte
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body, err = io.ReadAll(quotedprintable.NewReader(msg.Body))
	} else {
		body, err = io.ReadAll(msg.Body)
	}
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "undecodable body: " + err.Error()}
	}
	_, isTLS := x.conn.TLSConnectionState()
	x.s.mails = append(x.s.mails, Mail{From: x.from, To: append([]string(nil), x.to...), User: x.user, TLS: isTLS,
		Header: msg.Header, Body: strings.ReplaceAll(string(body), "\r\n", "\n"), Raw: raw})
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// SlackServer is a Slack incoming webhook. It answers 500 to the first FailFirst
// posts, and to every post while held; otherwise it keeps the text and answers
// 200 "ok", as Slack does.
type SlackServer struct {
	URL string

	mu        sync.Mutex
	failFirst int
	held      bool
	failures  int
	texts     []string
}

// NewSlackServer starts a webhook that fails its first failFirst posts.
func NewSlackServer(t testing.TB, failFirst int) *SlackServer {
	t.Helper()
	s := &SlackServer{failFirst: failFirst}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/services/T000/B000/secret"
	return s
}

// Sender is a notify.Slack posting to this webhook.
func (s *SlackServer) Sender() *notify.Slack { return &notify.Slack{WebhookURL: s.URL} }

func (s *SlackServer) serve(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Text string `json:"text"`
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Text == "" {
		http.Error(w, "no_text", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held || s.failures < s.failFirst {
		s.failures++
		http.Error(w, "injected failure", http.StatusInternalServerError)
		return
	}
	s.texts = append(s.texts, in.Text)
	_, _ = io.WriteString(w, "ok")
}

// Hold fails every post until Release.
func (s *SlackServer) Hold() { s.setHeld(true) }

// Release ends Hold.
func (s *SlackServer) Release() { s.setHeld(false) }

func (s *SlackServer) setHeld(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = v
}

// Texts returns every delivered message's text, in order.
func (s *SlackServer) Texts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.texts...)
}

// Mentioning returns the delivered texts that contain substr.
func (s *SlackServer) Mentioning(substr string) []string {
	var out []string
	for _, t := range s.Texts() {
		if strings.Contains(t, substr) {
			out = append(out, t)
		}
	}
	return out
}

// Failures counts the posts answered with an error.
func (s *SlackServer) Failures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failures
}
