package httpapi

import (
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
)

// TestTimerHistoryAPI: a timer that fires and one whose condition is false at its
// due time both appear in GET /v1/history?form=&entry_id= with kind "time", the
// rule's outcome, the callout fired (with the delivery the firing enqueued) or
// skipped, and the due time, on both stores.
func TestTimerHistoryAPI(t *testing.T) {
	for _, st := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "" }},
		{"postgres", postgresDSN},
	} {
		t.Run(st.name, func(t *testing.T) {
			ts := newTestServer(t, serverConfig{dsn: st.dsn(t), configFile: filepath.Join("testdata", "timers_history.yaml")})
			// Both timers are overdue when armed: the timer loop fires them at once.
			r := ts.admin("POST", "/v1/events", `[
{"event":"create","form":"Ticket","entry_id":"1","after":{"TicketID":1,"Status":"New","DueDate":"2026-01-01T12:00:00Z"}},
{"event":"create","form":"Ticket","entry_id":"2","after":{"TicketID":2,"Status":"Complete","DueDate":"2026-01-01T12:00:00Z"}}]`)
			if r.status != http.StatusAccepted {
				t.Fatalf("post events: %d %s", r.status, r.body)
			}
			timeEntry := func(id string) (historyList, string) {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for {
					r := ts.admin("GET", "/v1/history?form=Ticket&entry_id="+id, nil)
					if r.status != 200 {
						t.Fatalf("history: %d %s", r.status, r.body)
					}
					var l historyList
					decode(t, r, &l)
					if len(l.History) == 2 && l.History[0].Kind == "time" {
						return l, r.body
					}
					if time.Now().After(deadline) {
						t.Fatalf("entry %s: no time entry after 10s: %s", id, r.body)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			ids := regexp.MustCompile(`"id":"(evt_[0-9A-Z]{26})","time":"[^"]+"`)
			jobs, err := ts.eng.Store().List(context.Background(), store.Filter{Kind: store.KindCallout})
			if err != nil {
				t.Fatal(err)
			}
			waitJobs := time.Now().Add(10 * time.Second)
			for len(jobs) == 0 && time.Now().Before(waitJobs) {
				time.Sleep(20 * time.Millisecond)
				jobs, _ = ts.eng.Store().List(context.Background(), store.Filter{Kind: store.KindCallout})
			}
			if len(jobs) != 1 || jobs[0].EventKind != "time" || jobs[0].EntryID != "1" {
				t.Fatalf("callout jobs = %+v, want the one time firing of entry 1", jobs)
			}

			l, body := timeEntry("1")
			if l.History[1].Kind != "create" {
				t.Errorf("older entry of 1 is %q, want the create", l.History[1].Kind)
			}
			want := `{"id":"ID","time":"TIME","kind":"time","form":"Ticket","entry_id":"1",` +
				`"rules":[{"name":"Overdue","outcome":"true"}],` +
				`"callouts":[{"name":"Dashboard","rule":"Overdue","delivery_id":"` + jobs[0].ID + `","skipped":false}],` +
				`"set":{},"rejected":null,` +
				`"timer":{"due":"2026-01-01T12:30:00Z","anchor":"2026-01-01T12:00:00Z","repetition":0,"fired":true}}`
			if got := ids.ReplaceAllString(body, `"id":"ID","time":"TIME"`); !strings.Contains(got, want) {
				t.Errorf("history of 1\n%s\ndoes not hold\n%s", got, want)
			}

			_, body = timeEntry("2")
			want = `{"id":"ID","time":"TIME","kind":"time","form":"Ticket","entry_id":"2",` +
				`"rules":[{"name":"Overdue","outcome":"false"}],` +
				`"callouts":[{"name":"Dashboard","rule":"Overdue","skipped":true,"reason":"rule false"}],` +
				`"set":{},"rejected":null,` +
				`"timer":{"due":"2026-01-01T12:30:00Z","anchor":"2026-01-01T12:00:00Z","repetition":0,"fired":false,"reason":"condition false"}}`
			if got := ids.ReplaceAllString(body, `"id":"ID","time":"TIME"`); !strings.Contains(got, want) {
				t.Errorf("history of 2\n%s\ndoes not hold\n%s", got, want)
			}
		})
	}
}
