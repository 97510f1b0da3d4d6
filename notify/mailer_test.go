package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/notify/smtptest"
	"github.com/ruleflow/ruleflow/rules"
)

const testPassword = "s3cret-Pa55!"

// smtpConfig returns an smtp block for ts.
func smtpConfig(ts *smtptest.Server, mode string) *rules.SMTP {
	return &rules.SMTP{Host: ts.Host, Port: ts.Port, TLS: mode, From: "ruleflow@example.com"}
}

// quietMailer returns a Mailer for cfg whose logs go to buf (or nowhere).
func quietMailer(cfg *rules.SMTP, password string, buf *bytes.Buffer) *Mailer {
	m := NewMailer(cfg, password)
	var w io.Writer = io.Discard
	if buf != nil {
		w = buf
	}
	m.Logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return m
}

func mustTemplates(t testing.TB, n *rules.Notify) *Templates {
	t.Helper()
	tmpl, err := NewTemplates(n, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestSendDeliveredAndFailed(t *testing.T) {
	ts := smtptest.Start(t)
	tmpl := mustTemplates(t, &rules.Notify{To: []string{"ops@example.com", `"On Call" <oncall@example.com>`}})
	m := quietMailer(smtpConfig(ts, TLSNone), "", nil)
	date := time.Date(2022, 3, 25, 16, 0, 0, 0, time.UTC)
	m.Now = func() time.Time { return date }

	tests := []struct {
		name        string
		outcome     Outcome
		wantSubject string
	}{
		{"delivered", deliveredOutcome(), `[ruleflow] Callout "VSA close alert" delivered for ticket T20211120.0001`},
		{"failed", failedOutcome(), `[ruleflow] Callout "VSA close alert" failed for ticket T20211120.0001`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := tmpl.Render(tt.outcome, newYork(t))
			if err != nil {
				t.Fatal(err)
			}
			// The engine stores the message as JSON and sends it later.
			stored, err := json.Marshal(msg)
			if err != nil {
				t.Fatal(err)
			}
			var loaded Message
			if err := json.Unmarshal(stored, &loaded); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(msg, loaded); diff != "" {
				t.Fatalf("JSON round trip changed the message (-want +got):\n%s", diff)
			}
			if err := m.Send(context.Background(), loaded); err != nil {
				t.Fatal(err)
			}
			got := ts.Messages()
			if len(got) != i+1 {
				t.Fatalf("server has %d messages, want %d", len(got), i+1)
			}
			r := got[i]
			if r.From != "ruleflow@example.com" {
				t.Errorf("MAIL FROM = %q", r.From)
			}
			if diff := cmp.Diff([]string{"ops@example.com", "oncall@example.com"}, r.To); diff != "" {
				t.Errorf("RCPT TO (-want +got):\n%s", diff)
			}
			p := smtptest.Parse(t, r.Data)
			if p.Subject != tt.wantSubject {
				t.Errorf("Subject = %q, want %q", p.Subject, tt.wantSubject)
			}
			wantHeaders := map[string]string{
				"From":           "ruleflow@example.com",
				"To":             `ops@example.com, "On Call" <oncall@example.com>`,
				"Message-Id":     msg.MessageID,
				"Date":           "Fri, 25 Mar 2022 16:00:00 +0000",
				"Mime-Version":   "1.0",
				"Auto-Submitted": "auto-generated",
			}
			for k, want := range wantHeaders {
				if got := p.Header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if p.Text != msg.Text {
				t.Errorf("text part differs:\n got: %q\nwant: %q", p.Text, msg.Text)
			}
			if p.HTML != msg.HTML {
				t.Errorf("HTML part differs:\n got: %q\nwant: %q", p.HTML, msg.HTML)
			}
		})
	}
}

func TestSendTextOnly(t *testing.T) {
	ts := smtptest.Start(t)
	m := quietMailer(smtpConfig(ts, TLSNone), "", nil)
	msg := Message{From: "Ruleflow <alerts@example.com>", To: []string{"a@example.com, b@example.com", "A@example.com"},
		Subject: "plain\r\nBcc: evil@example.com", Text: "line 1\nline 2 ü\n"}
	if err := m.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	r := ts.Messages()[0]
	if r.From != "alerts@example.com" {
		t.Errorf("MAIL FROM = %q", r.From)
	}
	if diff := cmp.Diff([]string{"a@example.com", "b@example.com"}, r.To); diff != "" {
		t.Errorf("RCPT TO (-want +got):\n%s", diff)
	}
	p := smtptest.Parse(t, r.Data)
	if p.Subject != "plain Bcc: evil@example.com" {
		t.Errorf("Subject = %q (a header injection must stay in the subject)", p.Subject)
	}
	if p.Header.Get("Bcc") != "" {
		t.Errorf("Bcc header injected: %q", p.Header.Get("Bcc"))
	}
	if p.Text != msg.Text || p.HTML != "" {
		t.Errorf("body = %q / %q, want %q and no HTML", p.Text, p.HTML, msg.Text)
	}
	if id := p.Header.Get("Message-Id"); !validMessageID(id) || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("generated Message-ID = %q, want <...@example.com>", id)
	}
}

func TestSendStartTLSWithAuthPlain(t *testing.T) {
	cert, pool := smtptest.SelfSigned(t)
	ts := smtptest.Start(t, smtptest.WithStartTLS(cert), smtptest.WithAuth("svc", testPassword))
	cfg := smtpConfig(ts, TLSStartTLS)
	cfg.Username = "svc"
	var logs bytes.Buffer
	m := quietMailer(cfg, testPassword, &logs)
	m.TLSConfig = &tls.Config{RootCAs: pool}
	if err := m.Send(context.Background(), Message{To: []string{"ops@example.com"}, Subject: "s", Text: "t\n"}); err != nil {
		t.Fatal(err)
	}
	r := ts.Messages()[0]
	if r.User != "svc" || !r.TLS {
		t.Errorf("session user=%q tls=%v, want svc over TLS", r.User, r.TLS)
	}
	if !strings.Contains(logs.String(), "notification e-mail sent") || strings.Contains(logs.String(), testPassword) {
		t.Errorf("logs should record the send without the password:\n%s", logs.String())
	}
}

func TestSendAuthLogin(t *testing.T) {
	cert, pool := smtptest.SelfSigned(t)
	ts := smtptest.Start(t, smtptest.WithStartTLS(cert), smtptest.WithAuth("svc", testPassword, sasl.Login))
	cfg := smtpConfig(ts, "") // default: starttls
	cfg.Username = "svc"
	m := quietMailer(cfg, testPassword, nil)
	m.TLSConfig = &tls.Config{RootCAs: pool}
	if err := m.Send(context.Background(), Message{To: []string{"ops@example.com"}, Subject: "s", Text: "t\n"}); err != nil {
		t.Fatal(err)
	}
	if r := ts.Messages()[0]; r.User != "svc" || !r.TLS {
		t.Errorf("session user=%q tls=%v, want svc over TLS", r.User, r.TLS)
	}
}

func TestSendImplicitTLS(t *testing.T) {
	cert, pool := smtptest.SelfSigned(t)
	ts := smtptest.Start(t, smtptest.WithImplicitTLS(cert), smtptest.WithAuth("svc", testPassword))
	cfg := smtpConfig(ts, TLSImplicit)
	cfg.Username = "svc"
	m := quietMailer(cfg, testPassword, nil)
	m.TLSConfig = &tls.Config{RootCAs: pool}
	if err := m.Send(context.Background(), Message{To: []string{"ops@example.com"}, Subject: "s", Text: "t\n"}); err != nil {
		t.Fatal(err)
	}
	if r := ts.Messages()[0]; r.User != "svc" || !r.TLS {
		t.Errorf("session user=%q tls=%v, want svc over TLS", r.User, r.TLS)
	}
}

func TestSendTemporaryThenSuccess(t *testing.T) {
	ts := smtptest.Start(t, smtptest.WithDataErrors(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}))
	m := quietMailer(smtpConfig(ts, TLSNone), "", nil)
	msg := Message{To: []string{"ops@example.com"}, Subject: "s", Text: "t\n", MessageID: "<abc.d1@example.com>"}

	err := m.Send(context.Background(), msg)
	want := "smtp " + ts.Addr() + ": data: 451 4.3.0 Try again later"
	if err == nil || err.Error() != want {
		t.Fatalf("first Send error = %v, want %q", err, want)
	}
	if IsPermanent(err) {
		t.Error("IsPermanent(451) = true, want false")
	}
	var se *Error
	if !errors.As(err, &se) || se.Code != 451 || se.Op != "data" {
		t.Errorf("error = %#v, want *Error{Op: data, Code: 451}", err)
	}
	if err := m.Send(context.Background(), msg); err != nil {
		t.Fatalf("second Send: %v", err)
	}
	got := ts.Messages()
	if len(got) != 1 {
		t.Fatalf("server accepted %d messages, want 1", len(got))
	}
	if id := smtptest.Parse(t, got[0].Data).Header.Get("Message-Id"); id != msg.MessageID {
		t.Errorf("Message-ID = %q, want the stored %q", id, msg.MessageID)
	}
}

