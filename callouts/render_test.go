package callouts

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ruleflow/ruleflow/qualification/goldentest"
	"github.com/ruleflow/ruleflow/rules"
)

// dump writes a request the way the golden files hold it: request line, headers in
// sorted order, a blank line, the body.
func dump(req *Request) []byte {
	var b bytes.Buffer
	b.WriteString(req.Method + " " + req.URL + "\n")
	keys := make([]string, 0, len(req.Header))
	for k := range req.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString(k + ": " + req.Header[k] + "\n")
	}
	b.WriteString("\n")
	b.Write(req.Body)
	return b.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".golden")
	goldentest.Check(t, path, got)
}

// Standard data expected for the seed ticket (values of the Autotask seed sample,
// with this configuration's domain).
func seedStd(status string) []kv {
	return []kv{
		{Name: "id", Value: "8176"},
		{Name: "number", Value: "T20211120.0001"},
		{Name: "status", Value: status},
		{Name: "created_datetime", Value: "2021-11-20T10:43:34.9030000-05:00"},
		{Name: "last_activity_datetime", Value: "2022-03-25T11:23:58.6100000-04:00"},
		{Name: "domain", Value: "DEV3.COM"},
		{Name: "udf", Value: "MY_UDF_VALUE"},
	}
}

func specialStd() []kv {
	return []kv{
		{Name: "id", Value: "8176"},
		{Name: "number", Value: `T&1 <a href="x">'q'</a> ]]> 100%`},
		{Name: "status", Value: "Waiting Customer"},
		{Name: "created_datetime", Value: ""},
		{Name: "last_activity_datetime", Value: ""},
		{Name: "domain", Value: "DEV3.COM"},
		{Name: "udf", Value: "Zürich ✓ 東京 \"quoted\"\r\nline2\ttab"},
	}
}

type goldenCase struct {
	name    string
	callout *rules.Callout
	event   *rules.Event
	std     []kv // standard data expected by the round trip (Autotask formats)
}

func goldenCases() []goldenCase {
	var cases []goldenCase
	kinds := []rules.Kind{rules.KindCreate, rules.KindUpdate, rules.KindDelete}
	statusOf := map[rules.Kind]string{rules.KindCreate: "New", rules.KindUpdate: "Complete", rules.KindDelete: "New"}
	for _, k := range kinds {
		cases = append(cases,
			goldenCase{"name-value-GET-" + string(k), nameValueCallout("GET"), seedEvent(k), seedStd(statusOf[k])},
			goldenCase{"name-value-POST-" + string(k), nameValueCallout("POST"), seedEvent(k), seedStd(statusOf[k])},
			goldenCase{"soap-POST-" + string(k), soapCallout(), seedEvent(k), seedStd(statusOf[k])},
			goldenCase{"xmlrpc-POST-" + string(k), xmlrpcCallout(), seedEvent(k), seedStd(statusOf[k])},
			goldenCase{"json-POST-" + string(k), jsonCallout("Description", "Status", "Priority", "RMM Alert ID"), seedEvent(k), nil},
		)
	}
	cases = append(cases,
		goldenCase{"name-value-GET-special", nameValueCallout("GET"), specialEvent(), specialStd()},
		goldenCase{"name-value-POST-special", nameValueCallout("POST"), specialEvent(), specialStd()},
		goldenCase{"soap-POST-special", soapCallout(), specialEvent(), specialStd()},
		goldenCase{"xmlrpc-POST-special", xmlrpcCallout(), specialEvent(), specialStd()},
		goldenCase{"json-POST-special", jsonCallout(), specialEvent(), nil},
		goldenCase{"json-POST-create-all-fields", jsonCallout(), seedEvent(rules.KindCreate), nil},
		goldenCase{"json-POST-update-all-changed", jsonCallout(), seedEvent(rules.KindUpdate), nil},
	)
	withSet := seedEvent(rules.KindUpdate)
	withSet.Set = []string{"Priority", "8"} // Priority set to its old value; Description by field ID
	cases = append(cases, goldenCase{"json-POST-update-set", jsonCallout("Description", "Status", "Priority"), withSet, nil})

	att := seedEvent(rules.KindCreate)
	att.After["Attachment1"] = &rules.Attachment{Name: `sample "1".png`, ContentType: "image/png", Data: []byte("\x89PNG\r\n\x1a\nfake image bytes")}
	cases = append(cases, goldenCase{"json-POST-multipart-create", jsonCallout("Description", "Status", "Attachment1"), att, nil})
	attUpd := seedEvent(rules.KindUpdate)
	attUpd.After["Attachment1"] = &rules.Attachment{Name: "log.txt", Data: []byte("line 1\nline 2\n")}
	cases = append(cases, goldenCase{"json-POST-multipart-update", jsonCallout(), attUpd, nil})
	return cases
}

