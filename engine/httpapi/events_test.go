package httpapi

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	criticalCreate = `{"event":"create","form":"Ticket","entry_id":"8176","time":"2026-11-22T09:00:00Z","after":{"TicketID":8176,"TicketNumber":"T1","Status":"New","Priority":"Critical"}}`
	completeUpdate = `{"event":"update","form":"Ticket","entry_id":"8176","time":"2026-11-22T09:00:00Z","before":{"Status":"New"},"after":{"TicketID":8176,"Status":"Complete"}}`
	lowCreate      = `{"event":"create","form":"Ticket","entry_id":"1","after":{"Priority":"Low"}}`
)

func TestPostEvents(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	tests := []struct {
		name  string
		body  string
		want  []string
		batch bool
	}{
		{"one event fires one callout", criticalCreate, []string{"Critical ticket/Dashboard"}, false},
		{"nothing matches", lowCreate, []string{}, false},
		{"array", "[" + criticalCreate + "," + lowCreate + "," + completeUpdate + "]", []string{"Critical ticket/Dashboard", "Completed/Closer"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(ts.jobs())
			r := ts.admin("POST", "/v1/events", tc.body)
			if r.status != http.StatusAccepted {
				t.Fatalf("status %d %s, want 202", r.status, r.body)
			}
			var got eventsResponse
			decode(t, r, &got)
			if diff := cmp.Diff(tc.want, firedRules(t, got.Fired)); diff != "" {
				t.Errorf("fired (-want +got):\n%s", diff)
			}
			if n := len(ts.jobs()) - before; n != len(tc.want) {
				t.Errorf("%d jobs enqueued, want %d", n, len(tc.want))
			}
			for _, f := range got.Fired {
				if tc.batch != (f.Event != nil) {
					t.Errorf("fired %+v: event index present = %v, want %v", f, f.Event != nil, tc.batch)
				}
			}
		})
	}
	// The batch reports which event fired what.
	r := ts.admin("POST", "/v1/events", "["+lowCreate+","+completeUpdate+"]")
	var got eventsResponse
	decode(t, r, &got)
	if len(got.Fired) != 1 || got.Fired[0].Event == nil || *got.Fired[0].Event != 1 {
		t.Errorf("batch fired %+v, want one callout of event 1", got.Fired)
	}
}

func TestPostEventsRuleErrors(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	r := ts.admin("POST", "/v1/events", `[{"event":"delete","form":"Ticket","entry_id":"1","before":{"TicketID":0}},{"event":"delete","form":"Ticket","entry_id":"2","before":{"TicketID":5}}]`)
	want := `{"fired":[{"event":1,"rule":"Ratio","callout":"Dashboard","delivery_id":"ID"}],"rule_errors":["event 0: rule \"Ratio\": RULE_ERROR"]}` + "\n"
	got := regexp.MustCompile(`dlv_[0-9A-Z]+`).ReplaceAllString(r.body, "ID")
	got = regexp.MustCompile(`rule \\"Ratio\\": [^"]*"`).ReplaceAllString(got, `rule \"Ratio\": RULE_ERROR"`)
	if r.status != http.StatusAccepted || got != want {
		t.Errorf("got %d %s\nwant 202 %s", r.status, r.body, want)
	}
}

