package notify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message as the test SMTP server saw it.
type received struct {
	From string   // MAIL FROM
	To   []string // RCPT TO
	Data []byte   // DATA
	User string   // the authenticated user, "" without AUTH
	TLS  bool     // whether the session was encrypted
}

// testServer is a real SMTP server (emersion/go-smtp) on 127.0.0.1:0 whose behaviour
// a test sets before the first connection.
type testServer struct {
	host string
	port int

	user, pass string   // when set, AUTH (PLAIN, or mechs) is offered and required
	mechs      []string // offered mechanisms; default PLAIN
	dataErrs   []error  // replies to the first DATA commands, in order; nil accepts
	rcptErr    error    // reply to every RCPT
	echo       bool     // a careless server: the AUTH failure reply repeats the password
	stall      chan struct{}
	stalled    chan struct{} // receives when Data starts stalling

	mu       sync.Mutex
	msgs     []received
	dataSeen int
}

// serverOption configures a testServer before it starts.
type serverOption func(*testServer, *smtp.Server)

func withAuth(user, pass string, mechs ...string) serverOption {
	return func(ts *testServer, s *smtp.Server) {
		ts.user, ts.pass = user, pass
		ts.mechs = mechs
		if len(mechs) == 0 {
			ts.mechs = []string{sasl.Plain}
		}
	}
}

// withEchoingAuth makes AUTH failures repeat the password the client sent.
func withEchoingAuth(user, pass string) serverOption {
	return func(ts *testServer, s *smtp.Server) {
		withAuth(user, pass)(ts, s)
		ts.echo = true
	}
}

func withDataErrors(errs ...error) serverOption {
	return func(ts *testServer, s *smtp.Server) { ts.dataErrs = errs }
}

func withRcptError(err error) serverOption {
	return func(ts *testServer, s *smtp.Server) { ts.rcptErr = err }
}

// withStartTLS offers STARTTLS with cert.
func withStartTLS(cert tls.Certificate) serverOption {
	return func(ts *testServer, s *smtp.Server) {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
}

// withStallingData makes DATA block until the test ends; stalled receives when it does.
func withStallingData() serverOption {
	return func(ts *testServer, s *smtp.Server) {
		ts.stall = make(chan struct{})
		ts.stalled = make(chan struct{}, 1)
	}
}

// startServer starts a test server; implicit, when non-nil, makes it an SMTPS server
// (TLS from the first byte) with that certificate.
func startServer(t testing.TB, implicit *tls.Certificate, opts ...serverOption) *testServer {
	t.Helper()
	return startServerOn(t, "127.0.0.1", implicit, opts...)
}

// startServerOn is startServer listening on the loopback address host.
func startServerOn(t testing.TB, host string, implicit *tls.Certificate, opts ...serverOption) *testServer {
	t.Helper()
	ts := &testServer{}
	s := smtp.NewServer(backend{ts})
	s.Domain = "mx.test"
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.AllowInsecureAuth = true // loopback tests without TLS
	s.ErrorLog = log.New(io.Discard, "", 0)
	for _, o := range opts {
		o(ts, s)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	if implicit != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*implicit}})
	}
	ts.host = host
	ts.port = ln.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(ln)
	}()
	t.Cleanup(func() {
		if ts.stall != nil {
			close(ts.stall)
		}
		s.Close()
		<-done
	})
	return ts
}

func (ts *testServer) addr() string { return net.JoinHostPort(ts.host, strconv.Itoa(ts.port)) }

func (ts *testServer) messages() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.msgs...)
}

type backend struct{ ts *testServer }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	s := &session{ts: b.ts, tls: isTLS, conn: c}
	if b.ts.user != "" {
		return &authSession{s}, nil
	}
	return s, nil
}

type session struct {
	ts   *testServer
	conn *smtp.Conn
	tls  bool
	user string
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.ts.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.ts.rcptErr != nil {
		return s.ts.rcptErr
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.ts.stall != nil {
		s.ts.stalled <- struct{}{}
		<-s.ts.stall
		return errors.New("stalled")
	}
	s.ts.mu.Lock()
	defer s.ts.mu.Unlock()
	n := s.ts.dataSeen
	s.ts.dataSeen++
	if n < len(s.ts.dataErrs) && s.ts.dataErrs[n] != nil {
		return s.ts.dataErrs[n]
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.ts.msgs = append(s.ts.msgs, received{From: s.from, To: s.to, Data: data, User: s.user, TLS: isTLS})
	return nil
}

// authSession adds AUTH PLAIN (go-sasl) and LOGIN to a session.
type authSession struct{ *session }

func (s *authSession) AuthMechanisms() []string { return s.ts.mechs }

func (s *authSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != s.ts.user || pass != s.ts.pass {
			msg := "Authentication credentials invalid"
			if s.ts.echo {
				msg += " for " + user + "/" + pass
			}
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: msg}
		}
		s.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// loginServer is the server side of AUTH LOGIN, which go-sasl no longer ships.
type loginServer struct {
	check      func(user, pass string) error
	step       int
	user, pass string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if len(response) > 0 { // initial response carries the user name
			l.user = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(response)
		l.step++
		return []byte("Password:"), false, nil
	default:
		l.pass = string(response)
		return nil, true, l.check(l.user, l.pass)
	}
}

// selfSigned returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ruleflow test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
