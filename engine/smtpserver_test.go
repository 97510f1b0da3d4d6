package engine

import (
	"bytes"
	"errors"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailMsg is one message the test SMTP server accepted.
type mailMsg struct {
	From string   // MAIL FROM
	To   []string // RCPT TO
	User string   // the authenticated user
	Data []byte
}

// smtpServer is a real SMTP server (emersion/go-smtp) on 127.0.0.1 that requires
// AUTH PLAIN with user/pass and answers the first DATA commands with dataErrs.
type smtpServer struct {
	port       int
	user, pass string
	dataErrs   []error

	mu       sync.Mutex
	msgs     []mailMsg
	dataSeen int
}

// startSMTP starts a test SMTP server, stopped when the test ends.
func startSMTP(t testing.TB, user, pass string, dataErrs ...error) *smtpServer {
	t.Helper()
	ts := &smtpServer{user: user, pass: pass, dataErrs: dataErrs}
	s := smtp.NewServer(smtpBackend{ts})
	s.Domain = "mx.test"
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.AllowInsecureAuth = true // loopback only
	s.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.port = ln.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(ln)
	}()
	t.Cleanup(func() {
		s.Close()
		<-done
	})
	return ts
}

// messages returns the messages accepted so far.
func (ts *smtpServer) messages() []mailMsg {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]mailMsg(nil), ts.msgs...)
}

// dataCommands counts the DATA commands received, accepted or not.
func (ts *smtpServer) dataCommands() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.dataSeen
}

type smtpBackend struct{ ts *smtpServer }

func (b smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &smtpSession{ts: b.ts}, nil
}

type smtpSession struct {
	ts   *smtpServer
	user string
	from string
	to   []string
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.ts.user || pass != s.ts.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		s.user = user
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.ts.mu.Lock()
	defer s.ts.mu.Unlock()
	n := s.ts.dataSeen
	s.ts.dataSeen++
	if n < len(s.ts.dataErrs) && s.ts.dataErrs[n] != nil {
		return s.ts.dataErrs[n]
	}
	s.ts.msgs = append(s.ts.msgs, mailMsg{From: s.from, To: s.to, User: s.user, Data: data})
	return nil
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }

// parsedMail is the parts of an e-mail a test checks.
type parsedMail struct {
	Header mail.Header
	Text   string // the text/plain part, decoded, with LF line ends
	HTML   string // the text/html part, decoded
}

// parseMail decodes an RFC 5322 message: a text/plain body or a multipart/alternative
// with text and HTML parts, quoted-printable or not.
func parseMail(t testing.TB, data []byte) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, data)
	}
	out := parsedMail{Header: m.Header}
	decode := func(h interface{ Get(string) string }, r io.Reader) string {
		if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(r)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read body: %v", err)
		}
		return strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		out.Text = decode(m.Header, m.Body)
		return out
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch pt {
		case "text/plain":
			out.Text = decode(p.Header, p)
		case "text/html":
			out.HTML = decode(p.Header, p)
		}
	}
}

// subject decodes the Subject header.
func (p parsedMail) subject(t testing.TB) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(p.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("Subject: %v", err)
	}
	return s
}
