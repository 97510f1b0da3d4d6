package httpapi

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/engine/store/storetest"
)

// seedWebhook is the BMC seed's registration body, on a form of the test config.
const seedWebhook = `{
  "description": "testWebhook",
  "form_name": "HPD:Help Desk",
  "condition": "'Status' !=\"Closed\"",
  "entry_events": ["create", "update", "delete"],
  "callback": {
    "url": "http://127.0.0.1:9/webhook",
    "authentication": {"type": "basic", "username": "Demo", "password": "Demo123"}
  },
  "payload_fields": ["Description", "Impact", "Status"]
}`

const (
	hpdCreate = `{"event":"create","form":"HPD:Help Desk","entry_id":"000000000000001","after":{"Request ID":"000000000000001","Status":"New","Description":"router down"}}`
	hpdDelete = `{"event":"delete","form":"HPD:Help Desk","entry_id":"000000000000001","before":{"Status":"New"}}`
)

// createSeedWebhook registers seedWebhook and returns its ID.
func (ts *testServer) createSeedWebhook(body string) string {
	ts.t.Helper()
	r := ts.admin("POST", webhookPath, body)
	if r.status != http.StatusCreated {
		ts.t.Fatalf("create webhook: %d %s", r.status, r.body)
	}
	var got WebhookJSON
	decode(ts.t, r, &got)
	if loc := r.header.Get("Location"); loc != webhookPath+"/"+got.WebhookID {
		ts.t.Fatalf("Location %q, want %s/%s", loc, webhookPath, got.WebhookID)
	}
	return got.WebhookID
}

// firing posts ev and returns the fired "rule/callout" list.
func (ts *testServer) firing(ev string) []string {
	ts.t.Helper()
	r := ts.admin("POST", "/v1/events", ev)
	if r.status != http.StatusAccepted {
		ts.t.Fatalf("post event: %d %s", r.status, r.body)
	}
	var got eventsResponse
	decode(ts.t, r, &got)
	return firedRules(ts.t, got.Fired)
}

func TestWebhookLifecycle(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	if got := ts.firing(hpdCreate); len(got) != 0 {
		t.Fatalf("before registration fired %v", got)
	}
	id := ts.createSeedWebhook(seedWebhook)
	if !strings.HasPrefix(id, "WBH") || len(id) != len("WBH000000000001") {
		t.Fatalf("webhook id %q, want WBH followed by 12 digits", id)
	}
	// It fires from the next event on, without a restart.
	got := ts.firing(hpdCreate)
	if len(got) != 1 || !strings.Contains(got[0], id) {
		t.Fatalf("after registration fired %v, want webhook %s", got, id)
	}

	// GET: the seed's shape, password masked, _links.self.
	r := ts.admin("GET", webhookPath+"/"+id, nil)
	if r.status != 200 {
		t.Fatalf("GET: %d %s", r.status, r.body)
	}
	want := `{"webhook_id":"` + id + `","description":"testWebhook","form_name":"HPD:Help Desk","condition":"'Status' !=\"Closed\"",` +
		`"entry_events":["create","update","delete"],"payload_fields":["Description","Impact","Status"],"enabled":true,` +
		`"callback":{"url":"http://127.0.0.1:9/webhook","authentication":{"type":"BASIC","username":"Demo","password":"********"}},` +
		`"_links":{"self":[{"href":"` + ts.srv.URL + webhookPath + "/" + id + `"}]}}` + "\n"
	if r.body != want {
		t.Errorf("GET body\n got %s\nwant %s", r.body, want)
	}
	// The password is stored encrypted, never in clear.
	sw, err := ts.eng.Store().GetWebhook(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sw.Document), "Demo123") || !strings.Contains(string(sw.Document), "enc:v1:") {
		t.Errorf("stored document %s: want the password encrypted", sw.Document)
	}

	// The list holds the config file's webhook and the registered one.
	r = ts.admin("GET", webhookPath, nil)
	var list webhookListJSON
	decode(t, r, &list)
	var ids []string
	for _, e := range list.Entries {
		ids = append(ids, e.WebhookID)
		if e.Callback.Authentication.Password != "" && e.Callback.Authentication.Password != "********" {
			t.Errorf("list shows password %q", e.Callback.Authentication.Password)
		}
	}
	if diff := cmp.Diff([]string{"WBH000000000901", id}, ids); diff != "" {
		t.Errorf("list ids (-want +got):\n%s", diff)
	}

	// PUT with the masked password (as GET shows it) keeps the stored one; enabled
	// false stops firing.
	put := `{"webhook_id":"` + id + `","description":"updated","form_name":"HPD:Help Desk","condition":"","entry_events":["create","update"],` +
		`"payload_fields":["Description"],"enabled":false,"callback":{"url":"http://127.0.0.1:9/webhook","authentication":{"type":"BASIC","username":"Demo","password":"********"}},` +
		`"_links":{"self":[{"href":"x"}]}}`
	if r := ts.admin("PUT", webhookPath+"/"+id, put); r.status != http.StatusNoContent || r.body != "" {
		t.Fatalf("PUT: %d %s, want 204", r.status, r.body)
	}
	if got := ts.firing(hpdCreate); len(got) != 0 {
		t.Errorf("disabled webhook fired %v", got)
	}
	r = ts.admin("GET", webhookPath+"/"+id, nil)
	var after WebhookJSON
	decode(t, r, &after)
	if after.Description != "updated" || *after.Enabled || after.Callback.Authentication.Password != "********" {
		t.Errorf("after PUT: %+v", after)
	}
	sw2, _ := ts.eng.Store().GetWebhook(context.Background(), id)
	if !strings.Contains(string(sw2.Document), "enc:v1:") {
		t.Errorf("PUT with the mask lost the password: %s", sw2.Document)
	}

	// Re-enable, then delete: it stops firing and answers 404.
	if r := ts.admin("PUT", webhookPath+"/"+id, strings.Replace(put, `"enabled":false`, `"enabled":true`, 1)); r.status != 204 {
		t.Fatalf("PUT enable: %d %s", r.status, r.body)
	}
	if got := ts.firing(hpdCreate); len(got) != 1 {
		t.Errorf("re-enabled webhook fired %v, want it", got)
	}
	if r := ts.admin("DELETE", webhookPath+"/"+id, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if got := ts.firing(hpdCreate); len(got) != 0 {
		t.Errorf("deleted webhook fired %v", got)
	}
	for _, m := range []string{"GET", "DELETE"} {
		r := ts.admin(m, webhookPath+"/"+id, nil)
		if want := errorJSON("webhook " + id + " does not exist"); r.status != 404 || r.body != want {
			t.Errorf("%s after delete: %d %s, want 404 %s", m, r.status, r.body, want)
		}
	}
}

