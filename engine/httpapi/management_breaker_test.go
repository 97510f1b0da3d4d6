package httpapi

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCalloutsListShowsBreaker: once a callout's endpoint fails past its breaker's
// threshold, GET /v1/callouts shows the open breaker on that callout, with the
// cool-down and the callouts sharing the endpoint, and not on a callout elsewhere.
func TestCalloutsListShowsBreaker(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "receiver is down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	mr := newManagementReceiver(t)
	yaml := strings.ReplaceAll(managementYAML, "{{URL}}", mr.URL)
	yaml = strings.Replace(yaml, `url: "`+mr.URL+`/fail"
    format: name-value
    retry: {interval: 1s, max: 0}`, `url: "`+down.URL+`/fail"
    format: name-value
    retry: {interval: 1s, max: 5}
    breaker: {failures: 1, cooldown: 1m}`, 1)
	if !strings.Contains(yaml, "breaker:") {
		t.Fatal("the Broken callout of managementYAML changed; update this test")
	}
	path := filepath.Join(t.TempDir(), "ruleflow.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, serverConfig{configFile: path, dispatch: true})
	if r := ts.admin("POST", "/v1/events", completeTicket(1)); r.status != 202 {
		t.Fatalf("POST /v1/events = %d %s", r.status, r.body)
	}
	var broken, closer calloutJSON
	deadline := time.Now().Add(20 * time.Second)
	for {
		var list calloutList
		decode(t, ts.admin("GET", "/v1/callouts", nil), &list)
		for _, c := range list.Callouts {
			switch c.Name {
			case "Broken":
				broken = c
			case "Closer":
				closer = c
			}
		}
		if broken.Breaker != nil && broken.Breaker.State == "open" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no open breaker on Broken after 20s: %+v", broken.Breaker)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b := broken.Breaker
	if b.Endpoint != down.URL { // httptest's URL is already scheme://host:port
		t.Errorf("breaker endpoint %q, want that of %s", b.Endpoint, down.URL)
	}
	if b.Failures != 1 || b.Cooldown != "1m0s" || b.OpenedAt == nil || b.OpenUntil == nil || strings.Join(b.Callouts, ",") != "Broken" {
		t.Errorf("breaker = %+v, want 1 failure, cool-down 1m0s, opened, callouts [Broken]", *b)
	}
	if closer.Breaker != nil && closer.Breaker.State != "closed" {
		t.Errorf("Closer, on another endpoint, shows breaker %+v", *closer.Breaker)
	}
}
