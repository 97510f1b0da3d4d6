package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/engine/store"
)

// TestPrintHistoryTimer: ruleflow history prints the timer of a time firing.
func TestPrintHistoryTimer(t *testing.T) {
	due := time.Date(2026, 1, 1, 12, 30, 0, 0, time.UTC)
	next := due.Add(time.Hour)
	at := due.Add(2 * time.Second)
	entries := []engine.HistoryEntry{{
		ID: "evt_B", Time: at, Kind: "time", Form: "Ticket", EntryID: "1",
		Rules:    []engine.HistoryRule{{Name: "Overdue", Outcome: "true"}},
		Callouts: []engine.HistoryCallout{{Name: "Dashboard", Rule: "Overdue", DeliveryID: "dlv_1"}},
		Set:      json.RawMessage("{}"),
		Timer:    &engine.HistoryTimer{Due: due, Anchor: due.Add(-30 * time.Minute), Repetition: 1, Fired: true, Next: &next},
	}, {
		ID: "evt_A", Time: at, Kind: "time", Form: "Ticket", EntryID: "1",
		Rules:    []engine.HistoryRule{{Name: "Overdue", Outcome: "false"}},
		Callouts: []engine.HistoryCallout{{Name: "Dashboard", Rule: "Overdue", Skipped: true, Reason: "rule false"}},
		Set:      json.RawMessage("{}"),
		Timer:    &engine.HistoryTimer{Due: due, Anchor: due.Add(-30 * time.Minute), Reason: "condition false"},
	}}
	var b bytes.Buffer
	printHistory(&b, store.HistoryFilter{Form: "Ticket", EntryID: "1"}, entries, "")
	want := `2026-01-01T12:30:02.000Z  evt_B  time Ticket 1
  timer due 2026-01-01T12:30:00Z (anchor 2026-01-01T12:00:00Z, repetition 1): fired; next due 2026-01-01T13:30:00Z
  rule "Overdue": true
  callout "Dashboard" (rule "Overdue"): fired, delivery dlv_1

2026-01-01T12:30:02.000Z  evt_A  time Ticket 1
  timer due 2026-01-01T12:30:00Z (anchor 2026-01-01T12:00:00Z, repetition 0): not fired: condition false
  rule "Overdue": false
  callout "Dashboard" (rule "Overdue"): skipped: rule false
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
