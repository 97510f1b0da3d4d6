package rules

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestJudgeRefusesWhatCannotRender: definitions the renderer refuses were accepted
// by the loader before (an Authorization header, a NUL in a header value, a quote in
// the SOAP action...). Each is now a positioned load error.
func TestJudgeRefusesWhatCannotRender(t *testing.T) {
	src := base + `  - {name: A, url: "http://h/", format: json, headers: {authorization: "Bearer x"}}
  - {name: B, url: "http://h/", format: json, headers: {Host: evil.example}}
  - {name: C, url: "http://h/", format: json, headers: {X-Nul: "a\0b"}}
  - {name: D, url: "http://h/", format: soap, method_name: "Close Ticket", soap_action: "http://t/\"x"}
  - {name: E, url: "http://h/", format: xmlrpc, method_name: "a<b"}
  - {name: F, url: "http://h/"}
  - {name: G, url: "http://h/", format: json, signing_secret: "whsec_!!!"}
  - {name: H, url: "http://h/", format: json, headers: {Content-Length: "1", Transfer-Encoding: chunked, Proxy-Authorization: x, Connection: close}}
webhooks:
  - webhook_id: W1
    form_name: Ticket
    entry_events: [create]
    callback: {url: "http://h/w", headers: {Authorization: "Bearer x", X-A: "1\0"}}
`
	_, err := parseTest(t, src)
	want := []string{
		`11:57: header "Authorization" may not be set: credentials are never stored with a request; set username and password`,
		`12:57: header "Host" may not be set: it is taken from the URL`,
		`13:64: header "X-Nul": value must not contain line breaks or NUL`,
		`14:60: soap method_name "Close Ticket" is not a valid XML element name`,
		`14:89: soap_action must not contain quotes, line breaks or NUL`,
		`15:62: xmlrpc method_name "a<b" may only use A-Z a-z 0-9 _ . : /`,
		`16:5: a callout is missing the required key "format"`,
		`17:63: signing secret: the part after whsec_ is not valid base64`,
		`18:57: header "Content-Length" may not be set: it is computed from the body`,
		`18:78: header "Transfer-Encoding" may not be set: it is managed by the HTTP client`,
		`18:106: header "Proxy-Authorization" may not be set: credentials are never stored with a request; set username and password`,
		`18:130: header "Connection" may not be set: it is managed by the HTTP client`,
		`23:45: header "Authorization" may not be set: credentials are never stored with a request; set username and password`,
		`23:77: header "X-A": value must not contain line breaks or NUL`,
	}
	if diff := cmp.Diff(want, errLines(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// TestCompileWebhookJudge: the API's check of a webhook is the same judge; a header
// the renderer refuses is a registration error, not a 201 that breaks the form.
func TestCompileWebhookJudge(t *testing.T) {
	c := mustParse(t, matchConfig)
	for _, tt := range []struct {
		headers map[string]string
		want    string
	}{
		{map[string]string{"Host": "x"}, `callback: header "Host" may not be set: it is taken from the URL`},
		{map[string]string{"authorization": "Basic x"}, `callback: header "Authorization" may not be set: credentials are never stored with a request; set username and password`},
		{map[string]string{"X-A": "a\x00b"}, `callback: header "X-A": value must not contain line breaks or NUL`},
	} {
		_, err := c.CompileWebhook(&Webhook{WebhookID: "W9", FormName: "HPD", EntryEvents: []Kind{KindCreate},
			Callback: WebhookCallback{URL: "http://127.0.0.1:9/x", Headers: tt.headers}})
		if err == nil || err.Error() != tt.want {
			t.Errorf("headers %q: error %v, want %q", tt.headers, err, tt.want)
		}
	}
}

// TestCheckCallout is the judge as the renderer calls it.
func TestCheckCallout(t *testing.T) {
	ok := &Callout{Name: "x", URL: "http://h/", Format: FormatJSON, Headers: map[string]string{"X-Ok": "1"}}
	if err := CheckCallout(ok); err != nil {
		t.Fatalf("CheckCallout(ok) = %v", err)
	}
	bad := *ok
	bad.Headers = map[string]string{"host": "h"}
	if err := CheckCallout(&bad); err == nil || err.Error() != `header "Host" may not be set: it is taken from the URL` {
		t.Fatalf("CheckCallout(host) = %v", err)
	}
}

// TestDecodeIntLimits: integers up to math.MaxInt64 reach the setting's own range
// check (the decoder refused those above 1<<62 before); larger ones are too large;
// a quoted number is a string unless it comes from ${VAR}.
func TestDecodeIntLimits(t *testing.T) {
	t.Setenv("RF_TEST_PORT", "2525")
	const c9 = `  - {name: C9, url: "http://h/", format: json, retry: {max: %s}}` + "\n"
	for _, tt := range []struct{ src, want string }{
		{base + fmt.Sprintf(c9, "4611686018427387905"), `11:61: retry max 4611686018427387905 is out of range (want 0 to 1000 more attempts)`},
		{base + fmt.Sprintf(c9, "9223372036854775808"), `11:61: integer 9223372036854775808 is too large`},
		{base + fmt.Sprintf(c9, `"3"`), `11:61: expected an integer, got the string "3"`},
		{base + "smtp: {host: h, port: \"${RF_TEST_PORT}\", tls: none, from: a@example.com}\n", ``},
	} {
		_, err := Parse("t.yaml", []byte(tt.src))
		got := ""
		if err != nil {
			got = errLines(err)[0]
		}
		if got != tt.want {
			t.Errorf("%q: error %q, want %q", tt.src[len(base):], got, tt.want)
		}
	}
}
