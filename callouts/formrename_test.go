package callouts

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ruleflow/ruleflow/rules"
)

// TestRenamedForm: the form_name of a rendered JSON payload (plain and multipart)
// becomes the new name and nothing else changes; other formats, another form and a
// attachment holding such JSON are left alone.
func TestRenamedForm(t *testing.T) {
	cfg := testConfig(t)
	render := func(c *rules.Callout, ev *rules.Event) *Request {
		t.Helper()
		req, err := Render(cfg, c, ev)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	plain := render(jsonCallout(), seedEvent(rules.KindCreate))
	att := seedEvent(rules.KindCreate)
	att.After["Attachment1"] = &rules.Attachment{Name: "a.txt", Data: []byte(`{"webhook_id":"x","entry_event":"y","form_name":"Ticket"}`)}
	multi := render(jsonCallout(), att)
	if !strings.HasPrefix(multi.Header["Content-Type"], "multipart/form-data") {
		t.Fatalf("not multipart: %q", multi.Header["Content-Type"])
	}

	got, ok := RenamedForm(plain, "Ticket", `HPD:Incident "new"`)
	if !ok {
		t.Fatal("plain JSON not renamed")
	}
	var before, after map[string]any
	json.Unmarshal(plain.Body, &before)
	if err := json.Unmarshal(got.Body, &after); err != nil {
		t.Fatalf("renamed body is not JSON: %v\n%s", err, got.Body)
	}
	if after["form_name"] != `HPD:Incident "new"` {
		t.Errorf("form_name = %v", after["form_name"])
	}
	before["form_name"] = after["form_name"]
	if b1, _ := json.Marshal(before); !bytes.Equal(b1, mustMarshal(after)) {
		t.Errorf("other keys changed:\n%s\n%s", plain.Body, got.Body)
	}
	if bytes.Contains(plain.Body, []byte("HPD")) {
		t.Error("the original request was modified")
	}

	got, ok = RenamedForm(multi, "Ticket", "HPD:Incident")
	if !ok {
		t.Fatal("multipart not renamed")
	}
	if n := bytes.Count(got.Body, []byte(`"form_name":"HPD:Incident"`)); n != 1 || !bytes.Contains(got.Body, []byte(`"form_name":"Ticket"}`)) {
		t.Errorf("multipart: %d renamed, attachment bytes changed?\n%s", n, got.Body)
	}

	for _, tc := range []struct {
		name string
		req  *Request
		old  string
	}{
		{"another form", plain, "Other"},
		{"name-value", render(nameValueCallout("POST"), seedEvent(rules.KindCreate)), "Ticket"},
		{"soap", render(soapCallout(), seedEvent(rules.KindCreate)), "Ticket"},
		{"no body", &Request{Method: "GET", Header: map[string]string{"Content-Type": "application/json"}}, "Ticket"},
		{"truncated", &Request{Header: map[string]string{"Content-Type": "application/json"}, Body: []byte(`{"webhook_id":"a","entry_event":"b","form_name":"Tick`)}, "Ticket"},
	} {
		if out, ok := RenamedForm(tc.req, tc.old, "New"); ok || out != tc.req {
			t.Errorf("%s: renamed", tc.name)
		}
	}
}

func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