func TestSendErrors(t *testing.T) {
	refused := closedPort(t)
	silent := silentListener(t)
	cert, _ := smtptest.SelfSigned(t)
	plain := smtptest.Start(t)
	rejecting := smtptest.Start(t, smtptest.WithRcptError(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}))
	authServer := smtptest.Start(t, smtptest.WithAuth("svc", "the-right-one"))
	tlsServer := smtptest.Start(t, smtptest.WithStartTLS(cert))
	echoing := smtptest.Start(t, smtptest.WithEchoingAuth("svc", "the-right-one"))

	okMsg := Message{To: []string{"ops@example.com"}, Subject: "s", Text: "t\n"}
	tests := []struct {
		name          string
		cfg           *rules.SMTP
		msg           Message
		wantErr       string
		wantPermanent bool
	}{
		{
			name:    "connection refused",
			cfg:     &rules.SMTP{Host: "127.0.0.1", Port: refused, TLS: TLSNone, From: "r@example.com"},
			msg:     okMsg,
			wantErr: fmt.Sprintf("smtp 127.0.0.1:%d: dial: dial tcp 127.0.0.1:%d: connect: connection refused", refused, refused),
		},
		{
			name:    "greeting timeout",
			cfg:     &rules.SMTP{Host: "127.0.0.1", Port: silent, TLS: TLSNone, From: "r@example.com", ConnectTimeout: rules.Duration(50 * time.Millisecond)},
			msg:     okMsg,
			wantErr: fmt.Sprintf("smtp 127.0.0.1:%d: greeting: read tcp LOCAL->127.0.0.1:%d: i/o timeout", silent, silent),
		},
		{
			name:          "recipient rejected",
			cfg:           smtpConfig(rejecting, TLSNone),
			msg:           okMsg,
			wantErr:       "smtp " + rejecting.Addr() + ": rcpt <ops@example.com>: 550 5.1.1 No such user here",
			wantPermanent: true,
		},
		{
			name:          "wrong password",
			cfg:           &rules.SMTP{Host: authServer.Host, Port: authServer.Port, TLS: TLSNone, From: "r@example.com", Username: "svc"},
			msg:           okMsg,
			wantErr:       "smtp " + authServer.Addr() + ": auth: 535 5.7.8 Authentication credentials invalid",
			wantPermanent: true,
		},
		{
			name:          "server repeating the password",
			cfg:           &rules.SMTP{Host: echoing.Host, Port: echoing.Port, TLS: TLSNone, From: "r@example.com", Username: "svc"},
			msg:           okMsg,
			wantErr:       "smtp " + echoing.Addr() + ": auth: 535 5.7.8 Authentication credentials invalid for svc/********",
			wantPermanent: true,
		},
		{
			name:    "server without AUTH",
			cfg:     &rules.SMTP{Host: plain.Host, Port: plain.Port, TLS: TLSNone, From: "r@example.com", Username: "svc"},
			msg:     okMsg,
			wantErr: "smtp " + plain.Addr() + ": auth: server does not offer AUTH, but a username is configured",
		},
		{
			name:    "STARTTLS required but not offered",
			cfg:     smtpConfig(plain, TLSStartTLS),
			msg:     okMsg,
			wantErr: "smtp " + plain.Addr() + ": starttls: STARTTLS is required (tls: starttls), but the server does not offer it",
		},
		{
			name:    "untrusted certificate",
			cfg:     smtpConfig(tlsServer, TLSStartTLS),
			msg:     okMsg,
			wantErr: "smtp " + tlsServer.Addr() + ": starttls: tls: failed to verify certificate: x509: certificate signed by unknown authority",
		},
		{
			name:          "no smtp block",
			cfg:           nil,
			msg:           okMsg,
			wantErr:       "smtp: config: no smtp block in the configuration",
			wantPermanent: true,
		},
		{
			name:          "unknown tls mode",
			cfg:           &rules.SMTP{Host: "127.0.0.1", TLS: "ssl", From: "r@example.com"},
			msg:           okMsg,
			wantErr:       `smtp: config: unknown tls mode "ssl" (want none, starttls or tls)`,
			wantPermanent: true,
		},
		{
			name:          "no host",
			cfg:           &rules.SMTP{From: "r@example.com"},
			msg:           okMsg,
			wantErr:       "smtp: config: no smtp host configured",
			wantPermanent: true,
		},
		{
			name:          "bad port",
			cfg:           &rules.SMTP{Host: "127.0.0.1", Port: 70000, From: "r@example.com"},
			msg:           okMsg,
			wantErr:       "smtp: config: invalid smtp port 70000",
			wantPermanent: true,
		},
		{
			name:          "no recipients",
			cfg:           smtpConfig(plain, TLSNone),
			msg:           Message{Subject: "s", Text: "t"},
			wantErr:       "smtp: message: no recipients",
			wantPermanent: true,
		},
		{
			name:          "invalid recipient",
			cfg:           smtpConfig(plain, TLSNone),
			msg:           Message{To: []string{"ops at example.com"}, Subject: "s"},
			wantErr:       `smtp: message: invalid recipient "ops at example.com": mail: no angle-addr`,
			wantPermanent: true,
		},
		{
			name:          "no sender",
			cfg:           &rules.SMTP{Host: plain.Host, Port: plain.Port, TLS: TLSNone},
			msg:           okMsg,
			wantErr:       "smtp: message: no sender: set smtp.from",
			wantPermanent: true,
		},
		{
			name:          "invalid sender",
			cfg:           &rules.SMTP{Host: plain.Host, Port: plain.Port, TLS: TLSNone, From: "ruleflow"},
			msg:           okMsg,
			wantErr:       `smtp: message: invalid sender "ruleflow": mail: missing '@' or angle-addr`,
			wantPermanent: true,
		},
		{
			name:          "invalid Message-ID",
			cfg:           smtpConfig(plain, TLSNone),
			msg:           Message{To: []string{"ops@example.com"}, MessageID: "<a b@c>\r\nBcc: x@y"},
			wantErr:       `smtp: message: invalid Message-ID "<a b@c>\r\nBcc: x@y"`,
			wantPermanent: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			m := quietMailer(tt.cfg, "the-wrong-one", &logs)
			err := m.Send(context.Background(), tt.msg)
			if op, ok := errors.AsType[*net.OpError](err); ok && op.Source != nil {
				tt.wantErr = strings.Replace(tt.wantErr, "LOCAL", op.Source.String(), 1)
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("Send error = %v\nwant %s", err, tt.wantErr)
			}
			if got := IsPermanent(err); got != tt.wantPermanent {
				t.Errorf("IsPermanent = %v, want %v", got, tt.wantPermanent)
			}
			if strings.Contains(err.Error(), "the-wrong-one") || strings.Contains(logs.String(), "the-wrong-one") {
				t.Errorf("the password leaked:\nerror: %v\nlogs: %s", err, logs.String())
			}
			if !strings.Contains(logs.String(), "notification e-mail not sent") {
				t.Errorf("no warning logged: %q", logs.String())
			}
		})
	}
	if n := len(plain.Messages()) + len(rejecting.Messages()) + len(authServer.Messages()) + len(tlsServer.Messages()); n != 0 {
		t.Errorf("%d messages were delivered by failing sends", n)
	}
}

