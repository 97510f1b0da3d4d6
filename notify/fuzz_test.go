package notify

import (
	"bytes"
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/notify/smtptest"
	"github.com/ruleflow/ruleflow/rules"
)

// The seed corpora are in testdata/fuzz/<FuzzName>/.

// FuzzSafeURL checks that SafeURL never panics and never lets userinfo through.
func FuzzSafeURL(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		out := SafeURL(in)
		if u, err := url.Parse(out); err == nil && u.User != nil {
			t.Fatalf("SafeURL(%q) = %q keeps userinfo %q", in, out, u.User.String())
		}
		if u, err := url.Parse(in); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok && len(p) >= 4 && strings.Count(in, p) == 1 {
				if strings.Contains(out, p) {
					t.Fatalf("SafeURL(%q) = %q shows the password %q", in, out, p)
				}
			}
		}
		// Whether or not the input parses: a "user:password@" written after any "//"
		// (where a parser could take it for userinfo) never reaches the output.
		for _, p := range authorityPasswords(in) {
			if len(p) >= 4 && strings.Count(in, p) == 1 && strings.Contains(out, p) {
				t.Fatalf("SafeURL(%q) = %q shows the password %q", in, out, p)
			}
		}
	})
}

// authorityPasswords returns the "password" of every "//user:password@" in s.
func authorityPasswords(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "//")
		if i < 0 {
			return out
		}
		s = s[i+2:]
		end := strings.IndexAny(s, "/?#")
		if end < 0 {
			end = len(s)
		}
		auth := s[:end]
		if at := strings.LastIndex(auth, "@"); at >= 0 {
			if _, p, ok := strings.Cut(auth[:at], ":"); ok {
				out = append(out, p)
			}
		}
	}
}

// FuzzTemplates checks that arbitrary subject and body templates never panic, are
// either rejected with an ErrorList or render, and that a rendered subject is one
// non-empty line. Range loops are bounded by MaxTemplateSteps, so no input
// runs long.
func FuzzTemplates(f *testing.F) {
	f.Fuzz(func(t *testing.T, subject, body string) {
		tmpl, err := NewTemplates(&rules.Notify{To: []string{"ops@example.com"}, Subject: subject, Body: body}, t.TempDir())
		if err != nil {
			if _, ok := err.(ErrorList); !ok {
				t.Fatalf("error %v is %T, want ErrorList", err, err)
			}
			return
		}
		msg, err := tmpl.Render(failedOutcome(), time.UTC)
		if err != nil {
			return // data-dependent execution errors are reported, not panics
		}
		if msg.Subject == "" || strings.ContainsAny(msg.Subject, "\r\n") {
			t.Fatalf("Subject = %q, want one non-empty line", msg.Subject)
		}
	})
}

// FuzzCompose checks that any Message either is refused or becomes a well-formed
// e-mail whose headers are exactly the expected ones (no header injection) and whose
// parts carry the subject and text unchanged.
func FuzzCompose(f *testing.F) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, from, to, subject, text, html, id string) {
		msg := Message{From: from, To: []string{to}, Subject: subject, Text: text, HTML: html, MessageID: id}
		env, err := compose(msg, "ruleflow@example.com", now, "example.com")
		if err != nil {
			return
		}
		for _, a := range append([]string{env.from}, env.to...) {
			if strings.ContainsAny(a, "\r\n<>") {
				t.Fatalf("envelope address %q", a)
			}
		}
		m, err := mail.ReadMessage(bytes.NewReader(env.data))
		if err != nil {
			t.Fatalf("composed message does not parse: %v\n%q", err, env.data)
		}
		allowed := map[string]bool{"From": true, "To": true, "Subject": true, "Message-Id": true, "Date": true,
			"Auto-Submitted": true, "Mime-Version": true, "Content-Type": true, "Content-Transfer-Encoding": true}
		for k := range m.Header {
			if !allowed[k] {
				t.Fatalf("unexpected header %q in\n%s", k, env.data)
			}
		}
		if !strings.Contains(subject, "=?") {
			p := smtptest.Parse(t, env.data)
			if want := strings.Join(strings.Fields(subject), " "); p.Subject != want {
				t.Fatalf("Subject = %q, want %q", p.Subject, want)
			}
			// Quoted-printable turns every line break (CR, LF or CRLF) into CRLF.
			if want := lineBreaks(text); lineBreaks(p.Text) != want {
				t.Fatalf("text = %q, want %q", p.Text, want)
			}
		}
	})
}

// lineBreaks writes every CRLF, CR and LF as LF.
func lineBreaks(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}
