package httpapi

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/rules"
)

// TestMaskedOutput checks that the API never shows credential-like query values or
// the values of headers marked secret: true (issue 9), in deliveries and webhooks,
// and that a webhook PUT back as GET showed it keeps the stored values.
func TestMaskedOutput(t *testing.T) {
	ts := newTestServer(t, serverConfig{configFile: filepath.Join("testdata", "masking.yaml")})
	r := ts.admin("POST", "/v1/events", `{"event":"create","form":"Ticket","entry_id":"1","after":{"TicketID":1}}`)
	if r.status != 202 {
		t.Fatalf("POST /v1/events: %d %s", r.status, r.body)
	}
	jobs := ts.jobs()
	if len(jobs) != 1 {
		t.Fatalf("%d jobs, want 1", len(jobs))
	}
	r = ts.admin("GET", "/v1/deliveries/"+jobs[0].ID, nil)
	var d deliveryJSON
	decode(t, r, &d)
	if strings.Contains(r.body, "SECRET") {
		t.Errorf("GET /v1/deliveries/{id} shows a secret:\n%s", r.body)
	}
	if want := "http://127.0.0.1:9/x?id=1&api_key=********&X-Signature=********"; d.Request == nil || d.Request.URL != want {
		t.Fatalf("request = %+v, want URL %s", d.Request, want)
	}
	if got := d.Request.Header["X-Api-Key"]; got != rules.Masked {
		t.Errorf("X-Api-Key = %q, want the mask", got)
	}
	if got := d.Request.Header["X-Tenant"]; got != "acme" {
		t.Errorf("X-Tenant = %q, want acme (not secret)", got)
	}

	// The config file's webhook, in the list and alone.
	for _, path := range []string{webhookPath, webhookPath + "/WBH000000000902"} {
		r = ts.admin("GET", path, nil)
		if r.status != 200 || strings.Contains(r.body, "SECRET") || !strings.Contains(r.body, `"headers":{"X-Hook-Key":{"value":"********","secret":true}}`) ||
			!strings.Contains(r.body, `hook?token=********`) {
			t.Errorf("GET %s: %d\n%s", path, r.status, r.body)
		}
	}

	// A registered webhook with a token in its URL and a secret header.
	r = ts.admin("POST", webhookPath, `{"description":"d","form_name":"Ticket","condition":"","entry_events":["create"],"payload_fields":[],
		"callback":{"url":"http://127.0.0.1:9/reg?sig=reg-SECRET","authentication":{"type":"NONE"},
		"headers":{"X-Reg-Key":{"value":"key-SECRET","secret":true},"X-Plain":"p"}}}`)
	if r.status != 201 {
		t.Fatalf("POST webhook: %d %s", r.status, r.body)
	}
	if strings.Contains(r.body, "SECRET") {
		t.Errorf("POST webhook answer shows a secret:\n%s", r.body)
	}
	loc := r.header.Get("Location")
	got := ts.admin("GET", loc, nil)
	var wj WebhookJSON
	decode(t, got, &wj)
	wantHeaders := map[string]HeaderJSON{"X-Reg-Key": {Value: rules.Masked, Secret: true}, "X-Plain": {Value: "p"}}
	if diff := cmp.Diff(wantHeaders, wj.Callback.Headers); diff != "" || wj.Callback.URL != "http://127.0.0.1:9/reg?sig=********" {
		t.Errorf("GET webhook callback %s, headers (-want +got):\n%s", wj.Callback.URL, diff)
	}
	// PUT back what GET showed, with a new description: the stored secrets stay.
	wj.Description = "changed"
	wj.Links = nil
	if r := ts.admin("PUT", loc, wj); r.status != 204 {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	stored, err := ts.eng.Webhook(context.Background(), wj.WebhookID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Description != "changed" || stored.Callback.URL != "http://127.0.0.1:9/reg?sig=reg-SECRET" ||
		stored.Callback.Headers["X-Reg-Key"] != "key-SECRET" || !cmp.Equal(stored.Callback.SecretHeaders, []string{"X-Reg-Key"}) {
		t.Errorf("after PUT: %+v", stored.Callback)
	}

	// A header of another shape, or a secret that is only the mask, is a 400.
	for body, want := range map[string]string{
		`{"form_name":"Ticket","entry_events":["create"],"callback":{"url":"http://127.0.0.1:9/b","headers":{"X":{"secret":true}}}}`:                    `invalid JSON: a header object needs "value"`,
		`{"form_name":"Ticket","entry_events":["create"],"callback":{"url":"http://127.0.0.1:9/b","headers":{"X":{"value":"v","hidden":1}}}}`:           `invalid JSON: a header is a string or {"value": "...", "secret": true}`,
		`{"form_name":"Ticket","entry_events":["create"],"callback":{"url":"http://127.0.0.1:9/b","headers":{"X":7}}}`:                                  `invalid JSON: a header is a string or {"value": "...", "secret": true}`,
		`{"form_name":"Ticket","entry_events":["create"],"callback":{"url":"http://127.0.0.1:9/b","headers":{"X":{"value":"********","secret":true}}}}`: `callback: header "X": "********" is the mask, not a value`,
	} {
		if r := ts.admin("POST", webhookPath, body); r.status != 400 || r.body != errorJSON(want) {
			t.Errorf("POST %s: %d %s, want 400 %q", body, r.status, r.body, want)
		}
	}
}
