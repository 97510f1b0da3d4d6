package httpapi

import (
	"os"
	"strings"
	"testing"

	"github.com/ruleflow/ruleflow/rules"
)

// orphanGauge reads ruleflow_webhooks_orphaned from the test server's registry.
func (ts *testServer) orphanGauge() float64 {
	ts.t.Helper()
	mfs, err := ts.reg.Gather()
	if err != nil {
		ts.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "ruleflow_webhooks_orphaned" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	ts.t.Fatal("no ruleflow_webhooks_orphaned metric")
	return 0
}

// TestOrphanedWebhook: a registered webhook whose form a reload removes stays in the
// store, does not fire, shows "enabled": false, "orphaned": true, is logged and
// counted; declaring the form again revives it.
func TestOrphanedWebhook(t *testing.T) {
	backends := []struct {
		name string
		dsn  func(*testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", postgresDSN},
	}
	for _, backend := range backends {
		t.Run(backend.name, func(t *testing.T) {
			ts := newTestServer(t, serverConfig{dsn: backend.dsn(t)})
			id := ts.createSeedWebhook(seedWebhook)
			orig := loadConfig(t, "")
			src, err := os.ReadFile("testdata/ruleflow.yaml")
			if err != nil {
				t.Fatal(err)
			}
			// The form is renamed without renamed_from: the webhook's form is gone.
			moved, err := rules.Parse("moved.yaml", []byte(strings.ReplaceAll(string(src), "HPD:Help Desk", "HPD:Incident")))
			if err != nil {
				t.Fatal(err)
			}
			if err := ts.eng.Reload(moved); err != nil {
				t.Fatalf("reload: %v", err)
			}
			r := ts.admin("GET", webhookPath+"/"+id, nil)
			var got WebhookJSON
			decode(t, r, &got)
			if got.Enabled == nil || *got.Enabled || !got.Orphaned || !strings.Contains(r.body, `"orphaned":true`) {
				t.Errorf("GET orphaned webhook: %s", r.body)
			}
			if !strings.Contains(ts.logs.String(), "registered webhook is orphaned") || !strings.Contains(ts.logs.String(), id) {
				t.Errorf("no orphan warning in the log:\n%s", ts.logs.String())
			}
			if g := ts.orphanGauge(); g != 1 {
				t.Errorf("ruleflow_webhooks_orphaned = %v, want 1", g)
			}
			moved2 := strings.ReplaceAll(hpdCreate, "HPD:Help Desk", "HPD:Incident")
			for _, f := range ts.firing(moved2) {
				if strings.Contains(f, id) {
					t.Errorf("orphaned webhook fired: %v", f)
				}
			}

			// Declaring the form again revives it.
			if err := ts.eng.Reload(orig); err != nil {
				t.Fatalf("reload: %v", err)
			}
			r = ts.admin("GET", webhookPath+"/"+id, nil)
			got = WebhookJSON{}
			decode(t, r, &got)
			if got.Enabled == nil || !*got.Enabled || got.Orphaned || strings.Contains(r.body, "orphaned") {
				t.Errorf("GET revived webhook: %s", r.body)
			}
			if g := ts.orphanGauge(); g != 0 {
				t.Errorf("ruleflow_webhooks_orphaned = %v after revival, want 0", g)
			}
			if fired := ts.firing(hpdCreate); len(fired) != 1 || !strings.Contains(fired[0], id) {
				t.Errorf("revived webhook: fired %v", fired)
			}
		})
	}
}

// TestWebhookFollowsFormRename: after a reload renames the form (renamed_from), a
// registered webhook shows and fires on the new name, is not orphaned, and a PUT
// with the former name is stored under the new one.
func TestWebhookFollowsFormRename(t *testing.T) {
	backends := []struct {
		name string
		dsn  func(*testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", postgresDSN},
	}
	for _, backend := range backends {
		t.Run(backend.name, func(t *testing.T) {
			ts := newTestServer(t, serverConfig{dsn: backend.dsn(t)})
			id := ts.createSeedWebhook(seedWebhook)
			src, err := os.ReadFile("testdata/ruleflow.yaml")
			if err != nil {
				t.Fatal(err)
			}
			text := strings.ReplaceAll(string(src), "HPD:Help Desk", "HPD:Incident")
			text = strings.Replace(text, "  HPD:Incident:\n", "  HPD:Incident:\n    renamed_from: [\"HPD:Help Desk\"]\n", 1)
			renamed, err := rules.Parse("renamed.yaml", []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			if err := ts.eng.Reload(renamed); err != nil {
				t.Fatalf("reload: %v", err)
			}
			r := ts.admin("GET", webhookPath+"/"+id, nil)
			var got WebhookJSON
			decode(t, r, &got)
			if got.FormName != "HPD:Incident" || got.Orphaned || got.Enabled == nil || !*got.Enabled {
				t.Errorf("GET after the rename: %s", r.body)
			}
			if g := ts.orphanGauge(); g != 0 {
				t.Errorf("ruleflow_webhooks_orphaned = %v, want 0", g)
			}
			ev := strings.ReplaceAll(hpdCreate, "HPD:Help Desk", "HPD:Incident")
			if fired := ts.firing(ev); len(fired) != 1 || !strings.Contains(fired[0], id) {
				t.Errorf("after the rename fired %v, want webhook %s", fired, id)
			}
			// A PUT that still says the former name is stored under the new one.
			put := strings.Replace(seedWebhook, `"password": "Demo123"`, `"password": "********"`, 1)
			if r := ts.admin("PUT", webhookPath+"/"+id, put); r.status != 204 {
				t.Fatalf("PUT with the former form name: %d %s", r.status, r.body)
			}
			sw, err := ts.eng.Webhook(t.Context(), id)
			if err != nil || sw.FormName != "HPD:Incident" {
				t.Errorf("after PUT: %v, %v", sw, err)
			}
		})
	}
}
