package notify

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // America/New_York on machines without a zone database

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/qualification/goldentest"
	"github.com/ruleflow/ruleflow/rules"
)

func newYork(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func failedOutcome() Outcome {
	first := time.Date(2022, 3, 25, 15, 23, 58, 610_000_000, time.UTC)
	return Outcome{
		Callout:        "VSA close alert",
		Rule:           "Close RMM alert on completion",
		Form:           "Ticket",
		EntryID:        "8176",
		TicketNumber:   "T20211120.0001",
		Delivered:      false,
		Attempts:       11,
		LastStatusCode: 503,
		LastError:      "remote returned HTTP 503",
		FirstAttempt:   first,
		LastAttempt:    first.Add(10 * time.Minute),
		URL:            "https://svc:hunter2@rmm.example.com/ws/TicketService.asmx?client=dev3&api_key=k3y",
		DeliveryID:     "01JQ7ZK3D8V4Y6M2N5P9R0S1T2",
	}
}

func deliveredOutcome() Outcome {
	first := time.Date(2022, 3, 25, 15, 23, 58, 610_000_000, time.UTC)
	return Outcome{
		Callout:        "VSA close alert",
		Rule:           "Close RMM alert on completion",
		Form:           "Ticket",
		EntryID:        "8176",
		TicketNumber:   "T20211120.0001",
		Delivered:      true,
		Attempts:       2,
		LastStatusCode: 200,
		FirstAttempt:   first,
		LastAttempt:    first.Add(time.Minute),
		URL:            "https://rmm.example.com/ws/TicketService.asmx",
		DeliveryID:     "01JQ7ZK3D8V4Y6M2N5P9R0S1T3",
	}
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	goldentest.Check(t, path, []byte(got))
}

func TestRenderDefaultGolden(t *testing.T) {
	tmpl := mustTemplates(t, &rules.Notify{To: []string{"ops@example.com"}})
	tests := []struct {
		name    string
		outcome Outcome
	}{
		{"failure", failedOutcome()},
		{"success", deliveredOutcome()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := tmpl.Render(tt.outcome, newYork(t))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".txt.golden", "Subject: "+msg.Subject+"\n\n"+msg.Text)
			golden(t, tt.name+".html.golden", msg.HTML)
			for _, secret := range []string{"hunter2", "k3y", "svc:"} {
				if strings.Contains(msg.Text+msg.HTML+msg.Subject, secret) {
					t.Errorf("the message shows the credential %q", secret)
				}
			}
			if diff := cmp.Diff([]string{"ops@example.com"}, msg.To); diff != "" {
				t.Errorf("To (-want +got):\n%s", diff)
			}
			if msg.From != "" {
				t.Errorf("From = %q, want empty (the Mailer fills it)", msg.From)
			}
			if !validMessageID(msg.MessageID) || !strings.Contains(msg.MessageID, "."+tt.outcome.DeliveryID+"@") {
				t.Errorf("MessageID = %q, want <random.%s@host>", msg.MessageID, tt.outcome.DeliveryID)
			}
		})
	}
}

func TestRenderSubjects(t *testing.T) {
	tmpl := mustTemplates(t, nil)
	noNumber := failedOutcome()
	noNumber.TicketNumber = ""
	tests := []struct {
		name    string
		outcome Outcome
		want    string
	}{
		{"failed", failedOutcome(), `[ruleflow] Callout "VSA close alert" failed for ticket T20211120.0001`},
		{"delivered", deliveredOutcome(), `[ruleflow] Callout "VSA close alert" delivered for ticket T20211120.0001`},
		{"no ticket number", noNumber, `[ruleflow] Callout "VSA close alert" failed for Ticket entry 8176`},
	}
	for _, tt := range tests {
		msg, err := tmpl.Render(tt.outcome, nil)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Subject != tt.want {
			t.Errorf("%s: Subject = %q, want %q", tt.name, msg.Subject, tt.want)
		}
	}
}