func TestRenderGolden(t *testing.T) {
	cfg := testConfig(t)
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			req, err := Render(cfg, tc.callout, tc.event)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.name, dump(req))
			if _, ok := req.Header["Authorization"]; ok {
				t.Fatal("rendered request holds an Authorization header")
			}
			// Rendering is deterministic.
			again, err := Render(cfg, tc.callout, tc.event)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dump(req), dump(again)) {
				t.Fatal("two renders differ")
			}
			if tc.std != nil {
				if diff := cmp.Diff(tc.std, decodeStd(t, tc.callout, req), cmp.Comparer(func(a, b kv) bool { return a.Name == b.Name && a.Value == b.Value })); diff != "" {
					t.Errorf("round trip (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// decodeStd parses a rendered Autotask-format request with the independent decoder
// of its format and returns the standard data it carries.
func decodeStd(t *testing.T, c *rules.Callout, req *Request) []kv {
	t.Helper()
	switch c.Format {
	case rules.FormatNameValue:
		raw := string(req.Body)
		if req.Method == "GET" {
			_, q, _ := strings.Cut(req.URL, "?")
			// The URL's own parameters come first.
			const own = "token=abc&x=1&"
			if !strings.HasPrefix(q, own) {
				t.Fatalf("query %q does not start with the URL's own %q", q, own)
			}
			raw = q[len(own):]
			if len(req.Body) != 0 {
				t.Fatalf("GET has a body")
			}
		} else if ct := req.Header["Content-Type"]; ct != "application/x-www-form-urlencoded" {
			t.Fatalf("Content-Type %q", ct)
		}
		kvs, err := decodeNameValue(raw)
		if err != nil {
			t.Fatal(err)
		}
		return kvs
	case rules.FormatSOAP:
		method, kvs, err := decodeSOAP(req.Body)
		if err != nil {
			t.Fatal(err)
		}
		if method.Local != c.MethodName || method.Space != SOAPNamespace(c.SOAPAction, c.MethodName) {
			t.Fatalf("method element %v", method)
		}
		return kvs
	case rules.FormatXMLRPC:
		method, kvs, err := decodeXMLRPC(req.Body)
		if err != nil {
			t.Fatal(err)
		}
		if method != c.MethodName {
			t.Fatalf("methodName %q", method)
		}
		for i, m := range kvs {
			want := "string"
			if i == 0 && m.Value != "" {
				want = "int"
			}
			if m.Type != want {
				t.Errorf("member %s is <%s>, want <%s>", m.Name, m.Type, want)
			}
		}
		return kvs
	}
	t.Fatalf("no standard data in format %s", c.Format)
	return nil
}

// TestRenderMatchesSeed compares the name-value and SOAP bodies with the samples of
// the Autotask seed, byte for byte (the seed's placeholders filled in).
func TestRenderMatchesSeed(t *testing.T) {
	cfg := testConfig(t)
	ev := seedEvent(rules.KindCreate)

	req, err := Render(cfg, nameValueCallout("POST"), ev)
	if err != nil {
		t.Fatal(err)
	}
	// The seed's sample, verbatim.
	const nv = "id=8176&number=T20211120.0001&status=New&created_datetime=2021-11-20T10:43:34.9030000-05:00&last_activity_datetime=2022-03-25T11:23:58.6100000-04:00&domain=DEV3.COM&udf=MY_UDF_VALUE"
	if got := string(req.Body); got != nv {
		t.Errorf("name-value body\n got %s\nwant %s", got, nv)
	}

	req, err = Render(cfg, soapCallout(), ev)
	if err != nil {
		t.Fatal(err)
	}
	seed := `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
<soap:Body>
<CloseTicket xmlns="http://tempuri.org/">
<id>8176</id>
<number>T20211120.0001</number>
<status>New</status>
<created_datetime>2021-11-20T10:43:34.9030000-05:00</created_datetime>
<last_activity_datetime>2022-03-25T11:23:58.6100000-04:00</last_activity_datetime>
<domain>DEV3.COM</domain>
<udf>MY_UDF_VALUE</udf>
</CloseTicket>
</soap:Body>
</soap:Envelope>
`
	if diff := cmp.Diff(seed, string(req.Body)); diff != "" {
		t.Errorf("SOAP envelope differs from the seed (-seed +got):\n%s", diff)
	}
	wantHeader := map[string]string{"Content-Type": "text/xml; charset=utf-8", "SOAPAction": `"http://tempuri.org/CloseTicket"`}
	if diff := cmp.Diff(wantHeader, req.Header); diff != "" {
		t.Errorf("SOAP headers (-want +got):\n%s", diff)
	}
}

// TestRenderHeaderPrecedence: the format's own headers win over custom headers of
// the same name, whatever their spelling, so no header is sent twice.
func TestRenderHeaderPrecedence(t *testing.T) {
	c := soapCallout()
	c.Headers = map[string]string{"soapaction": "x", "content-type": "text/plain", "x-trace": "1"}
	req, err := Render(testConfig(t), c, seedEvent(rules.KindCreate))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Content-Type": "text/xml; charset=utf-8", "SOAPAction": `"http://tempuri.org/CloseTicket"`, "X-Trace": "1"}
	if diff := cmp.Diff(want, req.Header); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
}

func TestSOAPNamespace(t *testing.T) {
	tests := []struct{ action, method, want string }{
		{"http://tempuri.org/CloseTicket", "CloseTicket", "http://tempuri.org/"},
		{"http://tempuri.org/MyWebMethod", "MyWebMethod", "http://tempuri.org/"},
		{"http://x/CloseTicketService/CloseTicket", "CloseTicket", "http://x/CloseTicketService/"},
		{"urn:CloseTicket#v2", "CloseTicket", "urn:#v2"},
		{"http://tempuri.org/", "CloseTicket", "http://tempuri.org/"},
	}
	for _, tt := range tests {
		if got := SOAPNamespace(tt.action, tt.method); got != tt.want {
			t.Errorf("SOAPNamespace(%q, %q) = %q, want %q", tt.action, tt.method, got, tt.want)
		}
	}
}

// TestRenderJSON checks the AR webhook bodies with encoding/json: key order, which
// fields are sent, and value types.
func TestRenderJSON(t *testing.T) {
	cfg := testConfig(t)
	payload := []string{"Description", "Status", "Priority", "RMM Alert ID"}
	withSet := seedEvent(rules.KindUpdate)
	withSet.Set = []string{"Priority", "8"}
	tests := []struct {
		name        string
		callout     *rules.Callout
		event       *rules.Event
		wantDetails []string // nil: no entry_details key
		want        map[string]any
	}{
		{"create with payload fields", jsonCallout(payload...), seedEvent(rules.KindCreate), payload,
			map[string]any{"Description": "Router down", "Status": "New", "Priority": json.Number("2"), "RMM Alert ID": "MY_UDF_VALUE"}},
		{"create all fields in declaration order", jsonCallout(), seedEvent(rules.KindCreate),
			[]string{"TicketID", "TicketNumber", "Status", "CreateDate", "LastActivityDate", "RMM Alert ID", "Description", "Priority", "Score", "Urgent", "DueDate", "Attachment1"},
			map[string]any{"TicketID": json.Number("8176"), "CreateDate": "2021-11-20T10:43:34.9030000-05:00", "Score": json.Number("1.5"), "Urgent": true, "DueDate": "2022-03-25", "Attachment1": nil}},
		{"update sends only changed payload fields", jsonCallout(payload...), seedEvent(rules.KindUpdate), []string{"Description", "Status"},
			map[string]any{"Description": "Router back up", "Status": "Complete"}},
		{"update without payload list sends all changed", jsonCallout(), seedEvent(rules.KindUpdate), []string{"Status", "Description"},
			map[string]any{"Status": "Complete"}},
		{"update uses Set when given, IDs resolved", jsonCallout("Description", "Status", "Priority"), withSet, []string{"Description", "Priority"},
			map[string]any{"Priority": json.Number("2")}},
		{"update with nothing registered changed", jsonCallout("Urgent"), seedEvent(rules.KindUpdate), []string{}, map[string]any{}},
		{"delete has no entry_details", jsonCallout(payload...), seedEvent(rules.KindDelete), nil, nil},
		{"payload field by ID", jsonCallout("536870913"), seedEvent(rules.KindCreate), []string{"RMM Alert ID"}, map[string]any{"RMM Alert ID": "MY_UDF_VALUE"}},
		{"missing field is null", jsonCallout("Nope"), seedEvent(rules.KindCreate), []string{"Nope"}, map[string]any{"Nope": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := Render(cfg, tt.callout, tt.event)
			if err != nil {
				t.Fatal(err)
			}
			if ct := req.Header["Content-Type"]; ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
			top, inner, err := jsonObjectKeys(req.Body, "entry_details")
			if err != nil {
				t.Fatalf("%v in %s", err, req.Body)
			}
			wantTop := []string{"webhook_id", "entry_event", "form_name", "entry_id", "entry_details"}
			if tt.wantDetails == nil {
				wantTop = wantTop[:4]
			}
			if diff := cmp.Diff(wantTop, top); diff != "" {
				t.Errorf("top-level keys (-want +got):\n%s", diff)
			}
			if tt.wantDetails != nil {
				if inner == nil {
					inner = []string{}
				}
				if diff := cmp.Diff(tt.wantDetails, inner); diff != "" {
					t.Errorf("entry_details keys (-want +got):\n%s", diff)
				}
			}
			d := json.NewDecoder(bytes.NewReader(req.Body))
			d.UseNumber()
			var body struct {
				WebhookID    string         `json:"webhook_id"`
				EntryEvent   string         `json:"entry_event"`
				FormName     string         `json:"form_name"`
				EntryID      string         `json:"entry_id"`
				EntryDetails map[string]any `json:"entry_details"`
			}
			if err := d.Decode(&body); err != nil {
				t.Fatal(err)
			}
			if body.WebhookID != "WBH000000000101" || body.EntryEvent != string(tt.event.Kind) || body.FormName != "Ticket" || body.EntryID != "8176" {
				t.Errorf("envelope = %+v", body)
			}
			for k, want := range tt.want {
				if got, ok := body.EntryDetails[k]; !ok || !cmp.Equal(got, want) {
					t.Errorf("entry_details[%q] = %#v, want %#v", k, got, want)
				}
			}
		})
	}
}

// TestRenderMultipart checks the attachment bodies with mime/multipart.
func TestRenderMultipart(t *testing.T) {
	cfg := testConfig(t)
	ev := seedEvent(rules.KindCreate)
	data := []byte("\x00\x01binary\r\n--not-a-boundary\xff")
	ev.After["Attachment1"] = &rules.Attachment{Name: "Zürich \"report\".pdf", ContentType: "application/pdf", Data: data}
	req, err := Render(cfg, jsonCallout("Status", "Attachment1"), ev)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := decodeMultipart(req.Header["Content-Type"], req.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 {
		t.Fatalf("got %d parts, want 2", len(parts))
	}
	if p := parts[0]; p.Name != "entry" || p.FileName != "" || p.ContentType != "application/json; charset=UTF-8" {
		t.Errorf("first part = %+v", p)
	}
	var entry map[string]any
	if err := json.Unmarshal(parts[0].Data, &entry); err != nil {
		t.Fatal(err)
	}
	if got := entry["entry_details"].(map[string]any)["Attachment1"]; got != "Zürich \"report\".pdf" {
		t.Errorf("attachment value in JSON = %v, want its file name", got)
	}
	p := parts[1]
	if p.Name != "attach-Attachment1" || p.FileName != "Zürich \"report\".pdf" || p.ContentType != "application/pdf" || !bytes.Equal(p.Data, data) {
		t.Errorf("attachment part = %+v", p)
	}

	// A NULL attachment field sends plain JSON.
	ev.After["Attachment1"] = nil
	req, err = Render(cfg, jsonCallout("Status", "Attachment1"), ev)
	if err != nil {
		t.Fatal(err)
	}
	if ct := req.Header["Content-Type"]; ct != "application/json" {
		t.Errorf("Content-Type with a NULL attachment = %q", ct)
	}
}

func TestRenderNameValueGetURL(t *testing.T) {
	cfg := testConfig(t)
	tests := []struct{ url, want string }{
		{"http://h/p", "http://h/p?id=8176&number="},
		{"http://h/p?", "http://h/p?id=8176&number="},
		{"http://h/p?a=1&", "http://h/p?a=1&id=8176&number="},
		{"http://h/p?a=%2F&b#frag", "http://h/p?a=%2F&b&id=8176&number="},
	}
	for _, tt := range tests {
		c := &rules.Callout{Name: "nv", URL: tt.url, Method: "get", Format: rules.FormatNameValue}
		ev := &rules.Event{Kind: rules.KindCreate, Form: "Other", EntryID: "8176"}
		req, err := Render(cfg, c, ev)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(req.URL, tt.want) {
			t.Errorf("URL %q: got %q, want prefix %q", tt.url, req.URL, tt.want)
		}
		if req.Method != "GET" {
			t.Errorf("method %q", req.Method)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	cfg := testConfig(t)
	ev := seedEvent(rules.KindCreate)
	mod := func(base *rules.Callout, f func(*rules.Callout)) *rules.Callout { f(base); return base }
	tests := []struct {
		name    string
		callout *rules.Callout
		event   *rules.Event
		wantErr string
	}{
		{"no callout", nil, ev, "render: no callout"},
		{"no event", soapCallout(), nil, `callout "VSA close alert": render: no event`},
		{"GET soap", mod(soapCallout(), func(c *rules.Callout) { c.Method = "GET" }), ev, `callout "VSA close alert": method GET sends only format name-value; format soap needs POST`},
		{"PUT", mod(soapCallout(), func(c *rules.Callout) { c.Method = "PUT" }), ev, `callout "VSA close alert": unsupported method "PUT" (want GET or POST)`},
		{"credentials in URL", mod(soapCallout(), func(c *rules.Callout) { c.URL = "https://svc:hunter2@rmm.example.com/x" }), ev,
			`callout "VSA close alert": the URL must not contain credentials; use username and password instead`},
		{"ftp", mod(soapCallout(), func(c *rules.Callout) { c.URL = "ftp://rmm.example.com/x" }), ev, `callout "VSA close alert": unsupported URL scheme "ftp" (want http or https)`},
		{"no URL", mod(soapCallout(), func(c *rules.Callout) { c.URL = " " }), ev, `callout "VSA close alert": url must not be empty`},
		{"no host", mod(soapCallout(), func(c *rules.Callout) { c.URL = "http:///x" }), ev, `callout "VSA close alert": the URL has no host (want an absolute http or https URL)`},
		{"bad URL", mod(soapCallout(), func(c *rules.Callout) { c.URL = "http://a b/" }), ev, `callout "VSA close alert": invalid URL (want an absolute http or https URL such as https://rmm.example.com/api)`},
		{"soap method with space", mod(soapCallout(), func(c *rules.Callout) { c.MethodName = "Close Ticket" }), ev,
			`callout "VSA close alert": soap method_name "Close Ticket" is not a valid XML element name`},
		{"soap method with prefix", mod(soapCallout(), func(c *rules.Callout) { c.MethodName = "m:Close" }), ev,
			`callout "VSA close alert": soap method_name "m:Close" is not a valid XML element name`},
		{"soap no action", mod(soapCallout(), func(c *rules.Callout) { c.SOAPAction = "" }), ev, `callout "VSA close alert": format soap needs soap_action`},
		{"soap action with quote", mod(soapCallout(), func(c *rules.Callout) { c.SOAPAction = `a"b` }), ev,
			`callout "VSA close alert": soap_action must not contain quotes, line breaks or NUL`},
		{"xmlrpc method", mod(xmlrpcCallout(), func(c *rules.Callout) { c.MethodName = "a<b" }), ev,
			`callout "RMM xmlrpc": xmlrpc method_name "a<b" may only use A-Z a-z 0-9 _ . : /`},
		{"xmlrpc no method", mod(xmlrpcCallout(), func(c *rules.Callout) { c.MethodName = "" }), ev,
			`callout "RMM xmlrpc": format xmlrpc needs method_name`},
		{"unknown format", mod(soapCallout(), func(c *rules.Callout) { c.Format = "csv" }), ev,
			`callout "VSA close alert": unknown format "csv" (want name-value, soap, xmlrpc or json)`},
		{"authorization header", mod(jsonCallout(), func(c *rules.Callout) { c.Headers = map[string]string{"authorization": "Bearer x"} }), ev,
			`callout "AR webhook": header "Authorization" may not be set: credentials are never stored with a request; set username and password`},
		{"host header", mod(jsonCallout(), func(c *rules.Callout) { c.Headers = map[string]string{"Host": "x"} }), ev,
			`callout "AR webhook": header "Host" may not be set: it is taken from the URL`},
		{"bad header name", mod(jsonCallout(), func(c *rules.Callout) { c.Headers = map[string]string{"Bad Header": "x"} }), ev,
			`callout "AR webhook": invalid header name "Bad Header"`},
		{"header injection", mod(jsonCallout(), func(c *rules.Callout) { c.Headers = map[string]string{"X-A": "1\r\nX-B: 2"} }), ev,
			`callout "AR webhook": header "X-A": value must not contain line breaks or NUL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := Render(cfg, tt.callout, tt.event)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("Render error = %v, want %q", err, tt.wantErr)
			}
			if req != nil {
				t.Fatal("Render returned a request with an error")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatal("error leaks the password")
			}
		})
	}
}

// TestRenderNoConfig renders with a nil configuration and an unknown form: the entry
// ID is the id and the other values are empty.
func TestRenderNoConfig(t *testing.T) {
	ev := &rules.Event{Kind: rules.KindCallback, Form: "close_ticket", EntryID: "42", After: rules.Record{"id": int64(42), "name": "x"}}
	req, err := Render(nil, nameValueCallout("POST"), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(req.Body), "id=42&number=&status=&created_datetime=&last_activity_datetime=&domain=&udf="; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
	req, err = Render(nil, jsonCallout(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(req.Body), `{"webhook_id":"WBH000000000101","entry_event":"callback","form_name":"close_ticket","entry_id":"42","entry_details":{"id":42,"name":"x"}}`; got != want {
		t.Errorf("body %s, want %s", got, want)
	}
}

func TestRenderTimeZone(t *testing.T) {
	cfg := testConfig(t)
	cfg.Location = nil // UTC
	req, err := Render(cfg, nameValueCallout("POST"), seedEvent(rules.KindCreate))
	if err != nil {
		t.Fatal(err)
	}
	kvs, err := decodeNameValue(string(req.Body))
	if err != nil {
		t.Fatal(err)
	}
	if got := kvs[3].Value; got != "2021-11-20T15:43:34.9030000+00:00" {
		t.Errorf("created_datetime in UTC = %q", got)
	}
	if _, err := time.Parse(time.RFC3339Nano, kvs[3].Value); err != nil {
		t.Errorf("DateTimeLayout output is not RFC 3339: %v", err)
	}
}

// BenchmarkRender renders each format the way the engine does, with the encoders
// compiled at configuration load; BenchmarkRenderLibrary with Render, which builds
// every SOAP and XML-RPC envelope with its library. Compare them as ratios to the
// json case of the same run.
func BenchmarkRender(b *testing.B) {
	benchmarkRender(b, func(cfg *rules.Config, cs []*rules.Callout) func(*rules.Callout, *rules.Event) (*Request, error) {
		return compileWith(b, cfg, cs...).Render
	})
}

func BenchmarkRenderLibrary(b *testing.B) {
	benchmarkRender(b, func(cfg *rules.Config, _ []*rules.Callout) func(*rules.Callout, *rules.Event) (*Request, error) {
		return func(c *rules.Callout, ev *rules.Event) (*Request, error) { return Render(cfg, c, ev) }
	})
}

func benchmarkRender(b *testing.B, renderer func(*rules.Config, []*rules.Callout) func(*rules.Callout, *rules.Event) (*Request, error)) {
	cfg := testConfig(b)
	ev := seedEvent(rules.KindUpdate)
	att := seedEvent(rules.KindCreate)
	att.After["Attachment1"] = &rules.Attachment{Name: "a.png", ContentType: "image/png", Data: bytes.Repeat([]byte{7}, 1024)}
	cases := []struct {
		name string
		c    *rules.Callout
		ev   *rules.Event
	}{
		{"name-value", nameValueCallout("POST"), ev},
		{"soap", soapCallout(), ev},
		{"xmlrpc", xmlrpcCallout(), ev},
		{"json", jsonCallout("Description", "Status", "Priority"), ev},
		{"multipart", jsonCallout("Description", "Attachment1"), att},
	}
	var cs []*rules.Callout
	for _, bc := range cases {
		cs = append(cs, bc.c)
	}
	render := renderer(cfg, cs)
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := render(bc.c, bc.ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// issue 14: SOAP, XML-RPC and JSON alternated in one loop, so that load from
	// other processes hits the three alike, with each one's ratio to JSON.
	b.Run("paired", func(b *testing.B) {
		formats := []int{1, 2, 3} // soap, xmlrpc, json in cases
		var took [3]time.Duration
		b.ReportAllocs()
		for b.Loop() {
			for i, k := range formats {
				t0 := time.Now()
				if _, err := render(cases[k].c, cases[k].ev); err != nil {
					b.Fatal(err)
				}
				took[i] += time.Since(t0)
			}
		}
		b.ReportMetric(float64(took[0])/float64(took[2]), "soap/json")
		b.ReportMetric(float64(took[1])/float64(took[2]), "xmlrpc/json")
	})
}

// TestRenderTextID: no integer is required anywhere (issue 11 §1). An id that is
// text — a mapped field holding "T-1", or the entry ID of an event whose source maps
// no id — is sent as text in name-value and SOAP and as a <string> in XML-RPC.
func TestRenderTextID(t *testing.T) {
	cfg := testConfig(t)
	badID := seedEvent(rules.KindCreate)
	badID.After["TicketID"] = "T-1"
	noForm := &rules.Event{Kind: rules.KindCallback, Form: "Other", EntryID: "call_0001"}
	tests := []struct {
		name    string
		callout *rules.Callout
		event   *rules.Event
		want    string
	}{
		{"name-value field", nameValueCallout("POST"), badID, "id=T-1&"},
		{"name-value entry id", nameValueCallout("POST"), noForm, "id=call_0001&"},
		{"soap field", soapCallout(), badID, "<id>T-1</id>"},
		{"soap entry id", soapCallout(), noForm, "<id>call_0001</id>"},
		{"xmlrpc field", xmlrpcCallout(), badID, "<name>id</name><value><string>T-1</string></value>"},
		{"xmlrpc entry id", xmlrpcCallout(), noForm, "<name>id</name><value><string>call_0001</string></value>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := Render(cfg, tt.callout, tt.event)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if !strings.Contains(string(req.Body), tt.want) {
				t.Errorf("body does not hold %q:\n%s", tt.want, req.Body)
			}
		})
	}
}
