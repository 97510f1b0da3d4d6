package httpapi

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ruleflow/ruleflow/rules"
)

// noAllowConfig writes the tests' configuration without its egress block, so the
// default policy applies: API-registered webhooks may not reach loopback.
func noAllowConfig(t *testing.T, egress string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "ruleflow.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Replace(string(src), "egress: {allow: [127.0.0.0/8]}\n", egress, 1)
	if out == string(src) && egress != "egress: {allow: [127.0.0.0/8]}\n" {
		t.Fatal("testdata/ruleflow.yaml has no egress line to replace")
	}
	path := filepath.Join(t.TempDir(), "ruleflow.yaml")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestWebhookRegistrationEgress: a callback whose host is a refused literal address,
// in any spelling, is a 400 naming the rule, on POST and on PUT, and nothing is
// registered; a host name is accepted (it is judged on its addresses when dialled).
func TestWebhookRegistrationEgress(t *testing.T) {
	ts := newTestServer(t, serverConfig{configFile: noAllowConfig(t, "")})
	const lo = "loopback, refused for API-registered webhooks (egress.allow lifts this)"
	tests := []struct{ url, want string }{
		{"http://127.0.0.1:9000/webhook", "127.0.0.1 is " + lo},
		{"http://0x7f000001/", "127.0.0.1 is " + lo},
		{"http://2130706433/", "127.0.0.1 is " + lo},
		{"http://127.1/", "127.0.0.1 is " + lo},
		{"http://0177.0.0.1/", "127.0.0.1 is " + lo},
		{"http://localhost:8080/", "127.0.0.1 is " + lo},
		{"http://[::1]/", "::1 is " + lo},
		{"http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 is IPv4-mapped 127.0.0.1, which is " + lo},
		{"http://[::ffff:a9fe:a9fe]/", "::ffff:169.254.169.254 is IPv4-mapped 169.254.169.254, which is link-local"},
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254 is link-local"},
		{"http://[fe80::1%25eth0]/", "fe80::1%eth0 is link-local"},
		{"http://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe is NAT64 of 169.254.169.254, which is link-local"},
		{"http://[2002:a9fe:a9fe::]/", "2002:a9fe:a9fe:: is 6to4 of 169.254.169.254, which is link-local"},
		{"https://0.0.0.0/", "0.0.0.0 is unspecified"},
		{"http://255.255.255.255/", "255.255.255.255 is broadcast"},
		{"http://[ff02::1]/", "ff02::1 is multicast"},
	}
	for _, tc := range tests {
		body := strings.Replace(seedWebhook, "http://127.0.0.1:9/webhook", tc.url, 1)
		r := ts.admin("POST", webhookPath, body)
		want := `{"error":"callback: url: egress refused: ` + tc.want + `"}`
		if r.status != http.StatusBadRequest || strings.TrimSpace(r.body) != want {
			t.Errorf("POST %s: %d %s\nwant 400 %s", tc.url, r.status, r.body, want)
		}
	}
	r := ts.admin("GET", webhookPath, nil)
	if strings.Count(r.body, `"webhook_id"`) != 1 { // the configuration file's one
		t.Errorf("refused registrations were stored: %s", r.body)
	}

	// A name passes registration (and private addresses are allowed), and the same
	// check guards PUT.
	id := ts.createSeedWebhook(strings.Replace(seedWebhook, "http://127.0.0.1:9/webhook", "http://hooks.example.test/webhook", 1))
	ts.createSeedWebhook(strings.Replace(seedWebhook, "http://127.0.0.1:9/webhook", "http://10.0.0.7/webhook", 1))
	put := strings.Replace(seedWebhook, "http://127.0.0.1:9/webhook", "http://0x7f.1/webhook", 1)
	r = ts.admin("PUT", webhookPath+"/"+id, put)
	if want := `{"error":"callback: url: egress refused: 127.0.0.1 is ` + lo + `"}`; r.status != http.StatusBadRequest || strings.TrimSpace(r.body) != want {
		t.Errorf("PUT: %d %s\nwant 400 %s", r.status, r.body, want)
	}
	r = ts.admin("GET", webhookPath+"/"+id, nil)
	if !strings.Contains(r.body, "hooks.example.test") {
		t.Errorf("the refused PUT changed the webhook: %s", r.body)
	}
}

// TestWebhookRegistrationEgressAllow: egress.allow lets API webhooks reach loopback,
// never link-local; egress.deny refuses a private range at registration too.
func TestWebhookRegistrationEgressAllow(t *testing.T) {
	ts := newTestServer(t, serverConfig{configFile: noAllowConfig(t, "egress: {allow: [127.0.0.0/8], deny: [10.0.0.0/8]}\n")})
	ts.createSeedWebhook(strings.Replace(seedWebhook, "http://127.0.0.1:9/webhook", "http://2130706433:9/webhook", 1))
	for url, want := range map[string]string{
		"http://169.254.169.254/": "169.254.169.254 is link-local",
		"http://10.1.2.3/":        "10.1.2.3 is in egress.deny 10.0.0.0/8",
		"http://[::1]/":           "::1 is loopback, refused for API-registered webhooks (egress.allow lifts this)",
	} {
		r := ts.admin("POST", webhookPath, strings.Replace(seedWebhook, "http://127.0.0.1:9/webhook", url, 1))
		if w := `{"error":"callback: url: egress refused: ` + want + `"}`; r.status != http.StatusBadRequest || strings.TrimSpace(r.body) != w {
			t.Errorf("POST %s: %d %s\nwant 400 %s", url, r.status, r.body, w)
		}
	}
}

// TestNotesForwarderEgress: the notes forwarder's default client is guarded.
func TestNotesForwarderEgress(t *testing.T) {
	f := NewNotesForwarder(&rules.NotesEndpoint{URL: "http://169.254.169.254/notes"}, testKey(t), nil)
	err := f.AddNote(context.Background(), "Ticket", "1", "x")
	want := "notes: POST http://169.254.169.254/notes: egress refused: 169.254.169.254 is link-local"
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}
