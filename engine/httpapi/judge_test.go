package httpapi

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
)

// TestWebhookRefusedHeaders: a webhook whose callback sets a header the renderer
// refuses was registered (201) and then made every event on its form fail with 500.
// The API now answers 400, on POST and on PUT, with the judge's message.
func TestWebhookRefusedHeaders(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	id := ts.createSeedWebhook(seedWebhook)
	withHeaders := func(h string) string {
		return strings.Replace(seedWebhook, `"url": "http://127.0.0.1:9/webhook",`, `"url": "http://127.0.0.1:9/webhook", "headers": `+h+`,`, 1)
	}
	for _, tc := range []struct{ name, method, path, headers, want string }{
		{"host", "POST", webhookPath, `{"Host": "evil.example"}`, `callback: header "Host" may not be set: it is taken from the URL`},
		{"authorization", "POST", webhookPath, `{"authorization": "Bearer x"}`,
			`callback: header "Authorization" may not be set: credentials are never stored with a request; set username and password`},
		{"NUL in value", "POST", webhookPath, `{"X-A": "a\u0000b"}`, `callback: header "X-A": value must not contain line breaks or NUL`},
		{"PUT host", "PUT", webhookPath + "/" + id, `{"Host": "evil.example"}`, `callback: header "Host" may not be set: it is taken from the URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.admin(tc.method, tc.path, withHeaders(tc.headers))
			if r.status != 400 || !strings.Contains(r.body, strings.ReplaceAll(tc.want, `"`, `\"`)) {
				t.Fatalf("%s: status %d %s, want 400 %q", tc.method, r.status, r.body, tc.want)
			}
		})
	}
	// The form still works: an event fires the registered webhook.
	if r := ts.admin("POST", "/v1/events", `{"event":"delete","form":"HPD:Help Desk","entry_id":"1","before":{"Status":"New"}}`); r.status != 202 {
		t.Fatalf("event: %d %s", r.status, r.body)
	}
}

// TestStoredWebhookRefusedIsSkipped: a registration stored before the judge refused
// it (a Host header) must not break its form: it is skipped with a logged error and
// the configuration file's own webhook still fires.
func TestStoredWebhookRefusedIsSkipped(t *testing.T) {
	dsn := "sqlite:" + t.TempDir() + "/ruleflow.db"
	func() {
		st, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		doc := `{"form_name":"HPD:Help Desk","entry_events":["delete"],"url":"http://127.0.0.1:9/old","headers":{"Host":"evil.example"}}`
		if _, err := st.CreateWebhook(context.Background(), store.Webhook{Form: "HPD:Help Desk", Events: "delete", URL: "http://127.0.0.1:9/old", Document: []byte(doc)}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}()
	ts := newTestServer(t, serverConfig{dsn: dsn})
	r := ts.admin("POST", "/v1/events", `{"event":"delete","form":"HPD:Help Desk","entry_id":"1","before":{"Status":"New"}}`)
	if r.status != 202 || !strings.Contains(r.body, `"callout":"webhook WBH000000000901"`) || strings.Contains(r.body, "WBH000000000902") {
		t.Fatalf("event: %d %s, want 202 firing only the file's webhook", r.status, r.body)
	}
	if logs := ts.logs.String(); !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, `header \"Host\" may not be set`) {
		t.Fatalf("the skipped registration is not logged as an error:\n%s", logs)
	}
}
