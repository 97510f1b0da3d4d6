package httpapi

import (
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
)

const (
	routerCreate     = `{"event":"create","form":"Ticket","entry_id":"1","time":"2026-11-22T09:00:00Z","after":{"TicketID":1,"Title":"router down","Priority":"Low"}}`
	resolvedUpdate   = `{"event":"update","form":"Ticket","entry_id":"2","time":"2026-11-22T09:00:00Z","before":{"Status":"New"},"after":{"TicketID":2,"Status":"Complete","Resolution":"fixed"}}`
	unresolvedUpdate = `{"event":"update","form":"Ticket","entry_id":"3","time":"2026-11-22T09:00:00Z","before":{"Status":"New"},"after":{"TicketID":3,"Status":"Complete"}}`
)

var deliveryID = regexp.MustCompile(`dlv_[0-9A-Z]+`)

// TestPostEventsActions: the reply carries what the rules set; a rejected save
// answers 422 and enqueues nothing, for the whole array, on both stores.
func TestPostEventsActions(t *testing.T) {
	for _, st := range []struct {
		name string
		dsn  func(*testing.T) string
	}{{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "ruleflow.db") }}, {"postgres", postgresDSN}} {
		t.Run(st.name, func(t *testing.T) {
			ts := newTestServer(t, serverConfig{dsn: st.dsn(t), configFile: filepath.Join("testdata", "actions.yaml")})
			tests := []struct {
				name, body string
				status     int
				want       string
				jobs       int
			}{
				{"set", routerCreate, 202,
					`{"fired":[{"rule":"Network dashboard","callout":"Dashboard","delivery_id":"ID"}],"set":{"Queue":"Network","Priority":"High","DueDate":"2026-11-22T13:00:00Z"}}`, 1},
				{"rejected", unresolvedUpdate, 422,
					`{"error":"A resolution is required to complete a ticket","rule":"Completion needs a resolution"}`, 0},
				{"rejected in an array", "[" + routerCreate + "," + resolvedUpdate + "," + unresolvedUpdate + "]", 422,
					`{"error":"A resolution is required to complete a ticket","rule":"Completion needs a resolution","event":2}`, 0},
				{"accepted array", "[" + resolvedUpdate + "," + routerCreate + "]", 202,
					`{"fired":[{"event":0,"rule":"Completed","callout":"Dashboard","delivery_id":"ID"},{"event":1,"rule":"Network dashboard","callout":"Dashboard","delivery_id":"ID"}],"set":[{},{"Queue":"Network","Priority":"High","DueDate":"2026-11-22T13:00:00Z"}]}`, 2},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					before := len(ts.jobs())
					r := ts.admin("POST", "/v1/events", tc.body)
					got := deliveryID.ReplaceAllString(r.body, "ID")
					if r.status != tc.status || got != tc.want+"\n" {
						t.Errorf("got %d %s\nwant %d %s", r.status, r.body, tc.status, tc.want)
					}
					if n := len(ts.jobs()) - before; n != tc.jobs {
						t.Errorf("%d jobs enqueued, want %d", n, tc.jobs)
					}
				})
			}
			if r := ts.admin("POST", "/v1/events", unresolvedUpdate); r.status != http.StatusUnprocessableEntity {
				t.Errorf("status %d", r.status)
			}
		})
	}
}
