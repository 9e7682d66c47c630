package bench

import (
	"bytes"
	"io"
	"log"
	"net"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// mailbox is the chaos run's SMTP server: it accepts everything and records
// when each Message-ID arrived, so a notification sent twice shows, and whether
// a fault struck between the two copies.
type mailbox struct {
	srv  *smtp.Server
	Host string
	Port int

	mu        sync.Mutex
	delivered map[string][]time.Time
}

func startMailbox() (*mailbox, error) {
	m := &mailbox{delivered: map[string][]time.Time{}}
	m.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }))
	m.srv.Domain = "localhost"
	m.srv.ReadTimeout, m.srv.WriteTimeout = 30*time.Second, 30*time.Second
	m.srv.AllowInsecureAuth = true
	m.srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	m.Host = host
	m.Port, _ = strconv.Atoi(port)
	go func() { _ = m.srv.Serve(ln) }()
	return m, nil
}

func (m *mailbox) Close() { _ = m.srv.Close() }

// Deliveries returns a copy of when each Message-ID arrived.
func (m *mailbox) Deliveries() map[string][]time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string][]time.Time, len(m.delivered))
	for k, v := range m.delivered {
		out[k] = slices.Clone(v)
	}
	return out
}

type mailSession struct{ m *mailbox }

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Reset()                               {}
func (s *mailSession) Logout() error                        { return nil }

func (s *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "unparseable message: " + err.Error()}
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	id := strings.Trim(msg.Header.Get("Message-Id"), "<> ")
	s.m.delivered[id] = append(s.m.delivered[id], time.Now())
	return nil
}
