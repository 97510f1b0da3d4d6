package main

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestVersionFromLdflags builds the binary with the version set by -ldflags and
// checks that `ruleflow version` and the User-Agent of a callout it sends agree.
func TestVersionFromLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "ruleflow")
	build := exec.Command("go", "build", "-o", bin, "-ldflags", "-X github.com/ruleflow/ruleflow/engine.version=v9.8.7-test", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || string(out) != "ruleflow v9.8.7-test\n" {
		t.Fatalf("ruleflow version = %q, %v; want \"ruleflow v9.8.7-test\\n\"", out, err)
	}

	var mu sync.Mutex
	var agents []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.Header.Get("User-Agent"))
		mu.Unlock()
	}))
	defer srv.Close()
	cfg := sendConfig(t, srv.URL)
	fixture := writeFile(t, "events.jsonl", `{"event":"update","form":"Ticket","entry_id":"1","time":"2026-11-22T10:00:00Z","before":{"TicketID":1,"Status":"New"},"after":{"TicketID":1,"Status":"Complete"}}
`)
	send := exec.Command(bin, "replay", "--send", "--store", "sqlite:"+filepath.Join(t.TempDir(), "outbox.db"), "--wait", "20s", "--config", cfg, fixture)
	send.Env = append(send.Environ(), "RULEFLOW_KEY="+strings.Repeat("ab", 32))
	if out, err := send.CombinedOutput(); err != nil {
		t.Fatalf("replay --send: %v\n%s", err, out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(agents) != 1 || agents[0] != "ruleflow/v9.8.7-test" {
		t.Errorf("User-Agent of the callout = %q, want [ruleflow/v9.8.7-test]", agents)
	}
}
