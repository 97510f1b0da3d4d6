package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
)

// TestServeLookup: with a `lookup: {url}` block, serve evaluates a due time rule on
// the values the endpoint answers, not on the snapshot of the last save; a reload
// that removes the block brings the snapshot back.
func TestServeLookup(t *testing.T) {
	t.Setenv("RULEFLOW_ADMIN_TOKEN", serveToken)
	t.Setenv("RULEFLOW_KEY", strings.Repeat("ab", 32))
	var lookups atomic.Int64
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lookups.Add(1)
		if r.URL.Query().Get("form") != "Ticket" || r.Header.Get("X-Tenant") != "acme" {
			http.Error(w, "bad request", 400)
			return
		}
		switch r.URL.Query().Get("entry_id") {
		case "1":
			w.Write([]byte(`{"Status":"Done"}`)) // completed since its last save: does not fire
		case "2":
			w.Write([]byte(`{"Status":"New"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer host.Close()
	dir := t.TempDir()
	cfgText := `version: 1
egress: {allow: [127.0.0.0/8]}
lookup: {url: "` + host.URL + `/records", headers: {X-Tenant: acme}, timeout: 5s}
forms:
  Ticket: {fields: {Status: {type: character}, DueDate: {type: datetime}}}
callouts:
  - {name: C, url: "http://127.0.0.1:9/", format: json}
rules:
  - {name: Late, form: Ticket, events: [time], at: {field: DueDate, offset: 1m}, condition: "'Status' != \"Done\"", callouts: [C]}
`
	cfgPath := filepath.Join(dir, "ruleflow.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _, stderr, done := startServe(t, "--config", cfgPath, "--store", "sqlite:"+filepath.Join(dir, "rf.db"), "--listen", "127.0.0.1:0", "--shutdown-timeout", "5s")
	post := func(body string) {
		t.Helper()
		req, _ := http.NewRequest("POST", s.base+"/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+serveToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 202 {
			t.Fatalf("POST /v1/events: %d", resp.StatusCode)
		}
	}
	overdue := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	post(`[{"event":"create","form":"Ticket","entry_id":"1","after":{"Status":"New","DueDate":"` + overdue + `"}},
{"event":"create","form":"Ticket","entry_id":"2","after":{"Status":"New","DueDate":"` + overdue + `"}},
{"event":"create","form":"Ticket","entry_id":"3","after":{"Status":"New","DueDate":"` + overdue + `"}}]`)
	st := s.eng.Store()
	armed := func() int64 {
		n, err := st.CountArmedTimers(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor(t, "the three timers settled", func() bool { return armed() == 0 })
	fired := func() []string {
		jobs, err := st.List(context.Background(), store.Filter{Kind: store.KindCallout})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, j := range jobs {
			ids = append(ids, j.EntryID)
		}
		return ids
	}
	if got := fired(); len(got) != 1 || got[0] != "2" || lookups.Load() != 3 {
		t.Fatalf("fired for %v after %d lookups; want only 2 after 3 (stderr:\n%s)", got, lookups.Load(), stderr)
	}
	// Without the block the snapshot decides: Status New fires.
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(cfgText, "lookup: {url: \""+host.URL+"/records\", headers: {X-Tenant: acme}, timeout: 5s}\n", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	post(`[{"event":"create","form":"Ticket","entry_id":"4","after":{"Status":"New","DueDate":"` + overdue + `"}}]`)
	waitFor(t, "the fourth timer settled", func() bool { return armed() == 0 && len(fired()) == 2 })
	if n := lookups.Load(); n != 3 {
		t.Errorf("%d lookups after the reload removed the block, want still 3", n)
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	if err := <-done; err != nil {
		t.Errorf("serve after SIGINT: %v", err)
	}
}