func TestRenderTimesInZone(t *testing.T) {
	tmpl := mustTemplates(t, &rules.Notify{To: []string{"ops@example.com"}, Body: "{{datetime .FirstAttempt}} | {{datetime .LastAttempt}} | {{.TimeZone}}"})
	o := failedOutcome()
	tests := []struct {
		loc  *time.Location
		last time.Time
		want string
	}{
		{newYork(t), o.LastAttempt, "2022-03-25 11:23:58 EDT (-04:00) | 2022-03-25 11:33:58 EDT (-04:00) | America/New_York\n"},
		{nil, o.LastAttempt, "2022-03-25 15:23:58 UTC (+00:00) | 2022-03-25 15:33:58 UTC (+00:00) | UTC\n"},
		{time.FixedZone("IST", 5*3600+1800), time.Time{}, "2022-03-25 20:53:58 IST (+05:30) | never | IST\n"},
	}
	for _, tt := range tests {
		o.LastAttempt = tt.last
		msg, err := tmpl.Render(o, tt.loc)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Text != tt.want {
			t.Errorf("Text = %q, want %q", msg.Text, tt.want)
		}
	}
}

func TestCustomTemplates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("subject.tmpl", "{{if .Delivered}}OK{{else}}FAIL{{end}}: {{.TicketNumber}}\n")
	write("body.tmpl", "Ticket {{.TicketNumber}}: {{.Outcome}} ({{.LastStatus}})")
	write("body.html", "<p>{{.Callout}} &mdash; {{.LastError}}</p>")

	o := failedOutcome()
	o.Callout = `<script>alert("x")</script>`
	tests := []struct {
		name                    string
		notify                  rules.Notify
		wantSubject, wantText   string
		wantHTML                string
		wantHTMLContains        string
		wantDefaultHTMLContains bool
	}{
		{
			name:        "strings",
			notify:      rules.Notify{Subject: "{{.Callout | printf \"%.8s\"}}\n{{.Outcome}}", Body: "{{.Rule}} / {{.Attempts}} attempts & <b>"},
			wantSubject: "<script> failed",
			wantText:    "Close RMM alert on completion / 11 attempts & <b>\n",
			wantHTML:    "<!DOCTYPE html>\n<html>\n<body>\n<pre>Close RMM alert on completion / 11 attempts &amp; &lt;b&gt;\n</pre>\n</body>\n</html>\n",
		},
		{
			name:        "files",
			notify:      rules.Notify{SubjectFile: "subject.tmpl", BodyFile: "body.tmpl", HTMLBodyFile: "body.html"},
			wantSubject: "FAIL: T20211120.0001",
			wantText:    "Ticket T20211120.0001: failed (503 Service Unavailable)\n",
			wantHTML:    "<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &mdash; remote returned HTTP 503</p>",
		},
		{
			name:                    "subject only, absolute file",
			notify:                  rules.Notify{SubjectFile: filepath.Join(dir, "subject.tmpl")},
			wantSubject:             "FAIL: T20211120.0001",
			wantHTMLContains:        "<th align=\"left\">Callout</th><td>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</td>",
			wantDefaultHTMLContains: true,
		},
		{
			name:        "empty subject falls back to the default",
			notify:      rules.Notify{Subject: "{{if .Delivered}}ok{{end}}", Body: "x"},
			wantSubject: `[ruleflow] Callout "<script>alert("x")</script>" failed for ticket T20211120.0001`,
			wantText:    "x\n",
			wantHTML:    "<!DOCTYPE html>\n<html>\n<body>\n<pre>x\n</pre>\n</body>\n</html>\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.notify.To = []string{"ops@example.com"}
			tmpl, err := NewTemplates(&tt.notify, dir)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := tmpl.Render(o, newYork(t))
			if err != nil {
				t.Fatal(err)
			}
			if msg.Subject != tt.wantSubject {
				t.Errorf("Subject = %q, want %q", msg.Subject, tt.wantSubject)
			}
			if tt.wantText != "" && msg.Text != tt.wantText {
				t.Errorf("Text = %q, want %q", msg.Text, tt.wantText)
			}
			if tt.wantHTML != "" && msg.HTML != tt.wantHTML {
				t.Errorf("HTML = %q, want %q", msg.HTML, tt.wantHTML)
			}
			if tt.wantHTMLContains != "" && !strings.Contains(msg.HTML, tt.wantHTMLContains) {
				t.Errorf("HTML does not contain %q:\n%s", tt.wantHTMLContains, msg.HTML)
			}
		})
	}
}

func TestNewTemplatesErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.tmpl"), []byte("line one\n{{.Callout}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "field.tmpl"), []byte("ok\n  {{.Callout}} {{.Password}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.html"), []byte("<p>{{.URL}}</p>\n{{template \"footer\"}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	to := []string{"ops@example.com"}
	tests := []struct {
		name    string
		notify  rules.Notify
		wantErr string
	}{
		{"subject parse error", rules.Notify{To: to, Subject: "{{.Callout"}, `notify.subject:1: unclosed action`},
		{"body unknown function", rules.Notify{To: to, Body: "{{upper .Callout}}"}, `notify.body:1: function "upper" not defined`},
		{"body unknown field", rules.Notify{To: to, Body: "a\n{{.Nope}}"}, `notify.body:2:2: executing "notify.body" at <.Nope>: can't evaluate field Nope in type notify.Data`},
		{"file parse error", rules.Notify{To: to, BodyFile: "bad.tmpl"}, filepath.Join(dir, "bad.tmpl") + `:2: bad character U+007D '}'`},
		{"file unknown field", rules.Notify{To: to, SubjectFile: "field.tmpl"}, filepath.Join(dir, "field.tmpl") + `:2:17: executing "` + filepath.Join(dir, "field.tmpl") + `" at <.Password>: can't evaluate field Password in type notify.Data`},
		{"missing file", rules.Notify{To: to, BodyFile: "nope.tmpl"}, "notify.body_file: cannot read " + filepath.Join(dir, "nope.tmpl") + ": no such file or directory"},
		{"missing html file", rules.Notify{To: to, HTMLBodyFile: "nope.html"}, "notify.html_body_file: cannot read " + filepath.Join(dir, "nope.html") + ": no such file or directory"},
		{"html template error", rules.Notify{To: to, HTMLBodyFile: "bad.html"}, filepath.Join(dir, "bad.html") + `:2:11: no such template "footer"`},
		{"runaway output", rules.Notify{To: to, Body: "{{range 20000}}" + strings.Repeat("x", 60) + "{{end}}"}, `notify.body: output longer than 1048576 bytes`},
		{"runaway loop", rules.Notify{To: to, Body: "a\n {{range 1000000000000}}{{end}}"}, `notify.body:2:9: executing "notify.body" at <range>: more than 100000 steps (range iterations and template calls)`},
		{"runaway nested loops", rules.Notify{To: to, Subject: "{{range 1000}}{{range $i := 1000}}{{if $i}}{{end}}{{end}}{{end}}"}, `notify.subject:1:22: executing "notify.subject" at <range>: more than 100000 steps (range iterations and template calls)`},
		{"runaway recursion", rules.Notify{To: to, Body: `{{define "a"}}{{if .}}{{template "a" slice . 1}}{{template "a" slice . 1}}{{end}}{{end}}{{template "a" "0123456789012345678901234567890123456789"}}`}, `notify.body:1:14: executing "a" at <template>: more than 100000 steps (range iterations and template calls)`},
		{"runaway loop in a defined template", rules.Notify{To: to, Body: `{{define "spin"}}{{range .}}{{end}}{{end}}{{template "spin" 100001}}`}, `notify.body:1:25: executing "spin" at <range>: more than 100000 steps (range iterations and template calls)`},
		{"subject and subject_file", rules.Notify{To: to, Subject: "x", SubjectFile: "y"}, "notify.subject_file: set either subject or subject_file, not both"},
		{"body and body_file", rules.Notify{To: to, Body: "x", BodyFile: "y"}, "notify.body_file: set either body or body_file, not both"},
		{"bad address", rules.Notify{To: []string{"ops@example.com", "not an address"}}, `notify.to[1]: invalid address "not an address": mail: no angle-addr`},
		{"empty address", rules.Notify{To: []string{" "}}, "notify.to[0]: empty address"},
		{"several", rules.Notify{To: []string{""}, Subject: "{{", Body: "{{end}}"}, "notify.to[0]: empty address (and 2 more errors)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := NewTemplates(&tt.notify, dir)
			if err == nil {
				t.Fatalf("NewTemplates succeeded, want error %q", tt.wantErr)
			}
			if tmpl != nil {
				t.Error("NewTemplates returned Templates with an error")
			}
			if err.Error() != tt.wantErr {
				t.Errorf("error = %q\n want %q", err.Error(), tt.wantErr)
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Errorf("error is %T, want a non-empty ErrorList", err)
			}
		})
	}
}

