package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/engine/store/storetest"
)

// TestCheckStoreWarnsStranded: check --store counts the pending deliveries whose
// callout the configuration no longer has (renamed_from and registered webhooks
// count as having it), and still exits 0.
func TestCheckStoreWarnsStranded(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	var jobs []store.Job
	for _, name := range []string{"Gone", "Gone", "Old", "C1", "Lost", "webhook WBH000000000001"} {
		jobs = append(jobs, store.Job{Kind: store.KindCallout, Callout: name, MaxAttempts: 1})
	}
	jobs = append(jobs, store.Job{Kind: store.KindEmail, Callout: "Mail only", MaxAttempts: 1})
	if err := st.Enqueue(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateWebhook(context.Background(), store.Webhook{Form: "Ticket", Events: "create", URL: "http://127.0.0.1:9/h", Document: []byte("{}")}, jobs[0].CreatedAt); err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfg := writeFile(t, "ruleflow.yaml", `version: 1
callouts:
  - {name: C1, url: "http://127.0.0.1:9/x", format: name-value}
  - {name: New, url: "http://127.0.0.1:9/y", format: name-value, renamed_from: [Old]}
`)
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", "--store", dsn, cfg}, &stdout, &stderr)
	wantErr := `warning: 2 pending deliveries of callout "Gone" would be stranded: no callout has that name or lists it in renamed_from (they would fail at their next attempt)
warning: 1 pending delivery of callout "Lost" would be stranded: no callout has that name or lists it in renamed_from (they would fail at their next attempt)
warning: registered webhook WBH000000000001 is orphaned: form "Ticket" is not configured, so it will not fire until the form is declared again
`
	if code != 0 || stdout.String() != "ok: 0 forms, 0 rules, 2 callouts, 0 webhooks\n" || stderr.String() != wantErr {
		t.Errorf("check --store = %d\nstdout:\n%s\nstderr:\n%s\nwant stderr:\n%s", code, stdout.String(), stderr.String(), wantErr)
	}
}
