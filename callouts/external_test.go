package callouts_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/engine/httpapi"
	"github.com/ruleflow/ruleflow/rules"
)

// TestExternalEventJSONNestsObjects: a JSON callout of an external event writes the
// payload's data, headers and iparams as nested JSON, not as JSON-encoded strings.
func TestExternalEventJSONNestsObjects(t *testing.T) {
	tg := &rules.TargetURL{Name: "jira", AccountID: "12345", Domain: "demo.freshservice.com", Region: "US", Iparams: map[string]any{"project": "OPS"}}
	data := map[string]any{"issue": map[string]any{"id": json.Number("10001"), "labels": []any{"a", "b"}}}
	payload := httpapi.ExternalPayload(tg, nil, data, http.Header{"Content-Type": {"application/json"}}, time.Unix(1700000000, 0))
	ev := &rules.Event{Kind: rules.KindExternal, Form: "jira", EntryID: "ext_1", After: httpapi.FlattenPayload(payload)}
	c := &rules.Callout{Name: "dash", URL: "http://127.0.0.1:9/x", Method: "POST", Format: rules.FormatJSON,
		PayloadFields: []string{"account_id", "region", "data", "headers", "iparams"}}
	req, err := callouts.Render(&rules.Config{}, c, ev)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		EntryDetails map[string]any `json:"entry_details"`
	}
	if err := json.Unmarshal(req.Body, &got); err != nil {
		t.Fatalf("body %s: %v", req.Body, err)
	}
	want := map[string]any{
		"account_id": "12345",
		"region":     "US",
		"data":       map[string]any{"issue": map[string]any{"id": float64(10001), "labels": []any{"a", "b"}}},
		"headers":    map[string]any{"Content-Type": "application/json"},
		"iparams":    map[string]any{"project": "OPS"},
	}
	if diff := cmp.Diff(want, got.EntryDetails); diff != "" {
		t.Errorf("entry_details (-want +got):\n%s\nbody %s", diff, req.Body)
	}

	// Other events keep a string that merely looks like JSON as a string.
	ev2 := &rules.Event{Kind: rules.KindCreate, Form: "jira", EntryID: "1", After: rules.Record{"data": `{"x":1}`}}
	c.PayloadFields = []string{"data"}
	req, err = callouts.Render(&rules.Config{}, c, ev2)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(req.Body, &got); err != nil {
		t.Fatal(err)
	}
	if got.EntryDetails["data"] != `{"x":1}` {
		t.Errorf("create event data = %#v, want the string", got.EntryDetails["data"])
	}
}
