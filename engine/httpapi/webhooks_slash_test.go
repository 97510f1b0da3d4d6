package httpapi

import (
	"net/http"
	"testing"
)

// TestWebhookTrailingSlash: GET …/webhook/ID/ (as the AR document writes it)
// answers like …/webhook/ID; PUT and DELETE accept it too.
func TestWebhookTrailingSlash(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	id := ts.createSeedWebhook(seedWebhook)
	plain := ts.admin("GET", webhookPath+"/"+id, nil)
	slash := ts.admin("GET", webhookPath+"/"+id+"/", nil)
	if slash.status != http.StatusOK || slash.body != plain.body {
		t.Fatalf("GET with slash: %d %s\nwant 200 %s", slash.status, slash.body, plain.body)
	}
	if r := ts.admin("GET", webhookPath+"/"+id+"/extra", nil); r.status != http.StatusNotFound {
		t.Fatalf("GET …/ID/extra: %d %s, want 404", r.status, r.body)
	}
	if r := ts.admin("DELETE", webhookPath+"/"+id+"/", nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE with slash: %d %s", r.status, r.body)
	}
	if r := ts.admin("GET", webhookPath+"/"+id+"/", nil); r.status != http.StatusNotFound {
		t.Fatalf("GET after delete: %d %s, want 404", r.status, r.body)
	}
}
