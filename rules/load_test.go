package rules

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/qualification"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// testEnv is the environment the tests expand ${NAME} from.
func testEnv(name string) (string, bool) {
	v, ok := map[string]string{
		"RMM_PASSWORD": "s3cret",
		"RMM_HOST":     "127.0.0.1:9101",
		"EMPTY":        "",
		"PORT":         "2526",
		"FIELD":        "Status",
	}[name]
	return v, ok
}

func parseTest(t testing.TB, src string) (*Config, error) {
	t.Helper()
	return parse("t.yaml", []byte(src), testEnv)
}

func mustParse(t testing.TB, src string) *Config {
	t.Helper()
	c, err := parseTest(t, src)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return c
}

// errLines returns "line:col: message" for every error of err (file name dropped).
func errLines(err error) []string {
	var list ErrorList
	if !errors.As(err, &list) {
		if err == nil {
			return nil
		}
		return []string{"not an ErrorList: " + err.Error()}
	}
	out := make([]string, len(list))
	for i, e := range list {
		p := e.Pos
		p.File = ""
		out[i] = p.String() + ": " + e.Msg
	}
	return out
}

const demoConfig = "../testdata/demo/ruleflow.yaml"

func TestLoadDemo(t *testing.T) {
	c, err := Load(demoConfig)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := c.Summary(), "ok: 2 forms, 8 rules, 6 callouts, 2 webhooks"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	var forms []string
	for _, f := range c.Forms {
		forms = append(forms, f.Name)
	}
	if diff := cmp.Diff([]string{"Ticket", "HPD:Help Desk"}, forms); diff != "" {
		t.Errorf("form order (-want +got):\n%s", diff)
	}
	ticket, ok := c.Form("Ticket")
	if !ok {
		t.Fatal(`Form("Ticket") not found`)
	}
	var fields []string
	for _, f := range ticket.Schema.Fields[:5] {
		fields = append(fields, f.Name)
	}
	if diff := cmp.Diff([]string{"TicketID", "TicketNumber", "Title", "Status", "Priority"}, fields); diff != "" {
		t.Errorf("field order (-want +got):\n%s", diff)
	}
	st, _ := ticket.Schema.Field("Status")
	if st.ID != 7 || st.Type != qualification.Selection || len(st.Options) != 5 {
		t.Errorf("Status field = %+v", st)
	}
	if c.Location.String() != "America/New_York" {
		t.Errorf("Location = %v", c.Location)
	}
	if c.SMTP.Port != 2525 || c.SMTP.TLS != "none" {
		t.Errorf("SMTP = %+v", c.SMTP)
	}
	vsa, ok := c.Callout("Kaseya VSA close alert")
	if !ok {
		t.Fatal("callout not found")
	}
	if vsa.Password.Reveal() != "demo-password" && os.Getenv("RULEFLOW_DEMO_VSA_PASSWORD") == "" {
		t.Errorf("password default not expanded: %q", vsa.Password.Reveal())
	}
	if _, ok := c.Callout("nope"); ok {
		t.Error(`Callout("nope") found`)
	}
	for _, r := range c.Rules {
		if r.Condition != "" && r.Program == nil {
			t.Errorf("rule %q: condition not compiled", r.Name)
		}
		if len(r.Targets) != len(r.Callouts) {
			t.Errorf("rule %q: %d targets for %d callouts", r.Name, len(r.Targets), len(r.Callouts))
		}
	}
	if n := len(c.WebhookRules()); n != 2 {
		t.Errorf("WebhookRules() = %d rules, want 2", n)
	}
	if n := len(c.AllRules()); n != 10 {
		t.Errorf("AllRules() = %d rules, want 10", n)
	}
	if f, ok := c.CallbackFunction("close_ticket"); !ok || f.Parameters["id"] != "int" {
		t.Errorf("CallbackFunction(close_ticket) = %+v, %v", f, ok)
	}
	if tg, ok := c.Target("jira"); !ok || tg.Iparams["project"] != "OPS" {
		t.Errorf("Target(jira) = %+v, %v", tg, ok)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load(missing) = %v, want a not-exist error", err)
	}
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, `version: 1
smtp: {host: mail.example.com, from: ruleflow@example.com}
forms:
  Ticket:
    fields:
      Status: {type: selection, options: [New, Complete]}
callouts:
  - {name: A, url: "https://rmm.example.com/a", format: name-value}
  - {name: B, url: "https://rmm.example.com/b", format: json, method: post, active: false, timeout: 5s, retry: {interval: 2s, max: 0}}
rules:
  - {name: R, form: Ticket, events: [create], callouts: [A, B]}
`)
	a, _ := c.Callout("A")
	want := Callout{Name: "A", URL: "https://rmm.example.com/a", Method: "POST", Format: FormatNameValue,
		Timeout: Duration(20 * time.Second), Retry: Retry{Interval: Duration(60 * time.Second), Max: intPtr(10)}}
	if diff := cmp.Diff(want, *a); diff != "" {
		t.Errorf("callout A (-want +got):\n%s", diff)
	}
	b, _ := c.Callout("B")
	if b.Method != "POST" || b.IsActive() || b.Timeout.Std() != 5*time.Second || b.Retry.Interval.Std() != 2*time.Second || *b.Retry.Max != 0 {
		t.Errorf("callout B = %+v", b)
	}
	if c.SMTP.Port != 587 || c.SMTP.TLS != "starttls" {
		t.Errorf("smtp defaults = %+v", c.SMTP)
	}
	if c.Location != time.UTC || c.NullMode != qualification.Workflow {
		t.Errorf("Location, NullMode = %v, %v", c.Location, c.NullMode)
	}
	r := c.Rules[0]
	if !r.IsActive() || r.Program != nil {
		t.Errorf("rule defaults: active %v, program %v", r.IsActive(), r.Program)
	}
}

