package httpapi

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
)

// TestHistoryAPI: GET /v1/history answers why an event fired (or not), newest
// first, paged by keyset, on both stores; it is an admin endpoint and refuses bad
// parameters with a clear message.
func TestHistoryAPI(t *testing.T) {
	for _, st := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "" }},
		{"postgres", postgresDSN},
	} {
		t.Run(st.name, func(t *testing.T) {
			ts := newTestServer(t, serverConfig{dsn: st.dsn(t)})
			r := ts.admin("POST", "/v1/events", criticalCreate)
			if r.status != http.StatusAccepted {
				t.Fatalf("post: %d %s", r.status, r.body)
			}
			var posted eventsResponse
			decode(t, r, &posted)
			ts.firing(completeUpdate)
			ts.firing(`{"event":"update","form":"Ticket","entry_id":"8176","before":{"Status":"New"},"after":{"TicketID":8176,"Status":"In Progress"}}`)

			var l historyList
			deadline := time.Now().Add(5 * time.Second) // the last event fired nothing: its record is committed just after
			for {
				r = ts.admin("GET", "/v1/history?form=Ticket&entry_id=8176", nil)
				if r.status != 200 {
					t.Fatalf("history: %d %s", r.status, r.body)
				}
				decode(t, r, &l)
				if len(l.History) == 3 || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if len(l.History) != 3 {
				t.Fatalf("%d entries, want 3: %s", len(l.History), r.body)
			}
			// The oldest entry, as JSON: the create that fired Dashboard.
			body := r.body
			ids := regexp.MustCompile(`"id":"(evt_[0-9A-Z]{26})","time":"[^"]+"`)
			body = ids.ReplaceAllString(body, `"id":"ID","time":"TIME"`)
			want := `{"id":"ID","time":"TIME","kind":"create","form":"Ticket","entry_id":"8176",` +
				`"rules":[{"name":"Critical ticket","outcome":"true"}],` +
				`"callouts":[{"name":"Dashboard","rule":"Critical ticket","delivery_id":"` + posted.Fired[0].DeliveryID + `","skipped":false}],` +
				`"set":{},"rejected":null}`
			if !strings.Contains(body, want) {
				t.Errorf("history body\n%s\ndoes not hold\n%s", body, want)
			}
			wantNot := `"rules":[{"name":"Completed","outcome":"false"}],"callouts":[{"name":"Closer","rule":"Completed","skipped":true,"reason":"rule false"}]`
			if l.History[0].Rules[0].Outcome != "false" || !strings.Contains(body, wantNot) {
				t.Errorf("newest entry: %+v; body does not hold %s", l.History[0], wantNot)
			}

			// Keyset pages, newest first.
			r = ts.admin("GET", "/v1/history?form=Ticket&entry_id=8176&limit=2", nil)
			var p1, p2 historyList
			decode(t, r, &p1)
			if len(p1.History) != 2 || p1.Next != p1.History[1].ID {
				t.Fatalf("page 1: %+v", p1)
			}
			decode(t, ts.admin("GET", "/v1/history?form=Ticket&entry_id=8176&limit=2&after="+p1.Next, nil), &p2)
			if len(p2.History) != 1 || p2.Next != "" || p2.History[0].ID != l.History[2].ID {
				t.Errorf("page 2: %+v", p2)
			}
			decode(t, ts.admin("GET", "/v1/history?form=Nope", nil), &p2)
			if p2.History == nil || len(p2.History) != 0 {
				t.Errorf("no history: %+v, want an empty list", p2)
			}

			for _, tc := range []struct{ query, want string }{
				{"?limit=0", `limit "0": want an integer from 1 to 1000`},
				{"?limit=1001", `limit "1001": want an integer from 1 to 1000`},
				{"?after=dlv_01", `after "dlv_01": want the next cursor of a previous page (` + store.HistoryIDPrefix + `…)`},
				{"?entry=1", `unknown query parameter "entry" (want form, entry_id, after or limit)`},
			} {
				r := ts.admin("GET", "/v1/history"+tc.query, nil)
				if r.status != http.StatusBadRequest || r.body != errorJSON(tc.want) {
					t.Errorf("GET /v1/history%s = %d %s, want 400 %s", tc.query, r.status, r.body, errorJSON(tc.want))
				}
			}
			if r := ts.do("GET", "/v1/history", nil); r.status != http.StatusUnauthorized {
				t.Errorf("without the admin token: %d %s", r.status, r.body)
			}
		})
	}
}
