package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/engine/store/storetest"
)

// managementYAML is the configuration of the management tests; {{URL}} is a
// receiver that answers 200 on /ok and 500 on /fail.
const managementYAML = `version: 1
timezone: UTC
egress: {allow: [127.0.0.0/8]}
forms:
  Ticket:
    fields:
      TicketID:     {id: 1, type: integer}
      TicketNumber: {id: 2, type: character}
      Status:       {id: 7, type: selection, options: [New, In Progress, Complete]}
    callout_fields: {id: TicketID, number: TicketNumber, status: Status}
callouts:
  - name: Closer
    url: "{{URL}}/ok?token=abc123"
    format: json
    username: svc
    password: hunter2
  - name: Broken
    url: "{{URL}}/fail"
    format: name-value
    retry: {interval: 1s, max: 0}
  - name: Spare
    active: false
    url: "{{URL}}/ok"
    format: json
rules:
  - name: Completed
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\""
    callouts: [Closer, Broken]
  - name: Created
    form: Ticket
    events: [create]
    callouts: [Closer]
callback_functions:
  - api_name: reopen
    description: Reopen a ticket
    parameters: {id: int}
target_urls:
  - name: freshdesk
    region: US
`

// managementReceiver counts the requests of each path.
type managementReceiver struct {
	*httptest.Server
	ok, fail atomic.Int64
}

func newManagementReceiver(t *testing.T) *managementReceiver {
	mr := &managementReceiver{}
	mr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/fail" {
			mr.fail.Add(1)
			http.Error(w, "receiver is down", http.StatusInternalServerError)
			return
		}
		mr.ok.Add(1)
		w.Header().Set("X-Receiver", "yes")
		w.Header().Set("Set-Cookie", "session=secret")
		io.WriteString(w, `{"accepted":true}`)
	}))
	t.Cleanup(mr.Close)
	return mr
}

