package httpapi

import (
	"strings"
	"testing"

	"github.com/ruleflow/ruleflow/engine/store/storetest"
)

// TestEventsBatchAtomic: a batch whose second event holds a NUL byte in its entry
// ID is a 400 for the whole array, with nothing enqueued, on both stores. Before,
// PostgreSQL answered 500 with the first event's deliveries already stored (and
// SQLite stored the NUL). A batch of good events is stored in one transaction.
func TestEventsBatchAtomic(t *testing.T) {
	for _, tc := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return storetest.SQLiteDSN(t) }},
		{"postgres", func(t *testing.T) string { return storetest.PostgresDSN(t, "rf_httpapi_batch_") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, serverConfig{dsn: tc.dsn(t)})
			bad := strings.Replace(criticalCreate, `"entry_id":"8176"`, `"entry_id":"81\u000076"`, 1)
			r := ts.admin("POST", "/v1/events", "["+criticalCreate+","+bad+"]")
			want := errorJSON(`event 1: entry_id "81\x0076" holds a NUL byte, which the store cannot hold`)
			if r.status != 400 || r.body != want {
				t.Fatalf("batch with a NUL: %d %s, want 400 %s", r.status, r.body, want)
			}
			if jobs := ts.jobs(); len(jobs) != 0 {
				t.Fatalf("%d jobs stored by a refused batch, want 0", len(jobs))
			}
			r = ts.admin("POST", "/v1/events", bad)
			if want := errorJSON(`entry_id "81\x0076" holds a NUL byte, which the store cannot hold`); r.status != 400 || r.body != want {
				t.Fatalf("one event with a NUL: %d %s, want 400 %s", r.status, r.body, want)
			}
			r = ts.admin("POST", "/v1/events", "["+criticalCreate+","+criticalCreate+"]")
			if r.status != 202 || strings.Count(r.body, `"delivery_id"`) != len(ts.jobs()) || len(ts.jobs()) == 0 {
				t.Fatalf("good batch: %d %s with %d jobs", r.status, r.body, len(ts.jobs()))
			}
		})
	}
}
