package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
)

// TestDeliveriesBreakers: `deliveries breakers` lists the stored breakers and
// `deliveries list` says which one holds deliveries back.
func TestDeliveriesBreakers(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "outbox.db")
	code, out, _ := runCLI(t, "deliveries", "breakers", "--store", dsn)
	if code != 0 || out != "no endpoint has recorded a failure: every circuit breaker is closed\n" {
		t.Fatalf("empty: exit %d: %q", code, out)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	jobs := []store.Job{{Kind: store.KindCallout, Callout: "RMM", Payload: []byte("{}"), MaxAttempts: 3, NextAt: at}}
	if err := st.Enqueue(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Claim(ctx, "n1", 1, time.Minute, at); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Settle(ctx, "n1", []store.Outcome{{ID: jobs[0].ID, Status: store.StatusPending, NextAt: at.Add(time.Minute),
		Attempt: store.Attempt{StartedAt: at, StatusCode: 503, Error: "HTTP 503"},
		Breaker: &store.BreakerReport{Endpoint: "https://rmm.example.com:443", Callout: "RMM", Failed: true, Threshold: 1, Cooldown: 30 * time.Second, MaxCooldown: time.Hour}}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	_, out, _ = runCLI(t, "deliveries", "breakers", "--store", dsn)
	want := "ENDPOINT                     STATE  FAILURES  COOLDOWN  OPENED                    PROBE AFTER               LAST CALLOUT\n" +
		"https://rmm.example.com:443  open   1         30s       2026-12-01T09:00:00.000Z  2026-12-01T09:00:30.000Z  RMM\n"
	if out != want {
		t.Errorf("breakers:\n%s\nwant:\n%s", out, want)
	}
	_, out, _ = runCLI(t, "deliveries", "list", "--store", dsn)
	if !strings.HasSuffix(out, "circuit breaker open: https://rmm.example.com:443 after 1 failures (last callout RMM); deliveries to it wait until 2026-12-01T09:00:30Z\n") {
		t.Errorf("list:\n%s", out)
	}
}