// newManagementServer serves managementYAML over a store (SQLite when dsn is "").
func newManagementServer(t *testing.T, dsn string, dispatch bool) (*testServer, *managementReceiver) {
	mr := newManagementReceiver(t)
	path := filepath.Join(t.TempDir(), "ruleflow.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(managementYAML, "{{URL}}", mr.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	return newTestServer(t, serverConfig{configFile: path, dsn: dsn, dispatch: dispatch}), mr
}

func completeTicket(id int) string {
	return fmt.Sprintf(`{"event":"update","form":"Ticket","entry_id":"%d","before":{"TicketID":%d,"Status":"New"},"after":{"TicketID":%d,"TicketNumber":"T%d","Status":"Complete"}}`, id, id, id, id)
}

type calloutList struct {
	Callouts []calloutJSON `json:"callouts"`
	Next     string        `json:"next"`
}

type ruleList struct {
	Rules []ruleJSON `json:"rules"`
	Next  string     `json:"next"`
}

// TestManagementAPI drives the management API on SQLite and PostgreSQL: list,
// deactivate, an event that no longer fires the callout, rule toggles and fire
// counts, the masked listing.
func TestManagementAPI(t *testing.T) {
	for _, tc := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return storetest.PostgresDSN(t, "rf_mgmt_api_") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, _ := newManagementServer(t, tc.dsn(t), false)
			var list calloutList
			r := ts.admin("GET", "/v1/callouts", nil)
			if r.status != 200 {
				t.Fatalf("GET /v1/callouts = %d %s", r.status, r.body)
			}
			decode(t, r, &list)
			if len(list.Callouts) != 3 || list.Callouts[1].Name != "Closer" {
				t.Fatalf("callouts = %+v", list.Callouts)
			}
			closer := list.Callouts[1]
			if strings.Contains(r.body, "abc123") || strings.Contains(r.body, "hunter2") || !strings.HasSuffix(closer.URL, "/ok?token=********") {
				t.Errorf("listing leaks a secret or does not mask the URL: %s", r.body)
			}
			if !closer.Active || closer.ActiveSource != "file" || strings.Join(closer.Rules, ",") != "Completed,Created" || closer.LastDelivery != nil || closer.Breaker != nil {
				t.Errorf("Closer = %+v", closer)
			}
			if spare := list.Callouts[2]; spare.Name != "Spare" || spare.Active || spare.ActiveSource != "file" || len(spare.Rules) != 0 {
				t.Errorf("Spare = %+v; want inactive from the file, no rules", spare)
			}

			if r := ts.admin("POST", "/v1/events", completeTicket(1)); r.status != 202 {
				t.Fatalf("event = %d %s", r.status, r.body)
			}
			var c calloutJSON
			r = ts.admin("POST", "/v1/callouts/Broken/deactivate", nil)
			decode(t, r, &c)
			if r.status != 200 || c.Active || c.ActiveSource != "api" || c.Counts.Pending != 1 || c.LastDelivery == nil || c.LastDelivery.Status != "pending" {
				t.Errorf("deactivate = %d %+v", r.status, c)
			}
			var ev eventsResponse
			r = ts.admin("POST", "/v1/events", completeTicket(2))
			decode(t, r, &ev)
			if got := strings.Join(firedRules(t, ev.Fired), " "); got != "Completed/Closer" {
				t.Errorf("after deactivating Broken the event fired %s, want Completed/Closer", got)
			}
			r = ts.admin("POST", "/v1/callouts/Broken/activate", nil)
			decode(t, r, &c)
			if r.status != 200 || !c.Active || c.ActiveSource != "api" {
				t.Errorf("activate = %d %+v", r.status, c)
			}

			var rl ruleList
			r = ts.admin("POST", "/v1/rules/Completed/deactivate", nil)
			if r.status != 200 {
				t.Fatalf("rule deactivate = %d %s", r.status, r.body)
			}
			decode(t, ts.admin("POST", "/v1/events", completeTicket(3)), &ev)
			if len(ev.Fired) != 0 {
				t.Errorf("inactive rule fired %+v", ev.Fired)
			}
			decode(t, ts.admin("GET", "/v1/rules", nil), &rl)
			want := "Completed:false:api:2 Created:true:file:0"
			var got []string
			for _, ru := range rl.Rules {
				got = append(got, fmt.Sprintf("%s:%v:%s:%d", ru.Name, ru.Active, ru.ActiveSource, ru.FireCount))
			}
			if strings.Join(got, " ") != want || rl.Rules[0].LastFired == nil || rl.Rules[1].LastFired != nil {
				t.Errorf("rules = %s (%+v), want %s with Completed's last firing", strings.Join(got, " "), rl.Rules, want)
			}

			// Keyset pages: limit and after.
			decode(t, ts.admin("GET", "/v1/callouts?limit=2", nil), &list)
			if len(list.Callouts) != 2 || list.Next != "Closer" {
				t.Errorf("page 1 = %d callouts, next %q", len(list.Callouts), list.Next)
			}
			after := list.Next
			list = calloutList{}
			decode(t, ts.admin("GET", "/v1/callouts?limit=2&after="+after, nil), &list)
			if len(list.Callouts) != 1 || list.Callouts[0].Name != "Spare" || list.Next != "" {
				t.Errorf("page 2 = %+v, next %q", list.Callouts, list.Next)
			}

			for _, tc := range []struct {
				method, path string
				status       int
				body         string
			}{
				{"POST", "/v1/callouts/Nope/deactivate", 404, errorJSON(`callout "Nope": not declared in the configuration file`)},
				{"POST", "/v1/rules/Nope/activate", 404, errorJSON(`rule "Nope": not declared in the configuration file`)},
				{"GET", "/v1/rules?limit=0", 400, errorJSON(`limit "0": want an integer from 1 to 1000`)},
				{"GET", "/v1/callouts?sort=name", 400, errorJSON(`unknown query parameter "sort" (want limit or after)`)},
				{"GET", "/v1/callouts/Closer/activate", 405, errorJSON("method GET not allowed on /v1/callouts/Closer/activate (allowed: POST)")},
			} {
				if r := ts.admin(tc.method, tc.path, nil); r.status != tc.status || r.body != tc.body {
					t.Errorf("%s %s = %d %s, want %d %s", tc.method, tc.path, r.status, r.body, tc.status, tc.body)
				}
			}
			if r := ts.do("POST", "/v1/callouts/Closer/deactivate", nil); r.status != 401 {
				t.Errorf("without the admin token: %d, want 401", r.status)
			}
		})
	}
}

