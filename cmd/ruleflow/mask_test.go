package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// maskConfig fires one callout whose URL and headers hold secrets; its URL is a
// loopback port nobody listens on, so a sent delivery fails at once.
const maskConfig = `version: 1
forms:
  Ticket:
    fields: {TicketID: {id: 1, type: integer}}
    callout_fields: {id: TicketID}
callouts:
  - name: Keyed
    url: "http://127.0.0.1:9/x?api_key=k3y-SECRET&id=1&X-Signature=sig-SECRET"
    format: json
    retry: {max: 0}
    headers:
      X-Api-Key: {value: hdr-SECRET, secret: true}
      X-Tenant: acme
rules:
  - {name: R, form: Ticket, events: [create], callouts: [Keyed]}
`

const maskEvent = `{"event":"create","form":"Ticket","entry_id":"1","time":"2026-11-22T10:00:00Z","after":{"TicketID":1}}
`

// TestReplayAndDeliveriesMask checks that replay (text and JSON) and deliveries
// list/show never print credential-like query values or secret header values.
func TestReplayAndDeliveriesMask(t *testing.T) {
	cfg := writeFile(t, "ruleflow.yaml", maskConfig)
	fixture := writeFile(t, "events.jsonl", maskEvent)
	for _, format := range []string{"text", "json"} {
		code, out, errOut := runCLI(t, "replay", "--format", format, "--config", cfg, fixture)
		if code != 0 {
			t.Fatalf("replay --format %s: exit %d\n%s", format, code, errOut)
		}
		if strings.Contains(out, "SECRET") || !strings.Contains(out, "api_key=********&id=1&X-Signature=********") || !strings.Contains(out, "acme") {
			t.Errorf("replay --format %s:\n%s", format, out)
		}
		want := "X-Api-Key: ********"
		if format == "json" {
			want = `"X-Api-Key":"********"`
		}
		if !strings.Contains(out, want) {
			t.Errorf("replay --format %s lacks %q:\n%s", format, want, out)
		}
	}

	dsn := "sqlite:" + filepath.Join(t.TempDir(), "outbox.db")
	t.Setenv("RULEFLOW_KEY", strings.Repeat("ab", 32))
	code, out, errOut := runCLI(t, "replay", "--send", "--store", dsn, "--wait", "20s", "--config", cfg, fixture)
	if code != 1 {
		t.Fatalf("replay --send: exit %d, want 1 (the delivery fails)\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "SECRET") {
		t.Errorf("replay --send shows a secret:\n%s%s", out, errOut)
	}
	id := regexp.MustCompile(`dlv_[0-9A-Z]+`).FindString(out)
	if id == "" {
		t.Fatalf("no delivery ID in:\n%s", out)
	}
	_, list, _ := runCLI(t, "deliveries", "list", "--store", dsn)
	code, show, errOut := runCLI(t, "deliveries", "show", "--store", dsn, id)
	if code != 0 {
		t.Fatalf("deliveries show: exit %d\n%s", code, errOut)
	}
	if strings.Contains(list+show, "SECRET") {
		t.Errorf("deliveries list/show shows a secret:\n%s\n%s", list, show)
	}
	for _, want := range []string{"request:", "POST http://127.0.0.1:9/x?api_key=********&id=1&X-Signature=********", "X-Api-Key: ********", "X-Tenant: acme"} {
		if !strings.Contains(show, want) {
			t.Errorf("deliveries show lacks %q:\n%s", want, show)
		}
	}
}
