package main

import (
	"io"
	"log"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// mailbox is a real SMTP server (emersion/go-smtp) on 127.0.0.1 that keeps the
// recipients and data of every message it accepts.
type mailbox struct {
	port int
	mu   sync.Mutex
	msgs []string // "rcpt1,rcpt2\n" + data
}

func startMailbox(t *testing.T) *mailbox {
	t.Helper()
	mb := &mailbox{}
	s := smtp.NewServer(mailboxBackend{mb})
	s.Domain = "mx.test"
	s.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.port = ln.Addr().(*net.TCPAddr).Port
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return mb
}

func (mb *mailbox) messages() []string {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]string(nil), mb.msgs...)
}

type mailboxBackend struct{ mb *mailbox }

func (b mailboxBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &mailboxSession{mb: b.mb}, nil
}

type mailboxSession struct {
	mb   *mailbox
	rcpt string
}

func (s *mailboxSession) Mail(string, *smtp.MailOptions) error { return nil }

func (s *mailboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.rcpt != "" {
		s.rcpt += ","
	}
	s.rcpt += to
	return nil
}

func (s *mailboxSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	s.mb.msgs = append(s.mb.msgs, s.rcpt+"\n"+string(data))
	s.mb.mu.Unlock()
	return nil
}

func (s *mailboxSession) Reset()        { s.rcpt = "" }
func (s *mailboxSession) Logout() error { return nil }
