package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store/storetest"
	"github.com/ruleflow/ruleflow/rules"
)

const historyConfig = `version: 1
forms:
  Ticket:
    fields:
      TicketID: {id: 1, type: integer}
      Status:   {id: 7, type: selection, options: [New, Complete]}
      Title:    {id: 8, type: character}
callouts:
  - {name: Closer, url: "http://127.0.0.1:9/close", format: name-value}
  - {name: Off, url: "http://127.0.0.1:9/off", format: name-value, active: false}
rules:
  - {name: Needs title, form: Ticket, events: [update], condition: "'Status' = \"Complete\" AND 'Title' = $NULL$", reject: "Give it a title first"}
  - {name: Completed, form: Ticket, events: [update], condition: "'Status' = \"Complete\"", callouts: [Closer, Off], set: {Title: '"done: " + ''Title'''}}
`

// TestHistoryCommand: ruleflow history prints a record's events newest first, in
// text and as the API's JSON, on both stores.
func TestHistoryCommand(t *testing.T) {
	for _, st := range []struct {
		name string
		dsn  func(t testing.TB) string
	}{
		{"sqlite", storetest.SQLiteDSN},
		{"postgres", func(t testing.TB) string { return storetest.PostgresDSN(t, "rf_cmd_history_") }},
	} {
		t.Run(st.name, func(t *testing.T) {
			dsn := st.dsn(t)
			cfg, err := rules.Parse("h.yaml", []byte(historyConfig))
			if err != nil {
				t.Fatal(err)
			}
			key, _ := rules.ParseKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
			ctx := context.Background()
			eng, err := engine.Open(ctx, engine.Options{Config: cfg, Store: dsn, Key: key, NoDispatch: true, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			update := func(after rules.Record) *engine.Result {
				res, err := eng.Handle(ctx, &rules.Event{Kind: rules.KindUpdate, Form: "Ticket", EntryID: "42", Time: time.Now(),
					Before: rules.Record{"Status": "New"}, After: after})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			update(rules.Record{"Status": "Complete"}) // rejected; IDs are monotonic, so it sorts first
			res := update(rules.Record{"Status": "Complete", "Title": "printer"})
			if err := eng.Close(); err != nil { // commits the queued history of the rejected event
				t.Fatal(err)
			}

			var stdout, stderr bytes.Buffer
			if code := run([]string{"history", "--store", dsn, "Ticket", "42"}, &stdout, &stderr); code != 0 {
				t.Fatalf("history = %d: %s", code, stderr.String())
			}
			stamp := regexp.MustCompile(`(?m)^\S+  evt_[0-9A-Z]{26}  `)
			got := stamp.ReplaceAllString(stdout.String(), "TIME  ID  ")
			want := `TIME  ID  update Ticket 42
  rule "Needs title": false
  rule "Completed": true
  callout "Closer" (rule "Completed"): fired, delivery ` + res.Fired[0].DeliveryID + `
  callout "Off" (rule "Completed"): skipped: inactive
  set {"Title":"done: printer"}

TIME  ID  update Ticket 42
  rejected by rule "Needs title": Give it a title first
  rule "Needs title": true
`
			if got != want {
				t.Errorf("text output:\n%s\nwant:\n%s", got, want)
			}

			stdout.Reset()
			if code := run([]string{"history", "--store", dsn, "--format", "json", "--limit", "1", "Ticket", "42"}, &stdout, &stderr); code != 0 {
				t.Fatalf("history --format json = %d: %s", code, stderr.String())
			}
			var page struct {
				History []engine.HistoryEntry `json:"history"`
				Next    string                `json:"next"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &page); err != nil {
				t.Fatalf("%v: %s", err, stdout.String())
			}
			if len(page.History) != 1 || page.Next != page.History[0].ID || page.History[0].Callouts[0].DeliveryID != res.Fired[0].DeliveryID {
				t.Errorf("json page: %s", stdout.String())
			}
			stdout.Reset()
			if code := run([]string{"history", "--store", dsn, "--after", page.Next, "Ticket", "42"}, &stdout, &stderr); code != 0 || !bytes.Contains(stdout.Bytes(), []byte("rejected by rule")) {
				t.Errorf("second page = %d:\n%s", code, stdout.String())
			}
			stdout.Reset()
			if code := run([]string{"history", "--store", dsn, "Ticket", "43"}, &stdout, &stderr); code != 0 || stdout.String() != "no history for Ticket 43\n" {
				t.Errorf("no history = %d: %q", code, stdout.String())
			}
			stderr.Reset()
			if code := run([]string{"history", "--store", dsn, "--format", "yaml", "Ticket", "42"}, &stdout, &stderr); code == 0 || stderr.String() != "ruleflow: --format \"yaml\": want text or json\n" {
				t.Errorf("bad format = %d: %q", code, stderr.String())
			}
		})
	}
}
