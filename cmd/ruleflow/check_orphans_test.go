package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/engine/store/storetest"
)

// TestCheckStoreListsOrphans: check --store lists each registered webhook whose form
// the configuration does not declare, on SQLite and PostgreSQL, and exits 0.
func TestCheckStoreListsOrphans(t *testing.T) {
	for name, dsn := range map[string]func(*testing.T) string{
		"sqlite":   func(t *testing.T) string { return storetest.SQLiteDSN(t) },
		"postgres": func(t *testing.T) string { return storetest.PostgresDSN(t, "check_orphans_") },
	} {
		t.Run(name, func(t *testing.T) {
			dsn := dsn(t)
			st, err := store.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			for _, form := range []string{"Ticket", "Gone", "Old ticket"} {
				if _, err := st.CreateWebhook(context.Background(), store.Webhook{Form: form, Events: "create", URL: "http://127.0.0.1:9/h", Document: []byte("{}")}, now); err != nil {
					t.Fatal(err)
				}
			}
			st.Close()
			cfg := writeFile(t, "ruleflow.yaml", `version: 1
forms:
  Ticket:
    renamed_from: [Old ticket]
    fields:
      Status: {id: 7, type: character}
`)
			var stdout, stderr bytes.Buffer
			code := run([]string{"check", "--store", dsn, cfg}, &stdout, &stderr)
			want := "warning: registered webhook WBH000000000002 is orphaned: form \"Gone\" is not configured, so it will not fire until the form is declared again\n"
			if code != 0 || stderr.String() != want {
				t.Errorf("check --store = %d\nstderr:\n%s\nwant:\n%s", code, stderr.String(), want)
			}
		})
	}
}