func TestPostEventsRejected(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	big := `{"event":"create","form":"Ticket","after":{"TicketNumber":"` + strings.Repeat("x", MaxEventBody) + `"}}`
	tests := []struct {
		name    string
		body    string
		headers []string
		status  int
		want    string
	}{
		{"invalid JSON", `{"event":`, nil, 400, `invalid event JSON: unexpected EOF`},
		{"not an object", `42`, nil, 400, `want an event object or an array of events`},
		{"empty body", ``, nil, 400, `empty body: want an event object or an array of events`},
		{"empty array", `[]`, nil, 400, `empty array: want at least one event`},
		{"array of non-objects", `[1]`, nil, 400, `event 0: want an object`},
		{"broken array", `[{"event":"create"`, nil, 400, `invalid JSON: unexpected EOF`},
		{"unknown form", `{"event":"create","form":"Tickets"}`, nil, 400, `unknown form "Tickets"; did you mean "Ticket"?`},
		{"unknown kind", `{"event":"created","form":"Ticket"}`, nil, 400, `unknown event kind "created" (want create, update, delete, callback or external)`},
		{"wrong value type", `{"event":"create","form":"Ticket","after":{"TicketID":"abc"}}`, nil, 400, `after: field "TicketID": want an integer, got string "abc"`},
		{"unknown field", `{"event":"create","form":"Ticket","after":{"Nope":1}}`, nil, 400, `after: unknown field "Nope" of form "Ticket"`},
		{"bad event in a batch rejects the batch", "[" + criticalCreate + `,{"event":"create","form":"Ticket","after":{"Priority":"Urgent"}}]`, nil, 400,
			`event 1: after: field "Priority": unknown option "Urgent" (want "Low", "High" or "Critical", or an index 0 to 2)`},
		{"too large", big, nil, 413, `request body exceeds 1048576 bytes`},
		{"no token", criticalCreate, []string{"Authorization", ""}, 401, `missing Authorization header (want Bearer <token> or AR-JWT <token>)`},
		{"wrong token", criticalCreate, []string{"Authorization", "Bearer nope"}, 403, `invalid admin token`},
		{"wrong scheme", criticalCreate, []string{"Authorization", "Basic dXNlcjpwYXNz"}, 403, `unsupported authorization scheme (want Bearer or AR-JWT)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			headers := append([]string{"Authorization", "Bearer " + adminToken}, tc.headers...)
			r := ts.do("POST", "/v1/events", tc.body, headers...)
			if r.status != tc.status || r.body != errorJSON(tc.want) {
				t.Errorf("got %d %s\nwant %d %s", r.status, r.body, tc.status, errorJSON(tc.want))
			}
			if got := r.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q, want application/json", got)
			}
			if n := len(ts.jobs()); n != 0 {
				t.Errorf("%d jobs enqueued, want none", n)
			}
		})
	}
}

func TestAdminTokenSchemes(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	for _, auth := range []string{"Bearer " + adminToken, "AR-JWT " + adminToken, "bearer " + adminToken, "ar-jwt  " + adminToken} {
		r := ts.do("POST", "/v1/events", lowCreate, "Authorization", auth)
		if r.status != http.StatusAccepted {
			t.Errorf("Authorization %q: status %d %s, want 202", auth, r.status, r.body)
		}
	}
}

func TestAdminDisabledWithoutToken(t *testing.T) {
	ts := newTestServer(t, serverConfig{noAdminToken: true})
	r := ts.do("POST", "/v1/events", lowCreate, "Authorization", "Bearer "+adminToken)
	if want := errorJSON("admin API disabled: no admin token configured (set RULEFLOW_ADMIN_TOKEN)"); r.status != 403 || r.body != want {
		t.Errorf("got %d %s, want 403 %s", r.status, r.body, want)
	}

	open := newTestServer(t, serverConfig{opts: Options{InsecureNoAuth: true}})
	if r := open.do("POST", "/v1/events", lowCreate); r.status != http.StatusAccepted {
		t.Errorf("insecure-no-auth: status %d %s, want 202", r.status, r.body)
	}
}

func TestExecTimeout(t *testing.T) {
	ts := newTestServer(t, serverConfig{opts: Options{ExecTimeout: 1}}) // 1 ns: always exceeded
	r := ts.admin("POST", "/v1/events", criticalCreate)
	if want := errorJSON("event handling exceeded the 1ns execution limit; nothing was enqueued"); r.status != 503 || r.body != want {
		t.Errorf("got %d %s, want 503 %s", r.status, r.body, want)
	}
	// The same limit applies to external events and callback functions.
	hook, _ := bootURL(t, ts, "target", "jira")
	r = ts.do("POST", hook, `{"issue":{"key":"OPS-1"}}`)
	if want := errorJSON("event handling exceeded the 1ns execution limit; nothing was enqueued"); r.status != 503 || r.body != want {
		t.Errorf("hook: got %d %s, want 503 %s", r.status, r.body, want)
	}
	_, token := bootURL(t, ts, "callback function", "close_ticket")
	r = ts.do("POST", "/callbacks/close_ticket", `{"arguments":{"id":1,"name":"x"}}`, "X-Auth-Token", token)
	if r.status != 503 {
		t.Errorf("callback: got %d %s, want 503", r.status, r.body)
	}
	if n := len(ts.jobs()); n != 0 {
		t.Errorf("%d jobs enqueued after a timeout, want none", n)
	}
}

func TestRoutingErrors(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	tests := []struct {
		method, path string
		status       int
		allow        string
		want         string
	}{
		{"GET", "/v1/events", 405, "POST", "method GET not allowed on /v1/events (allowed: POST)"},
		{"PATCH", "/api/arsys/v1.0/webhook/WBH000000000001", 405, "DELETE, GET, HEAD, PUT", "method PATCH not allowed on /api/arsys/v1.0/webhook/WBH000000000001 (allowed: DELETE, GET, HEAD, PUT)"},
		{"GET", "/hooks/secret-token", 405, "POST", "method GET not allowed on /hooks/******** (allowed: POST)"},
		{"GET", "/nope", 404, "", "no such endpoint: GET /nope"},
	}
	for _, tc := range tests {
		r := ts.admin(tc.method, tc.path, nil)
		if r.status != tc.status || r.body != errorJSON(tc.want) || r.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: got %d Allow %q %s\nwant %d Allow %q %s", tc.method, tc.path, r.status, r.header.Get("Allow"), r.body, tc.status, tc.allow, errorJSON(tc.want))
		}
	}
}