func TestWebhookErrors(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	id := ts.createSeedWebhook(seedWebhook)
	tests := []struct {
		name, method, path, body string
		auth                     string
		status                   int
		want                     string
	}{
		{"no token", "POST", webhookPath, seedWebhook, "-", 403, "missing Authorization header (want AR-JWT <token> or Bearer <token>)"},
		{"bad token", "GET", webhookPath, "", "AR-JWT wrong", 403, "invalid admin token"},
		{"bad token on one", "DELETE", webhookPath + "/" + id, "", "Bearer wrong", 403, "invalid admin token"},
		{"duplicate", "POST", webhookPath, seedWebhook, "", 409, "duplicate: a webhook with the same form, events and callback URL exists"},
		{"duplicate with events in another order", "POST", webhookPath, strings.Replace(seedWebhook, `"create", "update", "delete"`, `"delete", "create", "update"`, 1), "", 409,
			"duplicate: a webhook with the same form, events and callback URL exists"},
		{"duplicate of the config file's", "POST", webhookPath,
			`{"form_name":"HPD:Help Desk","entry_events":["delete"],"callback":{"url":"http://127.0.0.1:9/config-hook"}}`, "", 409,
			"duplicate: webhook WBH000000000901 has the same form, events and callback URL"},
		{"invalid condition", "POST", webhookPath, strings.Replace(seedWebhook, `'Status' !=\"Closed\"`, `'Stauts' = \"Closed\"`, 1), "", 400,
			"condition:1:1: unknown field 'Stauts'\n 1 | 'Stauts' = \"Closed\"\n   | ^"},
		{"unknown form", "POST", webhookPath, strings.Replace(seedWebhook, "HPD:Help Desk", "HPD:Help Desks", 1), "", 400,
			`form_name "HPD:Help Desks" is not a declared form; did you mean "HPD:Help Desk"?`},
		{"bad JSON", "POST", webhookPath, `{"form_name":`, "", 400, "invalid JSON: unexpected end of input"},
		{"unknown key", "POST", webhookPath, `{"form":"x"}`, "", 400, `invalid JSON: unknown field "form"`},
		{"wrong type", "POST", webhookPath, `{"entry_events":"create"}`, "", 400, `invalid JSON: "entry_events" must be an array, got string`},
		{"masked password on create", "POST", webhookPath, strings.Replace(seedWebhook, "Demo123", "********", 1), "", 400, `callback: password "********" is the mask, not a password`},
		{"bad enum_format", "POST", webhookPath, strings.Replace(seedWebhook, `"description"`, `"enum_format": "number", "description"`, 1), "", 400, `unknown enum_format "number" (want name or value)`},
		{"unknown id", "GET", webhookPath + "/WBH000000000777", "", "", 404, "webhook WBH000000000777 does not exist"},
		{"update unknown id", "PUT", webhookPath + "/WBH000000000777", seedWebhook, "", 404, "webhook WBH000000000777 does not exist"},
		{"delete unknown id", "DELETE", webhookPath + "/WBH000000000777", "", "", 404, "webhook WBH000000000777 does not exist"},
		{"id mismatch", "PUT", webhookPath + "/" + id, `{"webhook_id":"WBH000000000002"}`, "", 400, `webhook_id "WBH000000000002" in the body does not match "` + id + `" in the URL`},
		{"config file webhook is read-only", "DELETE", webhookPath + "/WBH000000000901", "", "", 409, "webhook WBH000000000901: defined in the configuration file; change it there"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			switch tc.auth {
			case "":
				headers = []string{"Authorization", "Bearer " + adminToken}
			case "-":
			default:
				headers = []string{"Authorization", tc.auth}
			}
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := ts.do(tc.method, tc.path, body, headers...)
			if r.status != tc.status || r.body != errorJSON(tc.want) {
				t.Errorf("got %d %s\nwant %d %s", r.status, r.body, tc.status, errorJSON(tc.want))
			}
		})
	}
}

