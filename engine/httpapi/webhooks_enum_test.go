package httpapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestWebhookEnumFormat registers two webhooks through the API, one with the AR
// default (selections as numbers, "Status": 0 as in the AR sample) and one with
// enum_format name, and checks what a real receiver gets from each.
func TestWebhookEnumFormat(t *testing.T) {
	bodies := make(chan string, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- r.URL.Path + " " + string(b)
	}))
	defer recv.Close()
	ts := newTestServer(t, serverConfig{dispatch: true})
	numbers := ts.createSeedWebhook(strings.Replace(seedWebhook, "http://127.0.0.1:9/webhook", recv.URL+"/numbers", 1))
	names := ts.createSeedWebhook(strings.Replace(strings.Replace(seedWebhook, "http://127.0.0.1:9/webhook", recv.URL+"/names", 1),
		`"description"`, `"enum_format": "name", "description"`, 1))

	var got WebhookJSON
	decode(t, ts.admin("GET", webhookPath+"/"+names, nil), &got)
	if got.EnumFormat != "name" {
		t.Errorf("GET shows enum_format %q, want name", got.EnumFormat)
	}
	ts.firing(hpdCreate)
	want := map[string]string{
		"/numbers": `{"webhook_id":"` + numbers + `","entry_event":"create","form_name":"HPD:Help Desk","entry_id":"000000000000001","entry_details":{"Description":"router down","Impact":null,"Status":0}}`,
		"/names":   `{"webhook_id":"` + names + `","entry_event":"create","form_name":"HPD:Help Desk","entry_id":"000000000000001","entry_details":{"Description":"router down","Impact":null,"Status":"New"}}`,
	}
	for range want {
		select {
		case b := <-bodies:
			path, body, _ := strings.Cut(b, " ")
			if body != want[path] {
				t.Errorf("%s got\n %s\nwant %s", path, body, want[path])
			}
		case <-time.After(10 * time.Second):
			t.Fatal("callbacks not delivered within 10s")
		}
	}
}