func TestEnvExpansion(t *testing.T) {
	c := mustParse(t, `version: 1
smtp: {host: mail.example.com, from: ruleflow@example.com, port: "${PORT}"}
forms:
  Ticket: {fields: {Status: {type: character}}}
callouts:
  - name: A
    url: http://${RMM_HOST}/x
    format: name-value
    username: svc
    password: ${RMM_PASSWORD}
    headers: {X-Literal: "$${NOT_EXPANDED}", X-Default: "${UNSET_VAR:-fallback}", X-Empty: "[${EMPTY}]"}
rules:
  - {name: R, form: Ticket, events: [create], callouts: [A], condition: "'${FIELD}' = $USER$"}
`)
	a, _ := c.Callout("A")
	if a.URL != "http://127.0.0.1:9101/x" || a.Password.Reveal() != "s3cret" {
		t.Errorf("URL, password = %q, %q", a.URL, a.Password.Reveal())
	}
	want := Headers{"X-Literal": "${NOT_EXPANDED}", "X-Default": "fallback", "X-Empty": "[]"}
	if diff := cmp.Diff(want, a.Headers); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if c.SMTP.Port != 2526 {
		t.Errorf("port = %d", c.SMTP.Port)
	}
	if got := c.Rules[0].Condition; got != "'Status' = $USER$" {
		t.Errorf("condition = %q", got)
	}
}

func TestMergeKeysAndAliases(t *testing.T) {
	c := mustParse(t, `version: 1
forms:
  Ticket: {fields: {Status: {type: character}}}
x-defaults: &defaults
  format: name-value
  timeout: 7s
callouts:
  - <<: *defaults
    name: A
    url: http://127.0.0.1:9/a
  - <<: *defaults
    name: B
    url: http://127.0.0.1:9/b
    timeout: 9s
rules:
  - {name: R, form: Ticket, events: &ev [create, update], callouts: [A, B]}
  - {name: S, form: Ticket, events: *ev, callouts: [A]}
`)
	a, _ := c.Callout("A")
	b, _ := c.Callout("B")
	if a.Format != FormatNameValue || a.Timeout.Std() != 7*time.Second || b.Timeout.Std() != 9*time.Second || b.Format != FormatNameValue {
		t.Errorf("merged callouts: A %+v, B %+v", a, b)
	}
	if diff := cmp.Diff([]Kind{KindCreate, KindUpdate}, c.Rules[1].Events); diff != "" {
		t.Errorf("aliased events (-want +got):\n%s", diff)
	}
}

func TestLookupsOnHandBuiltConfig(t *testing.T) {
	c := &Config{
		Forms:     []*Form{{Name: "Ticket"}},
		Callouts:  []*Callout{{Name: "A"}},
		Callbacks: []*CallbackFunction{{APIName: "f"}},
		Targets:   []*TargetURL{{Name: "t"}},
	}
	if _, ok := c.Form("Ticket"); !ok {
		t.Error(`Form("Ticket") not found`)
	}
	if _, ok := c.Form("Nope"); ok {
		t.Error(`Form("Nope") found`)
	}
	if _, ok := c.Callout("A"); !ok {
		t.Error(`Callout("A") not found`)
	}
	if _, ok := c.CallbackFunction("f"); !ok {
		t.Error(`CallbackFunction("f") not found`)
	}
	if _, ok := c.Target("t"); !ok {
		t.Error(`Target("t") not found`)
	}
}
