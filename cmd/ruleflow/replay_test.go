package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/notify/smtptest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

const demoConfig = "../../testdata/demo/ruleflow.yaml"
const demoEvents = "../../testdata/demo/events.jsonl"

func TestReplayDemoText(t *testing.T) {
	code, out, errOut := runCLI(t, "replay", "--config", demoConfig, demoEvents)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	golden(t, "replay_demo.golden", out)
	if strings.Contains(out, "Demo123") || strings.Contains(out, "svc-password") {
		t.Error("replay output shows a password")
	}
}

func TestReplayDemoJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "replay", "--format", "json", "--config", demoConfig, demoEvents)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	golden(t, "replay_demo_json.golden", out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i, l := range lines {
		var rec replayRecord
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("line %d is not a JSON record: %v\n%s", i+1, err, l)
		}
		if rec.Rule == "" || rec.Callout == "" || rec.Request.Method == "" || rec.Request.URL == "" {
			t.Errorf("line %d: incomplete record %+v", i+1, rec)
		}
		if v, ok := rec.Request.Headers["Authorization"]; ok && v != "Basic ********" {
			t.Errorf("line %d: Authorization not masked: %q", i+1, v)
		}
	}
	// Every fired callout is one record: the text summary counts them too.
	_, text, _ := runCLI(t, "replay", "--config", demoConfig, demoEvents)
	want := fmt.Sprintf("%d callouts fired", len(lines))
	if !strings.Contains(text, want) {
		t.Errorf("text summary does not say %q:\n%s", want, lastLine(text))
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestReplayBadLines(t *testing.T) {
	fixture := writeFile(t, "events.jsonl", `{"event":"create","form":"Ticket","entry_id":"1","time":"2026-11-22T10:00:00Z","after":{"TicketID":1,"Status":"New","Priority":"Critical"}}
{"event":"create","form":"Ticket",
{"event":"create","form":"Nope","entry_id":"2","time":"2026-11-22T10:00:00Z"}

{"event":"create","form":"Ticket","entry_id":"3","time":"2026-11-22T10:00:00Z","after":{"TicketID":"three"}}
{"event":"create","form":"Ticket","entry_id":"4","time":"2026-11-22T10:01:00Z","after":{"TicketID":4,"Status":"New","Priority":"Critical"}}
`)
	code, out, errOut := runCLI(t, "replay", "--config", demoConfig, fixture)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	// Each bad line is reported with file:line and the rest is replayed.
	for _, want := range []string{fixture + ":2: ", fixture + ":3: ", fixture + ":5: "} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	for _, want := range []string{fixture + ":1: create Ticket 1", fixture + ":6: create Ticket 4", "2 events, "} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(errOut), "3 bad lines") {
		t.Errorf("stderr does not end with the summary:\n%s", errOut)
	}
}

func TestReplayFlagErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"replay", demoEvents}, "ruleflow: required flag(s) \"config\" not set\n"},
		{[]string{"replay", "--config", demoConfig}, "ruleflow: requires at least 1 arg(s), only received 0\n"},
		{[]string{"replay", "--config", demoConfig, "--format", "xml", demoEvents}, "ruleflow: --format \"xml\": want text or json\n"},
		{[]string{"replay", "--config", demoConfig, "missing.jsonl"}, "ruleflow: open missing.jsonl: no such file or directory\n"},
	}
	for _, tt := range tests {
		code, _, errOut := runCLI(t, tt.args...)
		if code != 1 || errOut != tt.wantErr {
			t.Errorf("%v: exit %d, stderr %q; want 1, %q", tt.args, code, errOut, tt.wantErr)
		}
	}
}

// receiver records the Idempotency-Key of every request; requests to /fail get 500.
type receiver struct {
	mu   sync.Mutex
	keys []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	io.Copy(io.Discard, req.Body)
	r.mu.Lock()
	r.keys = append(r.keys, req.Header.Get("Idempotency-Key"))
	r.mu.Unlock()
	if strings.HasPrefix(req.URL.Path, "/fail") {
		http.Error(w, "receiver is broken", http.StatusInternalServerError)
	}
}

func sendConfig(t *testing.T, url string) string {
	return writeFile(t, "ruleflow.yaml", `version: 1
timezone: UTC
forms:
  Ticket:
    fields:
      TicketID: {id: 1, type: integer}
      TicketNumber: {id: 2, type: character}
      Status: {id: 7, type: selection, options: [New, In Progress, Complete]}
    callout_fields: {id: TicketID, number: TicketNumber, status: Status}
callouts:
  - {name: ok, url: "`+url+`/ok", format: name-value}
  - {name: broken, url: "`+url+`/fail", format: json, retry: {interval: 1s, max: 1}}
rules:
  - {name: completed, form: Ticket, events: [update], condition: "'Status' = \"Complete\"", callouts: [ok]}
  - {name: reopened, form: Ticket, events: [update], condition: "'Status' = \"New\" AND 'DB.Status' = \"Complete\"", callouts: [broken]}
`)
}

