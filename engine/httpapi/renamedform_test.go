package httpapi

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// renamedConfig writes a configuration declaring the AR form under name (with
// renamed_from, if given) and a JSON callout on its creates.
func renamedConfig(t *testing.T, name, renamedFrom string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ruleflow.yaml")
	src := `version: 1
timezone: UTC
forms:
  "` + name + `":
    ` + renamedFrom + `
    fields:
      Request ID: {id: 1, type: character}
      Status: {id: 7, type: selection, options: [New, Assigned, Closed]}
callouts:
  - {name: AR hook, url: "http://127.0.0.1:9/ar", format: json}
rules:
  - {name: On create, form: "` + name + `", events: [create], callouts: [AR hook]}
`
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDeliveriesFollowRenamedForm: deliveries stored under a form's former name are
// listed by GET /v1/deliveries?form=<new name> (and by the former name), shown with
// the new name, and a pending one's request shows the form_name its next attempt
// sends. (Before, ?form=<new name> listed none of them.)
func TestDeliveriesFollowRenamedForm(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "ruleflow.db")
	old := newTestServer(t, serverConfig{dsn: dsn, configFile: renamedConfig(t, "HPD:Help Desk", "")})
	r := old.admin("POST", "/v1/events", `{"event":"create","form":"HPD:Help Desk","entry_id":"INC1","after":{"Request ID":"INC1","Status":"New"}}`)
	if r.status != 202 {
		t.Fatalf("event: %d %s", r.status, r.body)
	}
	old.close()

	ts := newTestServer(t, serverConfig{dsn: dsn, configFile: renamedConfig(t, "HPD:Incident", `renamed_from: ["HPD:Help Desk"]`)})
	r = ts.admin("POST", "/v1/events", `{"event":"create","form":"HPD:Incident","entry_id":"INC2","after":{"Request ID":"INC2","Status":"New"}}`)
	if r.status != 202 {
		t.Fatalf("event: %d %s", r.status, r.body)
	}
	for _, form := range []string{"HPD:Incident", "HPD:Help Desk"} {
		r = ts.admin("GET", "/v1/deliveries?form="+url.QueryEscape(form), nil)
		var list deliveryList
		decode(t, r, &list)
		var got []string
		for _, d := range list.Deliveries {
			got = append(got, d.EntryID+" "+d.Form)
		}
		if strings.Join(got, ", ") != "INC1 HPD:Incident, INC2 HPD:Incident" {
			t.Errorf("?form=%s: %d %v", form, r.status, got)
		}
		if form == "HPD:Incident" && len(list.Deliveries) == 2 {
			r = ts.admin("GET", "/v1/deliveries/"+list.Deliveries[0].ID, nil)
			var one deliveryJSON
			decode(t, r, &one)
			if one.Request == nil || !strings.Contains(one.Request.Body, `"form_name":"HPD:Incident"`) || one.Form != "HPD:Incident" {
				t.Errorf("pending delivery shows %+v", one.Request)
			}
		}
	}
}