// TestWebhooksSurviveRestart registers a webhook and a target, restarts the server
// on the same SQLite file, and finds both working.
func TestWebhooksSurviveRestart(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "ruleflow.db")
	first := newTestServer(t, serverConfig{dsn: dsn})
	id := first.createSeedWebhook(seedWebhook)
	r := first.admin("DELETE", "/v1/targets/"+activeTarget(t, first, "jira"), nil)
	if r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	r = first.admin("POST", "/v1/targets", `{"name":"jira","iparams":{"project":"OPS"}}`)
	var tg targetJSON
	decode(t, r, &tg)
	first.close()

	second := newTestServer(t, serverConfig{dsn: dsn})
	if second.boot != "" {
		t.Errorf("second start printed new tokens:\n%s", second.boot)
	}
	if r := second.admin("GET", webhookPath+"/"+id, nil); r.status != 200 {
		t.Errorf("GET after restart: %d %s", r.status, r.body)
	}
	if got := second.firing(hpdCreate); len(got) != 1 {
		t.Errorf("after restart fired %v, want the webhook", got)
	}
	r = second.do("POST", tg.URL, `{"issue":{"key":"OPS-1"}}`)
	if r.status != 200 {
		t.Errorf("hook after restart: %d %s", r.status, r.body)
	}
}

// TestWebhooksSharedPostgres runs two servers on one PostgreSQL schema: a webhook
// registered through one is seen and fired by the other.
func TestWebhooksSharedPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	a := newTestServer(t, serverConfig{dsn: dsn})
	b := newTestServer(t, serverConfig{dsn: dsn})
	id := a.createSeedWebhook(seedWebhook)

	r := b.admin("GET", webhookPath+"/"+id, nil)
	if r.status != 200 {
		t.Fatalf("GET on the other node: %d %s", r.status, r.body)
	}
	if err := b.eng.RefreshWebhooks(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := b.firing(hpdCreate); len(got) != 1 {
		t.Errorf("other node fired %v, want the webhook", got)
	}
	if r := b.admin("POST", webhookPath, seedWebhook); r.status != 409 {
		t.Errorf("duplicate through the other node: %d %s, want 409", r.status, r.body)
	}
	if r := b.admin("DELETE", webhookPath+"/"+id, nil); r.status != 204 {
		t.Fatalf("DELETE on the other node: %d %s", r.status, r.body)
	}
	if err := a.eng.RefreshWebhooks(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := a.firing(hpdCreate); len(got) != 0 {
		t.Errorf("first node still fires the deleted webhook: %v", got)
	}
	// Both nodes share one target per name, created by whichever started first.
	if a.boot != "" && b.boot != "" && strings.Contains(a.boot, "jira") && strings.Contains(b.boot, "jira") {
		t.Errorf("both nodes created a jira target:\n%s\n%s", a.boot, b.boot)
	}
}

// postgresDSN is a fresh PostgreSQL schema of the test's own (see storetest).
func postgresDSN(t *testing.T) string { return storetest.PostgresDSN(t, "httpapi_test_") }

func TestJWTLogin(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	form := "application/x-www-form-urlencoded"
	r := ts.do("POST", "/api/jwt/login", "username=Demo&password="+adminToken, "Content-Type", form)
	if r.status != 200 || r.body != adminToken || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("login: %d %q %q", r.status, r.body, r.header.Get("Content-Type"))
	}
	// The answer is the AR-JWT the webhook API accepts.
	if r := ts.do("GET", webhookPath, nil, "Authorization", "AR-JWT "+r.body); r.status != 200 {
		t.Errorf("webhook list with the log-in token: %d %s", r.status, r.body)
	}
	for _, tc := range []struct {
		body, contentType string
		status            int
		want              string
	}{
		{"username=Demo&password=wrong", form, 401, "invalid user name or password"},
		{"username=Demo", form, 401, "invalid user name or password"},
		{`{"password":"x"}`, "application/json", 400, "want a form (application/x-www-form-urlencoded) with username and password"},
	} {
		r := ts.do("POST", "/api/jwt/login", tc.body, "Content-Type", tc.contentType)
		if r.status != tc.status || r.body != errorJSON(tc.want) {
			t.Errorf("%s: got %d %s, want %d %s", tc.body, r.status, r.body, tc.status, errorJSON(tc.want))
		}
	}
}