func TestReplaySendAndDeliveries(t *testing.T) {
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	cfg := sendConfig(t, srv.URL)
	fixture := writeFile(t, "events.jsonl", `{"event":"update","form":"Ticket","entry_id":"1","time":"2026-11-22T10:00:00Z","before":{"TicketID":1,"Status":"New"},"after":{"TicketID":1,"Status":"Complete"}}
{"event":"update","form":"Ticket","entry_id":"2","time":"2026-11-22T10:00:00Z","before":{"TicketID":2,"Status":"New"},"after":{"TicketID":2,"Status":"Complete"}}
`)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "outbox.db")
	t.Setenv("RULEFLOW_KEY", strings.Repeat("ab", 32))

	code, out, errOut := runCLI(t, "replay", "--send", "--store", dsn, "--wait", "20s", "--config", cfg, fixture)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "sent: 2 deliveries: 2 delivered, 0 failed, 0 pending; notification e-mails: 0 sent, 0 failed, 0 pending\n") {
		t.Errorf("no summary of 2 delivered:\n%s", out)
	}
	ids := regexp.MustCompile(`delivery (dlv_[0-9A-Z]+)`).FindAllStringSubmatch(out, -1)
	if len(ids) != 2 {
		t.Fatalf("want 2 delivery IDs in the output, got %d:\n%s", len(ids), out)
	}
	rcv.mu.Lock()
	seen := strings.Join(rcv.keys, " ")
	rcv.mu.Unlock()
	for _, id := range ids {
		if !strings.Contains(seen, id[1]) {
			t.Errorf("receiver never saw Idempotency-Key %s (saw %s)", id[1], seen)
		}
	}

	// A delivery that keeps failing: exit 1, reported as failed after 1 + max attempts.
	failing := writeFile(t, "failing.jsonl", `{"event":"update","form":"Ticket","entry_id":"3","time":"2026-11-22T10:00:00Z","before":{"TicketID":3,"Status":"Complete"},"after":{"TicketID":3,"Status":"New"}}
`)
	code, out, _ = runCLI(t, "replay", "--send", "--store", dsn, "--wait", "20s", "--config", cfg, failing)
	if code != 1 {
		t.Errorf("failing replay: exit %d, want 1\n%s", code, out)
	}
	if !strings.Contains(out, "sent: 1 deliveries: 0 delivered, 1 failed, 0 pending") || !strings.Contains(out, "HTTP 500") {
		t.Errorf("failing replay output:\n%s", out)
	}
	failedID := regexp.MustCompile(`failed: (dlv_[0-9A-Z]+) broken`).FindStringSubmatch(out)
	if failedID == nil {
		t.Fatalf("no failed delivery line:\n%s", out)
	}

	// deliveries list / show / retry on the same store.
	code, out, errOut = runCLI(t, "deliveries", "list", "--store", dsn, "--status", "failed")
	if code != 0 || !strings.Contains(out, failedID[1]) || strings.Count(strings.TrimSpace(out), "\n") != 1 {
		t.Errorf("deliveries list --status failed: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "deliveries", "list", "--store", dsn, "--callout", "ok")
	if code != 0 || strings.Count(strings.TrimSpace(out), "\n") != 2 {
		t.Errorf("deliveries list --callout ok: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "deliveries", "show", "--store", dsn, failedID[1])
	for _, want := range []string{"status:      failed", "attempts:    2 of 2", "attempt 1 at ", "attempt 2 at ", "status 500", "response: receiver is broken"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("deliveries show lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	code, out, _ = runCLI(t, "deliveries", "retry", "--store", dsn, failedID[1])
	if code != 0 || out != failedID[1]+": pending, due now\n" {
		t.Errorf("deliveries retry: exit %d, %q", code, out)
	}
	_, out, _ = runCLI(t, "deliveries", "list", "--store", dsn, "--status", "pending")
	if !strings.Contains(out, failedID[1]) {
		t.Errorf("retried delivery is not pending:\n%s", out)
	}
	code, _, errOut = runCLI(t, "deliveries", "retry", "--store", dsn, ids[0][1])
	if want := "ruleflow: store: job " + ids[0][1] + ": already delivered\n"; code != 1 || errOut != want {
		t.Errorf("retry of a delivered job: exit %d, %q; want 1, %q", code, errOut, want)
	}
	code, _, errOut = runCLI(t, "deliveries", "show", "--store", dsn, "dlv_nope")
	if code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("show unknown: exit %d, %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "deliveries", "list", "--store", dsn, "--status", "lost")
	if code != 1 || errOut != "ruleflow: --status \"lost\": want pending, delivered or failed\n" {
		t.Errorf("bad status: exit %d, %q", code, errOut)
	}
}

// TestReplaySendWaitsForNotifications: a replay with --send is a complete end-to-end
// run, so it returns only after the notification e-mails of its deliveries went out.
func TestReplaySendWaitsForNotifications(t *testing.T) {
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	mb := smtptest.Start(t)
	cfg := writeFile(t, "ruleflow.yaml", fmt.Sprintf(`version: 1
smtp: {host: 127.0.0.1, port: %d, tls: none, from: ruleflow@example.com}
forms:
  Ticket:
    fields:
      TicketID: {type: integer}
      TicketNumber: {type: character}
      Status: {type: selection, options: [New, Complete]}
    callout_fields: {id: TicketID, number: TicketNumber, status: Status}
callouts:
  - {name: ok, url: "%s/ok", format: name-value, notify: {to: [ops@example.com]}}
  - {name: broken, url: "%s/fail", format: soap, method_name: Close, soap_action: "http://tempuri.org/Close",
     retry: {interval: 1s, max: 1}, notify: {to: [ops@example.com, lead@example.com], failures_only: true}}
  - {name: quiet, url: "%s/ok", format: json, notify: {to: [ops@example.com], failures_only: true}}
rules:
  - {name: completed, form: Ticket, events: [update], condition: "'Status' = \"Complete\"", callouts: [ok, broken, quiet]}
`, mb.Port, srv.URL, srv.URL, srv.URL))
	fixture := writeFile(t, "events.jsonl", `{"event":"update","form":"Ticket","entry_id":"7","time":"2026-11-22T10:00:00Z","before":{"TicketID":7,"TicketNumber":"T7","Status":"New"},"after":{"TicketID":7,"TicketNumber":"T7","Status":"Complete"}}
`)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "outbox.db")
	t.Setenv("RULEFLOW_KEY", strings.Repeat("cd", 32))

	code, out, errOut := runCLI(t, "replay", "--send", "--store", dsn, "--wait", "30s", "--config", cfg, fixture)
	if code != 1 { // the broken callout failed
		t.Errorf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	want := "sent: 3 deliveries: 2 delivered, 1 failed, 0 pending; notification e-mails: 2 sent, 0 failed, 0 pending\n"
	if !strings.Contains(out, want) {
		t.Errorf("summary lacks %q:\n%s", want, out)
	}
	// When replay returns, the e-mails are already in the mailbox: one success
	// e-mail (ok) and one failure e-mail to two recipients (broken); none for quiet.
	var msgs []string // "rcpt1,rcpt2\n" + data
	for _, m := range mb.Messages() {
		msgs = append(msgs, strings.Join(m.To, ",")+"\n"+string(m.Data))
	}
	if len(msgs) != 2 {
		t.Fatalf("mailbox holds %d messages, want 2:\n%s", len(msgs), strings.Join(msgs, "\n----\n"))
	}
	var sawOK, sawBroken bool
	for _, m := range msgs {
		switch {
		case strings.HasPrefix(m, "ops@example.com\n") && strings.Contains(m, `Callout "ok" delivered`):
			sawOK = true
		case strings.HasPrefix(m, "ops@example.com,lead@example.com\n") && strings.Contains(m, `Callout "broken" failed`):
			sawBroken = true
		}
	}
	if !sawOK || !sawBroken {
		t.Errorf("want a success e-mail for ok and a failure e-mail for broken:\n%s", strings.Join(msgs, "\n----\n"))
	}
}

// TestSecretEncryptThenSend: a password encrypted by `ruleflow secret encrypt` for a
// store is decrypted by the engine on that store, with no RULEFLOW_KEY: both use
// the key file beside the SQLite database.
func TestSecretEncryptThenSend(t *testing.T) {
	t.Setenv("RULEFLOW_KEY", "")
	var mu sync.Mutex
	var gotUser, gotPass string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotUser, gotPass, _ = r.BasicAuth()
		mu.Unlock()
	}))
	defer srv.Close()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "outbox.db")

	enc, _, err := runSecret(t, "S3cret-pw\n", "encrypt", "--store", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "outbox.db.key")); err != nil {
		t.Fatalf("secret encrypt did not use the store's key file: %v", err)
	}
	cfg := writeFile(t, "ruleflow.yaml", `version: 1
forms:
  Ticket:
    fields: {TicketID: {type: integer}, Status: {type: character}}
    callout_fields: {id: TicketID, status: Status}
callouts:
  - {name: rmm, url: "`+srv.URL+`", format: name-value, username: svc, password: "`+strings.TrimSpace(enc)+`"}
rules:
  - {name: r, form: Ticket, events: [create], callouts: [rmm]}
`)
	fixture := writeFile(t, "events.jsonl", `{"event":"create","form":"Ticket","entry_id":"1","time":"2026-11-22T10:00:00Z","after":{"TicketID":1,"Status":"New"}}
`)
	code, out, errOut := runCLI(t, "replay", "--send", "--store", dsn, "--wait", "10s", "--config", cfg, fixture)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	mu.Lock()
	defer mu.Unlock()
	if gotUser != "svc" || gotPass != "S3cret-pw" {
		t.Errorf("receiver saw Basic auth %q/%q, want svc/S3cret-pw", gotUser, gotPass)
	}
	if strings.Contains(out+errOut, "S3cret-pw") {
		t.Error("the password appears in replay's output")
	}
}