func TestErrorList(t *testing.T) {
	var l ErrorList
	if l.Err() != nil || l.Error() != "no errors" {
		t.Fatalf("zero ErrorList: Err() = %v, Error() = %q", l.Err(), l.Error())
	}
	l.Add("notify.body", 3, 7, "bad")
	l.Add("notify.to[0]", 0, 0, "empty address")
	tests := []struct {
		err  error
		want string
	}{
		{l[0], "notify.body:3:7: bad"},
		{l[1], "notify.to[0]: empty address"},
		{&ConfigError{Source: "f.tmpl", Line: 2, Msg: "m"}, "f.tmpl:2: m"},
		{l.Err(), "notify.body:3:7: bad (and 1 more errors)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	// Err returns the list whatever its length (go/scanner's contract), and
	// errors.As finds the list, or its first error, through wrapping.
	one := ErrorList{l[0]}
	if _, ok := one.Err().(ErrorList); !ok || one.Err().Error() != l[0].Error() {
		t.Errorf("one-element Err() = %T %q, want the ErrorList", one.Err(), one.Err())
	}
	wrapped := fmt.Errorf("callout %q: %w", "x", l.Err())
	var list ErrorList
	var first *ConfigError
	if !errors.As(wrapped, &list) || len(list) != 2 || !errors.As(wrapped, &first) || first.Msg != "bad" {
		t.Errorf("errors.As through wrapping: list %v, first %v", list, first)
	}
}

func TestRecipients(t *testing.T) {
	tmpl := mustTemplates(t, &rules.Notify{To: []string{"a@example.com, B <b@example.com>", "A@EXAMPLE.com", "Zoë <z@example.com>"}})
	want := []string{"a@example.com", `"B" <b@example.com>`, "=?utf-8?q?Zo=C3=AB?= <z@example.com>"}
	if diff := cmp.Diff(want, tmpl.Recipients()); diff != "" {
		t.Errorf("Recipients (-want +got):\n%s", diff)
	}
}

func TestShouldNotify(t *testing.T) {
	to := []string{"ops@example.com"}
	tests := []struct {
		name      string
		notify    *rules.Notify
		delivered bool
		want      bool
	}{
		{"no notify block, failed", nil, false, false},
		{"no recipients, failed", &rules.Notify{}, false, false},
		{"blank recipients, failed", &rules.Notify{To: []string{"", "  "}}, false, false},
		{"failed", &rules.Notify{To: to}, false, true},
		{"failed, failures only", &rules.Notify{To: to, FailuresOnly: true}, false, true},
		{"delivered", &rules.Notify{To: to}, true, true},
		{"delivered, failures only", &rules.Notify{To: to, FailuresOnly: true}, true, false},
		{"no recipients, delivered", &rules.Notify{FailuresOnly: false}, true, false},
	}
	for _, tt := range tests {
		if got := ShouldNotify(tt.notify, tt.delivered); got != tt.want {
			t.Errorf("%s: ShouldNotify = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSafeURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"https://rmm.example.com/ws/TicketService.asmx", "https://rmm.example.com/ws/TicketService.asmx"},
		{"https://svc:hunter2@rmm.example.com/ws", "https://rmm.example.com/ws"},
		{"https://svc@rmm.example.com/ws", "https://rmm.example.com/ws"},
		{"https://h.example.com/x?client=dev3&api_key=k3y&Token=t&sig=abc&page=2", "https://h.example.com/x?client=dev3&api_key=********&Token=********&sig=********&page=2"},
		{"https://h.example.com/x?password", "https://h.example.com/x?password"},
		{"https://h.example.com/x#access_token=abc", "https://h.example.com/x"},
		{"http://u:p@[::1]:8080/p", "http://[::1]:8080/p"},
		{"https://u:p%zz@h.example.com/p?token=x", "https://h.example.com/p"},
		{"", ""},
		// Unparseable inputs found by FuzzSafeURL (issue 9).
		{"@//@#%", "@//"},
		{"@//user:hunter2@host/x#%", "@//host/x"},
		{"http:user:hunter2@host/x", "http:host/x"},
	}
	for _, tt := range tests {
		if got := SafeURL(tt.in); got != tt.want {
			t.Errorf("SafeURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRenderConcurrent(t *testing.T) {
	tmpl := mustTemplates(t, &rules.Notify{To: []string{"ops@example.com"}})
	loc := newYork(t)
	want, err := tmpl.Render(failedOutcome(), loc)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan Message, 8)
	for range 8 {
		go func() {
			m, _ := tmpl.Render(failedOutcome(), loc)
			done <- m
		}()
	}
	ids := map[string]bool{want.MessageID: true}
	for range 8 {
		m := <-done
		if m.Text != want.Text || m.HTML != want.HTML || m.Subject != want.Subject {
			t.Error("concurrent Render gave a different message")
		}
		if ids[m.MessageID] {
			t.Errorf("Message-ID %s repeated", m.MessageID)
		}
		ids[m.MessageID] = true
	}
}

func BenchmarkRender(b *testing.B) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name   string
		notify *rules.Notify
	}{
		{"default", &rules.Notify{To: []string{"ops@example.com"}}},
		{"custom", &rules.Notify{To: []string{"ops@example.com"}, Subject: "{{.Callout}} {{.Outcome}}", Body: "{{.TicketNumber}}: {{.LastStatus}} {{datetime .LastAttempt}}"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			tmpl, err := NewTemplates(c.notify, "")
			if err != nil {
				b.Fatal(err)
			}
			o := failedOutcome()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tmpl.Render(o, loc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCompose(b *testing.B) {
	tmpl, err := NewTemplates(&rules.Notify{To: []string{"ops@example.com"}}, "")
	if err != nil {
		b.Fatal(err)
	}
	msg, err := tmpl.Render(failedOutcome(), time.UTC)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := compose(msg, "ruleflow@example.com", now, "example.com"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestREADMESample keeps the sample notification in README.md in step with the golden file.
func TestREADMESample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Skipf("README.md not found: %v", err)
	}
	sample, err := os.ReadFile(filepath.Join("testdata", "failure.txt.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```text\n"+string(sample)+"```") {
		t.Error("README.md's sample notification differs from testdata/failure.txt.golden; copy it over")
	}
}

func TestScrubURLs(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"connection refused", "connection refused"},
		{`Post "https://svc:hunter2@rmm.example.com/ws": EOF`, `Post "https://rmm.example.com/ws": EOF`},
		{"a http://u:p@h1 and ftp://x@h2/y", "a http://h1 and ftp://h2/y"},
		{"no userinfo https://h.example.com/a@b", "no userinfo https://h.example.com/a@b"},
		{"dangling ://", "dangling ://"},
	}
	for _, tt := range tests {
		if got := scrubURLs(tt.in); got != tt.want {
			t.Errorf("scrubURLs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	tmpl := mustTemplates(t, &rules.Notify{To: []string{"ops@example.com"}, Body: "{{.LastError}}"})
	o := failedOutcome()
	o.LastError = `Post "https://svc:hunter2@rmm.example.com/ws": context deadline exceeded`
	msg, err := tmpl.Render(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Post \"https://rmm.example.com/ws\": context deadline exceeded\n"; msg.Text != want {
		t.Errorf("Text = %q, want %q", msg.Text, want)
	}
}