func TestSendContext(t *testing.T) {
	silent := silentListener(t)
	stalling := smtptest.Start(t, smtptest.WithStallingData())
	msg := Message{To: []string{"ops@example.com"}, Subject: "s", Text: "t\n"}

	t.Run("deadline while waiting for the greeting", func(t *testing.T) {
		m := quietMailer(&rules.SMTP{Host: "127.0.0.1", Port: silent, TLS: TLSNone, From: "r@example.com"}, "", nil)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := m.Send(ctx, msg)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("Send took %v after the deadline", took)
		}
		want := fmt.Sprintf("smtp 127.0.0.1:%d: greeting: context deadline exceeded", silent)
		if err == nil || err.Error() != want {
			t.Fatalf("error = %v, want %q", err, want)
		}
		if !errors.Is(err, context.DeadlineExceeded) || IsPermanent(err) {
			t.Errorf("errors.Is(DeadlineExceeded) = %v, IsPermanent = %v; want true, false", errors.Is(err, context.DeadlineExceeded), IsPermanent(err))
		}
	})

	t.Run("cancel during DATA", func(t *testing.T) {
		m := quietMailer(smtpConfig(stalling, TLSNone), "", nil)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-stalling.Stalled()
			cancel()
		}()
		err := m.Send(ctx, msg)
		want := "smtp " + stalling.Addr() + ": data: context canceled"
		if err == nil || err.Error() != want {
			t.Fatalf("error = %v, want %q", err, want)
		}
		if !errors.Is(err, context.Canceled) || IsPermanent(err) {
			t.Errorf("errors.Is(Canceled) = %v, IsPermanent = %v; want true, false", errors.Is(err, context.Canceled), IsPermanent(err))
		}
	})

	t.Run("send timeout while the server sits on DATA", func(t *testing.T) {
		cfg := smtpConfig(stalling, TLSNone)
		cfg.SendTimeout = rules.Duration(100 * time.Millisecond)
		m := quietMailer(cfg, "", nil)
		start := time.Now()
		err := m.Send(context.Background(), msg)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("Send took %v with a 100ms send timeout", took)
		}
		se, ok := errors.AsType[*Error](err)
		if !ok || se.Op != "data" || !strings.HasSuffix(err.Error(), "i/o timeout") || IsPermanent(err) {
			t.Fatalf("error = %v, want a temporary data: ... i/o timeout", err)
		}
	})

	t.Run("already cancelled", func(t *testing.T) {
		m := quietMailer(smtpConfig(stalling, TLSNone), "", nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := m.Send(ctx, msg)
		want := "smtp " + stalling.Addr() + ": dial: context canceled"
		if err == nil || err.Error() != want {
			t.Fatalf("error = %v, want %q", err, want)
		}
	})
}

