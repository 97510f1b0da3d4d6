package engine

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// orderedConfig is callout RMM with ordering per_entry, retry every 1 s.
func orderedConfig(t *testing.T, url string) *rules.Config {
	return parseConfig(t, url, `
callouts:
  - name: RMM
    url: {{URL}}/hook
    format: name-value
    retry: {interval: 1s, max: 5}
    ordering: per_entry
rules:
  - name: Close alert
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\""
    callouts: [RMM]
`)
}

// seqEvent is save number seq of ticket entry; its ticket number carries both.
func seqEvent(entry, seq int) *rules.Event {
	ev := completeEvent(entry)
	ev.After["TicketNumber"] = fmt.Sprintf("E%d-S%d", entry, seq)
	return ev
}

var seqPattern = regexp.MustCompile(`E(\d+)-S(\d+)`)

func TestOrderingPerEntrySQLite(t *testing.T)   { testOrdering(t, sqliteDSN(t), 1) }
func TestOrderingPerEntryPostgres(t *testing.T) { testOrdering(t, postgresDSN(t), 3) }

// testOrdering: nodes engines on one store handle four saves of each of three
// tickets, round robin; the receiver fails the first attempt of every delivery. Per
// ticket, the receiver sees every attempt in save order: 1 (fails), 1, 2 (fails),
// 2, ... — a later delivery is not even attempted before the earlier is delivered.
func testOrdering(t *testing.T, dsn string, nodes int) {
	const entries, saves = 3, 4
	var mu sync.Mutex
	attempts := map[string]int{}  // by Idempotency-Key
	seen := map[string][]string{} // by entry: "S<seq>:<status>"
	var rc *receiver
	rc = newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		m := seqPattern.FindStringSubmatch(string(rc.requests()[n-1].Body)) // serve has read the body
		mu.Lock()
		defer mu.Unlock()
		key := r.Header.Get("Idempotency-Key")
		attempts[key]++
		status := 200
		if attempts[key] == 1 {
			status = 503
		}
		if m != nil {
			seen[m[1]] = append(seen[m[1]], fmt.Sprintf("S%s:%d", m[2], status))
		}
		w.WriteHeader(status)
	})
	cfg := orderedConfig(t, rc.URL)
	var engines []*Engine
	for i := range nodes {
		engines = append(engines, openEngine(t, Options{Config: cfg, Store: dsn, PollInterval: 50 * time.Millisecond, NodeID: fmt.Sprintf("node%d", i)}))
	}
	var ids []string
	for seq := 1; seq <= saves; seq++ {
		for entry := 1; entry <= entries; entry++ {
			e := engines[(seq+entry)%nodes]
			res, err := e.Handle(context.Background(), seqEvent(entry, seq))
			if err != nil || len(res.Fired) != 1 {
				t.Fatalf("Handle: %v %v", res, err)
			}
			ids = append(ids, res.Fired[0].DeliveryID)
		}
	}
	for _, id := range ids {
		if j, _ := waitSettled(t, engines[0].Store(), id, 60*time.Second); j.Status != store.StatusDelivered || j.Attempts != 2 {
			t.Fatalf("%s: %s after %d attempts", id, j.Status, j.Attempts)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"S1:503", "S1:200", "S2:503", "S2:200", "S3:503", "S3:200", "S4:503", "S4:200"}
	for entry := 1; entry <= entries; entry++ {
		if got := seen[fmt.Sprint(entry)]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ticket %d: receiver saw %v, want %v", entry, got, want)
		}
	}
}