// TestCalloutTestEndpoint renders a callout for a given event and for a sample,
// and sends it once with "send": true, outside the outbox.
func TestCalloutTestEndpoint(t *testing.T) {
	ts, mr := newManagementServer(t, "", false)
	var out testResponseJSON
	r := ts.admin("POST", "/v1/callouts/Closer/test", `{"event":`+completeTicket(7)+`}`)
	decode(t, r, &out)
	if r.status != 200 || out.Response != nil || out.Request.Method != "POST" || !strings.HasSuffix(out.Request.URL, "/ok?token=********") ||
		out.Request.Headers["Authorization"] != "Basic ********" || !strings.Contains(out.Request.Body, `"T7"`) {
		t.Errorf("dry run = %d %s", r.status, r.body)
	}
	if strings.Contains(r.body, "abc123") || strings.Contains(r.body, "hunter2") {
		t.Errorf("test answer leaks a secret: %s", r.body)
	}
	// No body: a sample event of the form of the first rule that fires it.
	r = ts.admin("POST", "/v1/callouts/Broken/test", nil)
	decode(t, r, &out)
	if r.status != 200 || !strings.Contains(out.Request.Body, "Sample+TicketNumber") {
		t.Errorf("sample dry run = %d %s", r.status, r.body)
	}
	if mr.ok.Load()+mr.fail.Load() != 0 {
		t.Errorf("a dry run reached the receiver")
	}
	r = ts.admin("POST", "/v1/callouts/Closer/test", `{"send": true}`)
	decode(t, r, &out)
	if r.status != 200 || out.Response == nil || out.Response.Status != 200 || out.Response.Body != `{"accepted":true}` ||
		out.Response.Headers["X-Receiver"] != "yes" || out.Response.Headers["Set-Cookie"] != "********" || !strings.HasPrefix(out.DeliveryID, "test_") {
		t.Errorf("send = %d %s", r.status, r.body)
	}
	r = ts.admin("POST", "/v1/callouts/Broken/test", `{"send": true}`)
	decode(t, r, &out)
	if r.status != 200 || out.Response == nil || out.Response.Status != 500 || !strings.HasPrefix(out.Response.Error, "HTTP 500") {
		t.Errorf("failing send = %d %s", r.status, r.body)
	}
	if mr.ok.Load() != 1 || mr.fail.Load() != 1 || len(ts.jobs()) != 0 {
		t.Errorf("receiver saw %d+%d requests, outbox holds %d jobs; want one each, none stored", mr.ok.Load(), mr.fail.Load(), len(ts.jobs()))
	}
	for _, tc := range []struct {
		path, body string
		status     int
		want       string
	}{
		{"/v1/callouts/Nope/test", "", 404, errorJSON(`callout "Nope": not declared in the configuration file`)},
		{"/v1/callouts/Closer/test", `{"evnt": {}}`, 400, errorJSON(`invalid test body: json: unknown field "evnt" (want {"event": {...}, "send": true|false}, both optional)`)},
		{"/v1/callouts/Closer/test", `{"event": {"form": "Ticket"}}`, 400, errorJSON(`event: missing "event" (the event kind: create, update, delete, callback or external)`)},
	} {
		if r := ts.admin("POST", tc.path, tc.body); r.status != tc.status || r.body != tc.want {
			t.Errorf("POST %s %s = %d %s, want %d %s", tc.path, tc.body, r.status, r.body, tc.status, tc.want)
		}
	}
}

// TestBulkRetryEndpoint fails deliveries for real (a receiver answering 500),
// counts them with a dry run and re-drives them.
func TestBulkRetryEndpoint(t *testing.T) {
	ts, mr := newManagementServer(t, "", true)
	for i := range 3 {
		if r := ts.admin("POST", "/v1/events", completeTicket(i+1)); r.status != 202 {
			t.Fatalf("event = %d %s", r.status, r.body)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := ts.eng.Store().CountMatching(t.Context(), store.RetryFilter{Callout: "Broken"})
		if err != nil {
			t.Fatal(err)
		}
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Broken deliveries did not fail in time (%d failed)", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The API's clock (since and until are relative to it) an hour after the
	// engine's, which stamped the deliveries.
	ts.clock.Advance(time.Since(ts.clock.Now()) + time.Hour)
	for _, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"status":"failed","dry_run":true}`, 200, `{"count":3}` + "\n"},
		{`{"callout":"Closer","dry_run":true}`, 200, `{"count":0}` + "\n"},
		{`{"since":"30m","dry_run":true}`, 200, `{"count":0}` + "\n"},
		{`{"since":"2h","until":"30m","dry_run":true}`, 200, `{"count":3}` + "\n"},
		{`{"status":"delivered"}`, 400, errorJSON(`status "delivered": want failed or pending (a delivered delivery is never sent again)`)},
		{`{"since":"yesterday"}`, 400, errorJSON(`since "yesterday": want an RFC 3339 time (2026-01-02T15:04:05Z) or a duration before now (1h, 30m, 7d)`)},
		{`{"since":"30m","until":"2h"}`, 400, errorJSON("until must be after since")},
		{`{"stauts":"failed"}`, 400, errorJSON(`invalid retry filter: json: unknown field "stauts" (want {"status", "kind", "callout", "since", "until", "dry_run"})`)},
	} {
		if r := ts.admin("POST", "/v1/deliveries/retry", tc.body); r.status != tc.status || r.body != tc.want {
			t.Errorf("retry %s = %d %s, want %d %s", tc.body, r.status, r.body, tc.status, tc.want)
		}
	}
	ts.clock.Advance(-time.Hour) // re-driven deliveries are due at the API's now
	before := mr.fail.Load()
	if r := ts.admin("POST", "/v1/deliveries/retry", `{"status":"failed","callout":"Broken"}`); r.status != 200 || r.body != `{"retried":3}`+"\n" {
		t.Errorf("retry = %d %s", r.status, r.body)
	}
	for mr.fail.Load() < before+3 {
		if time.Now().After(deadline.Add(20 * time.Second)) {
			t.Fatalf("re-driven deliveries were not attempted again (%d of 3)", mr.fail.Load()-before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