func TestSendConcurrent(t *testing.T) {
	cert, pool := smtptest.SelfSigned(t)
	ts := smtptest.Start(t, smtptest.WithStartTLS(cert), smtptest.WithAuth("svc", testPassword))
	cfg := smtpConfig(ts, TLSStartTLS)
	cfg.Username = "svc"
	m := quietMailer(cfg, testPassword, nil)
	m.TLSConfig = &tls.Config{RootCAs: pool}
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- m.Send(context.Background(), Message{To: []string{"ops@example.com"}, Subject: fmt.Sprint("s", i), Text: "t\n"})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := len(ts.Messages()); got != n {
		t.Errorf("server has %d messages, want %d", got, n)
	}
}

func TestIsPermanent(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{&Error{Op: "rcpt", Code: 550, Err: errors.New("x")}, true},
		{&Error{Op: "rcpt", Code: 452, Err: errors.New("x")}, false},
		{&Error{Op: "message", Err: errors.New("x"), permanent: true}, true},
		{fmt.Errorf("wrapped: %w", &Error{Op: "data", Code: 554, Err: errors.New("x")}), true},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, false},
		{context.DeadlineExceeded, false},
	}
	for _, tt := range tests {
		if got := IsPermanent(tt.err); got != tt.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestNewMailerDefaults(t *testing.T) {
	tests := []struct {
		cfg      rules.SMTP
		wantAddr string
	}{
		{rules.SMTP{Host: "mail.example.com"}, "mail.example.com:587"},
		{rules.SMTP{Host: "mail.example.com", TLS: "tls"}, "mail.example.com:465"},
		{rules.SMTP{Host: "mail.example.com", TLS: "NONE"}, "mail.example.com:25"},
		{rules.SMTP{Host: "::1", Port: 2525, TLS: "none"}, "[::1]:2525"},
	}
	for _, tt := range tests {
		if got := NewMailer(&tt.cfg, "").Addr(); got != tt.wantAddr {
			t.Errorf("Addr() for %+v = %q, want %q", tt.cfg, got, tt.wantAddr)
		}
	}
}

// TestAuthRefusesPlaintext checks that PLAIN and LOGIN never send the password over
// a connection that is neither TLS nor to localhost (127.0.0.2 is loopback, but not
// a name the check trusts), while CRAM-MD5, which sends no password, still works.
func TestAuthRefusesPlaintext(t *testing.T) {
	for _, mech := range []string{sasl.Plain, sasl.Login} {
		ts := smtptest.Start(t, smtptest.WithHost("127.0.0.2"), smtptest.WithAuth("svc", testPassword, mech))
		cfg := smtpConfig(ts, TLSNone)
		cfg.Username = "svc"
		err := quietMailer(cfg, testPassword, nil).Send(context.Background(), Message{To: []string{"ops@example.com"}, Subject: "s", Text: "t\n"})
		want := "smtp " + ts.Addr() + ": auth: unencrypted connection: PLAIN and LOGIN send the password in clear; use tls: starttls or tls"
		if err == nil || err.Error() != want {
			t.Errorf("%s: error %v, want %q", mech, err, want)
		}
		if n := len(ts.Messages()); n != 0 {
			t.Errorf("%s: %d messages delivered", mech, n)
		}
	}
}

func TestCRAMMD5(t *testing.T) {
	// RFC 2195's example.
	a := &cramMD5{username: "tim", secret: "tanstaaftanstaaf"}
	if mech, ir, err := a.Start(); mech != "CRAM-MD5" || ir != nil || err != nil {
		t.Errorf("Start() = %q, %q, %v", mech, ir, err)
	}
	got, err := a.Next([]byte("<1896.697170952@postoffice.reston.mci.net>"))
	if want := "tim b913a602c7eda7a495b4e6e7334d3890"; err != nil || string(got) != want {
		t.Errorf("Next = %q, %v; want %q", got, err, want)
	}
}

// closedPort returns a loopback port nobody listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// silentListener accepts connections and never says anything: a stalled server.
func silentListener(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().(*net.TCPAddr).Port
}

// BenchmarkSend measures one whole SMTP session (dial, EHLO, MAIL, RCPT, DATA, QUIT)
// against the in-process server on loopback.
func BenchmarkSend(b *testing.B) {
	ts := smtptest.Start(b)
	m := NewMailer(&rules.SMTP{Host: ts.Host, Port: ts.Port, TLS: TLSNone, From: "ruleflow@example.com"}, "")
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	tmpl, err := NewTemplates(&rules.Notify{To: []string{"ops@example.com"}}, "")
	if err != nil {
		b.Fatal(err)
	}
	msg, err := tmpl.Render(failedOutcome(), time.UTC)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Send(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}
