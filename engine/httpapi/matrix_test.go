package httpapi

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// matrixHit is one request the loopback receiver of the matrix got.
type matrixHit struct {
	method, query, contentType string
	body                       []byte
}

// matrixReceiver records requests by path.
type matrixReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits map[string][]matrixHit
}

func newMatrixReceiver(t *testing.T) *matrixReceiver {
	rc := &matrixReceiver{hits: map[string][]matrixHit{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.hits[r.URL.Path] = append(rc.hits[r.URL.Path], matrixHit{r.Method, r.URL.RawQuery, r.Header.Get("Content-Type"), b})
		rc.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// wait returns the n-th request (1-based) to path.
func (rc *matrixReceiver) wait(t *testing.T, path string, n int) matrixHit {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		rc.mu.Lock()
		hs := rc.hits[path]
		rc.mu.Unlock()
		if len(hs) >= n {
			return hs[n-1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no request %d to %s within 15s", n, path)
	return matrixHit{}
}

// The wire formats of the matrix: a callout per format and source.
var matrixFormats = []struct{ name, yaml string }{
	{"nv-get", "format: name-value, method: GET"},
	{"nv-post", "format: name-value"},
	{"soap", "format: soap, method_name: CloseTicket, soap_action: \"http://tempuri.org/CloseTicket\""},
	{"xmlrpc", "format: xmlrpc, method_name: close.ticket"},
	{"json", "format: json"},
	{"multipart", "format: json, payload_fields: [Doc]"},
}

// matrixConfig declares a Ticket form, a callback function with callout_fields, one
// without, a target with callout_fields, and one rule per source (and ticket event
// kind) firing a callout of every format to /<source>/<format> on the receiver.
func matrixConfig(t *testing.T, base string) string {
	var b strings.Builder
	b.WriteString(`version: 1
timezone: UTC
domain: DEV3.COM
egress: {allow: [127.0.0.0/8]}
forms:
  Ticket:
    fields:
      TicketID: {id: 1, type: integer}
      TicketNumber: {id: 2, type: character}
      Status: {id: 7, type: selection, options: [New, Complete]}
      Doc: {id: 9, type: attachment}
    callout_fields: {id: TicketID, number: TicketNumber, status: Status}
callback_functions:
  - api_name: close_ticket
    published: true
    parameters: {id: int, name: string}
    callout_fields: {id: id, number: name}
  - api_name: ping
    published: true
    parameters: {name: string}
target_urls:
  - name: jira
    callout_fields: {id: data.issue.id, number: data.issue.key, status: headers.X-Status}
callouts:
`)
	sources := []struct{ name, form, kind string }{
		{"create", "Ticket", "create"}, {"update", "Ticket", "update"}, {"delete", "Ticket", "delete"},
		{"callback", "close_ticket", "callback"}, {"ping", "ping", "callback"}, {"external", "jira", "external"},
	}
	var rules strings.Builder
	rules.WriteString("rules:\n")
	for _, s := range sources {
		var names []string
		for _, f := range matrixFormats {
			if f.name == "multipart" && s.form != "Ticket" {
				continue // inbound arguments and payloads hold no attachments
			}
			name := s.name + "-" + f.name
			names = append(names, name)
			spec := f.yaml
			if f.name == "json" && s.form == "Ticket" {
				spec += ", payload_fields: [TicketNumber, Status]" // no attachment: plain JSON
			}
			fmt.Fprintf(&b, "  - {name: %s, url: \"%s/%s/%s\", %s}\n", name, base, s.name, f.name, spec)
		}
		fmt.Fprintf(&rules, "  - {name: R %s, form: %s, events: [%s], callouts: [%s]}\n", s.name, s.form, s.kind, strings.Join(names, ", "))
	}
	b.WriteString(rules.String())
	path := filepath.Join(t.TempDir(), "matrix.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// stdData is what the receiver read from an Autotask-format request.
type stdData struct{ id, number, status string }

func parseNameValue(t *testing.T, raw string) stdData {
	t.Helper()
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("url.ParseQuery(%q): %v", raw, err)
	}
	if q.Get("domain") != "DEV3.COM" {
		t.Errorf("domain %q", q.Get("domain"))
	}
	return stdData{q.Get("id"), q.Get("number"), q.Get("status")}
}

func parseSOAP(t *testing.T, body []byte) stdData {
	t.Helper()
	var env struct {
		XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
		Body    struct {
			Call struct {
				XMLName xml.Name
				ID      string `xml:"id"`
				Number  string `xml:"number"`
				Status  string `xml:"status"`
			} `xml:",any"`
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
	}
	if err := xml.Unmarshal(body, &env); err != nil {
		t.Fatalf("SOAP: %v\n%s", err, body)
	}
	if c := env.Body.Call.XMLName; c.Local != "CloseTicket" || c.Space != "http://tempuri.org/" {
		t.Errorf("SOAP method element %v", c)
	}
	return stdData{env.Body.Call.ID, env.Body.Call.Number, env.Body.Call.Status}
}

// parseXMLRPC returns the struct members and the XML-RPC type of the id.
func parseXMLRPC(t *testing.T, body []byte) (stdData, string) {
	t.Helper()
	type value struct {
		Int    *string `xml:"int"`
		I4     *string `xml:"i4"`
		String *string `xml:"string"`
	}
	var call struct {
		MethodName string `xml:"methodName"`
		Members    []struct {
			Name  string `xml:"name"`
			Value value  `xml:"value"`
		} `xml:"params>param>value>struct>member"`
	}
	if err := xml.Unmarshal(body, &call); err != nil {
		t.Fatalf("XML-RPC: %v\n%s", err, body)
	}
	if call.MethodName != "close.ticket" {
		t.Errorf("methodName %q", call.MethodName)
	}
	var d stdData
	idType := ""
	for _, m := range call.Members {
		text, typ := "", ""
		switch v := m.Value; {
		case v.Int != nil:
			text, typ = *v.Int, "int"
		case v.I4 != nil:
			text, typ = *v.I4, "int"
		case v.String != nil:
			text, typ = *v.String, "string"
		}
		switch m.Name {
		case "id":
			d.id, idType = text, typ
		case "number":
			d.number = text
		case "status":
			d.status = text
		}
	}
	return d, idType
}

// arJSON is the AR webhook JSON body.
type arJSON struct {
	WebhookID    string         `json:"webhook_id"`
	EntryEvent   string         `json:"entry_event"`
	FormName     string         `json:"form_name"`
	EntryID      string         `json:"entry_id"`
	EntryDetails map[string]any `json:"entry_details"`
}

func parseJSON(t *testing.T, body []byte) arJSON {
	t.Helper()
	var j arJSON
	if err := json.Unmarshal(body, &j); err != nil {
		t.Fatalf("JSON: %v\n%s", err, body)
	}
	return j
}

// parseMultipart returns the entry JSON and the attachment parts (name → filename, bytes).
func parseMultipart(t *testing.T, h matrixHit) (arJSON, map[string][2]string) {
	t.Helper()
	media, params, err := mime.ParseMediaType(h.contentType)
	if err != nil || media != "multipart/form-data" {
		t.Fatalf("Content-Type %q, want multipart/form-data", h.contentType)
	}
	mr := multipart.NewReader(bytes.NewReader(h.body), params["boundary"])
	var entry arJSON
	files := map[string][2]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		data, _ := io.ReadAll(p)
		if p.FormName() == "entry" {
			entry = parseJSON(t, data)
			continue
		}
		files[p.FormName()] = [2]string{p.FileName(), string(data)}
	}
	return entry, files
}

// TestInboundEveryFormat is the matrix of issue 11 §1: every source — ticket
// create/update/delete through POST /v1/events, a callback function (with and
// without callout_fields), an external event, and an AR webhook registered through
// the API — fires every wire format through the real engine, outbox and
// dispatcher to a loopback receiver, which parses what it got.
func TestInboundEveryFormat(t *testing.T) {
	rc := newMatrixReceiver(t)
	ts := newTestServer(t, serverConfig{configFile: matrixConfig(t, rc.srv.URL), dispatch: true})
	callbackPath, callbackToken := bootURL(t, ts, "callback function", "close_ticket")
	pingPath, pingToken := bootURL(t, ts, "callback function", "ping")
	r := ts.admin("POST", "/v1/targets", map[string]any{"name": "jira"})
	var target targetJSON
	decode(t, r, &target)
	if r.status != 201 {
		t.Fatalf("create target: %d %s", r.status, r.body)
	}

	ticket := map[string]any{"TicketID": 8176, "TicketNumber": "T20211120.0001", "Status": "Complete",
		"Doc": map[string]any{"name": "log.txt", "content_type": "text/plain", "data_base64": "aGVsbG8="}}
	post := func(t *testing.T, path string, body any, headers ...string) {
		t.Helper()
		r := ts.do("POST", path, body, headers...)
		if r.status != 200 && r.status != 202 {
			t.Fatalf("POST %s: %d %s", path, r.status, r.body)
		}
	}
	type want struct {
		id, number, status string
		xmlrpcID           string // int or string
		entryID            string // "" when not checked (generated IDs)
	}
	sources := []struct {
		name string
		fire func(t *testing.T)
		want want
	}{
		{"create", func(t *testing.T) {
			post(t, "/v1/events", map[string]any{"event": "create", "form": "Ticket", "entry_id": "000000000008176", "after": ticket}, "Authorization", "Bearer "+adminToken)
		}, want{"8176", "T20211120.0001", "Complete", "int", "000000000008176"}},
		{"update", func(t *testing.T) {
			before := map[string]any{"TicketID": 8176, "TicketNumber": "T20211120.0001", "Status": "New"}
			post(t, "/v1/events", map[string]any{"event": "update", "form": "Ticket", "entry_id": "000000000008176", "before": before, "after": ticket}, "Authorization", "Bearer "+adminToken)
		}, want{"8176", "T20211120.0001", "Complete", "int", "000000000008176"}},
		{"delete", func(t *testing.T) {
			post(t, "/v1/events", map[string]any{"event": "delete", "form": "Ticket", "entry_id": "000000000008176", "before": ticket}, "Authorization", "Bearer "+adminToken)
		}, want{"8176", "T20211120.0001", "Complete", "int", "000000000008176"}},
		{"callback", func(t *testing.T) {
			post(t, callbackPath, `{"arguments":{"id":123,"name":"tom"}}`, "X-Auth-Token", callbackToken)
		}, want{"123", "tom", "", "int", ""}},
		{"ping", func(t *testing.T) {
			post(t, pingPath, `{"arguments":{"name":"tom"}}`, "X-Auth-Token", pingToken)
		}, want{"call_", "", "", "string", ""}},
		{"external", func(t *testing.T) {
			post(t, target.URL, `{"issue":{"id":"ISS-7","key":"OPS-1"}}`, "X-Status", "open")
		}, want{"ISS-7", "OPS-1", "open", "string", ""}},
	}
	for _, src := range sources {
		src.fire(t)
		for _, f := range matrixFormats {
			if f.name == "multipart" && (src.name == "callback" || src.name == "ping" || src.name == "external") {
				continue
			}
			t.Run(src.name+"/"+f.name, func(t *testing.T) {
				h := rc.wait(t, "/"+src.name+"/"+f.name, 1)
				checkID := func(got stdData) {
					t.Helper()
					if !strings.HasPrefix(got.id, src.want.id) || (src.want.id != "call_" && got.id != src.want.id) || got.number != src.want.number || got.status != src.want.status {
						t.Errorf("got id=%q number=%q status=%q, want id=%q number=%q status=%q", got.id, got.number, got.status, src.want.id, src.want.number, src.want.status)
					}
				}
				switch f.name {
				case "nv-get":
					if h.method != "GET" {
						t.Errorf("method %s", h.method)
					}
					checkID(parseNameValue(t, h.query))
				case "nv-post":
					if h.method != "POST" || h.contentType != "application/x-www-form-urlencoded" {
						t.Errorf("%s %s", h.method, h.contentType)
					}
					checkID(parseNameValue(t, string(h.body)))
				case "soap":
					checkID(parseSOAP(t, h.body))
				case "xmlrpc":
					got, typ := parseXMLRPC(t, h.body)
					checkID(got)
					if typ != src.want.xmlrpcID {
						t.Errorf("XML-RPC id is <%s>, want <%s>", typ, src.want.xmlrpcID)
					}
				case "json", "multipart":
					var j arJSON
					var files map[string][2]string
					if f.name == "multipart" && src.name != "delete" {
						j, files = parseMultipart(t, h)
						if got := files["attach-Doc"]; got != [2]string{"log.txt", "hello"} {
							t.Errorf("attachment part %q, want log.txt with hello", got)
						}
					} else {
						if !strings.HasPrefix(h.contentType, "application/json") {
							t.Errorf("Content-Type %q", h.contentType)
						}
						j = parseJSON(t, h.body)
					}
					if src.want.entryID != "" && j.EntryID != src.want.entryID || j.EntryID == "" {
						t.Errorf("entry_id %q, want %q", j.EntryID, src.want.entryID)
					}
					switch {
					case src.name == "delete":
						if j.EntryDetails != nil {
							t.Errorf("delete carries entry_details %v", j.EntryDetails)
						}
					case f.name == "multipart":
						if j.EntryDetails["Doc"] != "log.txt" {
							t.Errorf("entry_details %v", j.EntryDetails)
						}
					case src.name == "callback":
						if j.EntryDetails["id"] != float64(123) || j.EntryDetails["name"] != "tom" {
							t.Errorf("entry_details %v", j.EntryDetails)
						}
					case src.name == "ping":
						if j.EntryDetails["name"] != "tom" || !strings.HasPrefix(j.EntryID, "call_") {
							t.Errorf("entry_id %q, entry_details %v", j.EntryID, j.EntryDetails)
						}
					case src.name == "external":
						if j.EntryDetails["data.issue.id"] != "ISS-7" {
							t.Errorf("entry_details %v", j.EntryDetails)
						}
					case src.name == "update": // only the payload fields that changed
						if len(j.EntryDetails) != 1 || j.EntryDetails["Status"] != "Complete" {
							t.Errorf("entry_details %v, want only the changed Status", j.EntryDetails)
						}
					default:
						if j.EntryDetails["TicketNumber"] != "T20211120.0001" {
							t.Errorf("entry_details %v", j.EntryDetails)
						}
					}
				}
			})
		}
	}

	// An AR webhook registered through the API: JSON, and multipart when an
	// attachment is among its payload fields.
	for _, wh := range []struct{ name, fields string }{{"json", `["TicketNumber","Status"]`}, {"multipart", `["TicketNumber","Doc"]`}} {
		body := `{"description":"m","form_name":"Ticket","entry_events":["create"],"payload_fields":` + wh.fields +
			`,"callback":{"url":"` + rc.srv.URL + `/webhook/` + wh.name + `"}}`
		if r := ts.admin("POST", webhookPath, body); r.status != 201 {
			t.Fatalf("register webhook: %d %s", r.status, r.body)
		}
	}
	post(t, "/v1/events", map[string]any{"event": "create", "form": "Ticket", "entry_id": "000000000009000", "after": ticket}, "Authorization", "Bearer "+adminToken)
	t.Run("webhook/json", func(t *testing.T) {
		j := parseJSON(t, rc.wait(t, "/webhook/json", 1).body)
		if !strings.HasPrefix(j.WebhookID, "WBH") || j.EntryEvent != "create" || j.EntryID != "000000000009000" ||
			j.EntryDetails["TicketNumber"] != "T20211120.0001" || j.EntryDetails["Status"] != float64(1) {
			t.Errorf("got %+v (AR sends a selection as its number: Status 1)", j)
		}
	})
	t.Run("webhook/multipart", func(t *testing.T) {
		j, files := parseMultipart(t, rc.wait(t, "/webhook/multipart", 1))
		if j.EntryID != "000000000009000" || files["attach-Doc"] != [2]string{"log.txt", "hello"} {
			t.Errorf("got %+v %v", j, files)
		}
	})
}
