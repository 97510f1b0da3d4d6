package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/engine/store"
)

func TestDeliveries(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	ts.firing(criticalCreate)
	ts.firing(completeUpdate)
	jobs := ts.jobs()
	if len(jobs) != 2 {
		t.Fatalf("%d jobs, want 2", len(jobs))
	}
	// Record a failed attempt on the first and give up on it, as a dispatcher would.
	ctx := context.Background()
	st := ts.eng.Store()
	now := time.Now()
	claimed, err := st.Claim(ctx, "test", 1, time.Minute, now)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	id := claimed[0].ID
	a := store.Attempt{StartedAt: now, Duration: 1500 * time.Microsecond, StatusCode: 500, Error: "HTTP 500", Response: []byte("boom")}
	if err := st.Fail(ctx, id, "test", a, nil); err != nil {
		t.Fatal(err)
	}

	// List, filtered.
	list := func(query string) deliveryList {
		t.Helper()
		r := ts.admin("GET", "/v1/deliveries"+query, nil)
		if r.status != 200 {
			t.Fatalf("list %s: %d %s", query, r.status, r.body)
		}
		var l deliveryList
		decode(t, r, &l)
		return l
	}
	ids := func(l deliveryList) []string {
		out := []string{}
		for _, d := range l.Deliveries {
			out = append(out, d.Callout+":"+d.Status)
		}
		return out
	}
	failedCallout := claimed[0].Callout
	otherCallout := "Closer"
	if failedCallout == "Closer" {
		otherCallout = "Dashboard"
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?status=failed", []string{failedCallout + ":failed"}},
		{"?status=pending", []string{otherCallout + ":pending"}},
		{"?callout=" + otherCallout, []string{otherCallout + ":pending"}},
		{"?status=delivered", []string{}},
	} {
		if diff := cmp.Diff(tc.want, ids(list(tc.query))); diff != "" {
			t.Errorf("list %s (-want +got):\n%s", tc.query, diff)
		}
	}
	page := list("?limit=1")
	if len(page.Deliveries) != 1 || page.Next != page.Deliveries[0].ID {
		t.Errorf("page 1: %+v", page)
	}
	if rest := list("?limit=1&after=" + page.Next); len(rest.Deliveries) != 1 || rest.Deliveries[0].ID == page.Next {
		t.Errorf("page 2: %+v", rest)
	}

	// One, with its attempts and rendered request.
	r := ts.admin("GET", "/v1/deliveries/"+id, nil)
	var d deliveryJSON
	decode(t, r, &d)
	if d.Status != "failed" || d.Attempts != 1 || d.LastStatusCode != 500 || d.LastError != "HTTP 500" || d.Request == nil || d.Request.Method != "POST" {
		t.Errorf("delivery %+v", d)
	}
	wantAtt := []attemptJSON{{N: 1, StartedAt: now.UTC().Truncate(time.Microsecond), DurationMS: 1.5, StatusCode: 500, Error: "HTTP 500", Response: "boom"}}
	if diff := cmp.Diff(wantAtt, d.AttemptList, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}

	// Retry by hand: pending again, due now.
	r = ts.admin("POST", "/v1/deliveries/"+id+"/retry", nil)
	decode(t, r, &d)
	if r.status != http.StatusAccepted || d.Status != "pending" || d.MaxAttempts <= d.Attempts {
		t.Errorf("retry: %d %s", r.status, r.body)
	}
	// A delivered one is not sent again.
	claimed, err = st.Claim(ctx, "test", 1, time.Minute, now.Add(time.Minute))
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if err := st.Complete(ctx, claimed[0].ID, "test", store.Attempt{StartedAt: now, StatusCode: 200}, nil); err != nil {
		t.Fatal(err)
	}
	r = ts.admin("POST", "/v1/deliveries/"+claimed[0].ID+"/retry", nil)
	if want := errorJSON("delivery " + claimed[0].ID + " was already delivered; only a failed or pending delivery can be retried"); r.status != http.StatusConflict || r.body != want {
		t.Errorf("retry delivered: %d %s, want 409 %s", r.status, r.body, want)
	}

	for _, tc := range []struct {
		method, path string
		status       int
		want         string
	}{
		{"GET", "/v1/deliveries/dlv_nope", 404, "delivery dlv_nope does not exist"},
		{"POST", "/v1/deliveries/dlv_nope/retry", 404, "delivery dlv_nope does not exist"},
		{"GET", "/v1/deliveries?status=done", 400, `status "done": want pending, delivered or failed`},
		{"GET", "/v1/deliveries?kind=sms", 400, `kind "sms": want callout, email or note`},
		{"GET", "/v1/deliveries?limit=0", 400, `limit "0": want an integer from 1 to 1000`},
		{"GET", "/v1/deliveries?limit=x", 400, `limit "x": want an integer from 1 to 1000`},
		{"GET", "/v1/deliveries?sort=id", 400, `unknown query parameter "sort" (want status, kind, callout, form, entry_id, after or limit)`},
	} {
		r := ts.admin(tc.method, tc.path, nil)
		if r.status != tc.status || r.body != errorJSON(tc.want) {
			t.Errorf("%s %s: got %d %s\nwant %d %s", tc.method, tc.path, r.status, r.body, tc.status, errorJSON(tc.want))
		}
	}
	if r := ts.do("GET", "/v1/deliveries", nil, "Authorization", "Bearer x"); r.status != 403 {
		t.Errorf("list with a bad token: %d, want 403", r.status)
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	if r := ts.do("GET", "/healthz", nil); r.status != 200 || r.body != `{"status":"ok"}`+"\n" {
		t.Errorf("healthz: %d %s", r.status, r.body)
	}
	ts.firing(criticalCreate)
	ts.do("POST", "/hooks/nope", `{}`)
	r := ts.do("GET", "/metrics", nil)
	if r.status != 200 {
		t.Fatalf("metrics: %d", r.status)
	}
	for _, want := range []string{
		`ruleflow_inbound_requests_total{endpoint="POST /v1/events",status="202"} 1`,
		`ruleflow_inbound_requests_total{endpoint="POST /hooks/{token}",status="404"} 1`,
		`ruleflow_inbound_request_duration_seconds_count{endpoint="GET /healthz"} 1`,
		`ruleflow_events_handled_total{kind="create"} 1`,
		`ruleflow_rules_fired_total 1`,
		`ruleflow_queue_depth{status="pending"} 1`,
		`ruleflow_oldest_pending_age_seconds`,
		`ruleflow_deliveries_enqueued_total 1`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// With the store closed, the health check fails.
	ts.eng.Close()
	r = ts.do("GET", "/healthz", nil)
	if want := `{"error":"store unreachable","request_id":"` + r.header.Get(RequestIDHeader) + `"}` + "\n"; r.status != 503 || r.body != want {
		t.Errorf("healthz after close: %d %s, want 503 %s", r.status, r.body, want)
	}
	// Other endpoints answer 500 (a store error, its text logged, not shown) or 503
	// (the engine is closed).
	r = ts.admin("GET", "/v1/deliveries", nil)
	id := r.header.Get(RequestIDHeader)
	if want := `{"error":"internal error","request_id":"` + id + `"}` + "\n"; r.status != 500 || r.body != want {
		t.Errorf("deliveries after close: %d %s, want 500 %s", r.status, r.body, want)
	}
	if r := ts.admin("POST", "/v1/events", criticalCreate); r.status != 503 || r.body != errorJSON("engine: closed") {
		t.Errorf("events after close: %d %s, want 503", r.status, r.body)
	}
	if !strings.Contains(ts.logs.String(), `level=ERROR msg="httpapi: request failed" method=GET path=/v1/deliveries request_id=`+id+` error="store closed"`) {
		t.Errorf("the 500 was not logged:\n%s", ts.logs)
	}
}

// TestAccessLogHasNoSecrets sends every kind of token and checks the logs.
func TestAccessLogHasNoSecrets(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	hook, hookToken := bootURL(t, ts, "target", "jira")
	_, cbToken := bootURL(t, ts, "callback function", "close_ticket")
	ts.admin("POST", webhookPath, seedWebhook)
	ts.admin("GET", webhookPath, nil)
	ts.do("POST", hook, `{"issue":{"key":"OPS-1"}}`, "Authorization", "Bearer hook-auth-secret")
	ts.do("POST", "/callbacks/close_ticket?auth_token="+cbToken, `{"arguments":{"id":1,"name":"x"}}`)
	ts.do("POST", "/callbacks/close_ticket", `{"arguments":{"id":1,"name":"x"}}`, "X-Auth-Token", cbToken)
	ts.do("POST", "/v1/events", criticalCreate, "Authorization", "Bearer wrong-admin-secret")
	ts.do("GET", "/hooks/"+hookToken, nil)
	logs := ts.logs.String()
	if !strings.Contains(logs, `msg="http request" method=POST path=/hooks/******** status=200`) {
		t.Errorf("access log lacks the masked hook line:\n%s", logs)
	}
	if !strings.Contains(logs, `path=/callbacks/close_ticket status=200`) {
		t.Errorf("access log lacks the callback line:\n%s", logs)
	}
	for _, secret := range []string{adminToken, hookToken, cbToken, "hook-auth-secret", "wrong-admin-secret", "Demo123", "auth_token"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
}

// TestWebhookDelivered registers a webhook whose callback is a real HTTP server and
// lets the engine's dispatcher deliver an event to it.
func TestWebhookDelivered(t *testing.T) {
	type call struct {
		user, password string
		ok             bool
		body           string
	}
	calls := make(chan call, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		b, _ := io.ReadAll(r.Body)
		calls <- call{u, p, ok, string(b)}
	}))
	defer recv.Close()
	ts := newTestServer(t, serverConfig{dispatch: true})
	id := ts.createSeedWebhook(strings.Replace(seedWebhook, "http://127.0.0.1:9/webhook", recv.URL+"/webhook", 1))
	ts.firing(hpdCreate)
	select {
	case c := <-calls:
		if !c.ok || c.user != "Demo" || c.password != "Demo123" {
			t.Errorf("basic auth %q %q %v, want Demo Demo123", c.user, c.password, c.ok)
		}
		want := `{"webhook_id":"` + id + `","entry_event":"create","form_name":"HPD:Help Desk","entry_id":"000000000000001","entry_details":{"Description":"router down","Impact":null,"Status":0}}` // AR sends a selection as its number
		if c.body != want {
			t.Errorf("callback body\n got %s\nwant %s", c.body, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the callback was not delivered within 10s")
	}
	// The delivery is recorded as delivered, and counted.
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := ts.admin("GET", "/v1/deliveries?status=delivered", nil)
		var l deliveryList
		decode(t, r, &l)
		if len(l.Deliveries) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivered job after 5s: %s", r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := ts.do("GET", "/metrics", nil)
	for _, want := range []string{`ruleflow_attempt_duration_seconds_count{delivered="true"} 1`, `ruleflow_deliveries_total{kind="callout",outcome="delivered"} 1`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
