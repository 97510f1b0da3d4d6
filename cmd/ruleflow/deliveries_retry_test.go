package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
)

// TestDeliveriesBulkRetry: `deliveries retry --status failed --since 1h` re-drives
// the failed deliveries of the last hour, --dry-run only counts them.
func TestDeliveriesBulkRetry(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "outbox.db")
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var jobs []store.Job
	for i, age := range []time.Duration{3 * time.Hour, 30 * time.Minute, 20 * time.Minute, 10 * time.Minute} {
		created := now.Add(-age)
		jobs = append(jobs, store.Job{ID: fmt.Sprintf("dlv_bulk%d", i), Kind: store.KindCallout, Callout: "broken", MaxAttempts: 1,
			Payload: []byte("{}"), CreatedAt: created, NextAt: created})
	}
	if err := st.Enqueue(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.Claim(ctx, "test", 10, time.Minute, now)
	if err != nil || len(claimed) != 4 {
		t.Fatalf("claim = %d, %v", len(claimed), err)
	}
	for _, j := range claimed {
		settle := st.Fail
		if j.ID == "dlv_bulk3" {
			settle = st.Complete
		}
		if err := settle(ctx, j.ID, "test", store.Attempt{StartedAt: now, StatusCode: 500, Error: "HTTP 500"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	for _, tc := range []struct {
		args    []string
		code    int
		out, er string
	}{
		{[]string{"--status", "failed", "--since", "1h", "--dry-run"}, 0, "2 deliveries would be retried (dry run: nothing changed)\n", ""},
		{[]string{"--callout", "broken", "--dry-run"}, 0, "3 deliveries would be retried (dry run: nothing changed)\n", ""},
		{[]string{"--status", "delivered"}, 1, "", "ruleflow: retry: status \"delivered\": want failed or pending (a delivered delivery is never sent again)\n"},
		{[]string{"--since", "soon"}, 1, "", "ruleflow: retry: since \"soon\": want an RFC 3339 time (2026-01-02T15:04:05Z) or a duration before now (1h, 30m, 7d)\n"},
		{[]string{}, 1, "", "ruleflow: retry: give a delivery ID, or a filter such as --status failed --since 1h\n"},
		{[]string{"dlv_bulk0", "--status", "failed"}, 1, "", "ruleflow: retry: give an ID or a filter (--status, --callout, --kind, --since, --until), not both\n"},
		{[]string{"--status", "failed", "--since", "1h"}, 0, "2 deliveries retried: pending, due now\n", ""},
		{[]string{"--status", "failed", "--since", "1h", "--dry-run"}, 0, "0 deliveries would be retried (dry run: nothing changed)\n", ""},
	} {
		args := append([]string{"deliveries", "retry", "--store", dsn}, tc.args...)
		code, out, errOut := runCLI(t, args...)
		if code != tc.code || out != tc.out || errOut != tc.er {
			t.Errorf("%v: exit %d, %q, %q; want %d, %q, %q", tc.args, code, out, errOut, tc.code, tc.out, tc.er)
		}
	}
	st, err = store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for id, want := range map[string]store.Status{"dlv_bulk0": store.StatusFailed, "dlv_bulk1": store.StatusPending,
		"dlv_bulk2": store.StatusPending, "dlv_bulk3": store.StatusDelivered} {
		if j, _, _ := st.Get(ctx, id); j.Status != want {
			t.Errorf("%s: %s, want %s", id, j.Status, want)
		}
	}
}
