package httpapi

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestInternalErrorHidesText checks that a 500 answer carries no internal error text,
// only a request ID that the log record of the failure and the response header share.
func TestInternalErrorHidesText(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	if err := ts.eng.Store().Close(); err != nil { // every store call now fails
		t.Fatal(err)
	}
	idPattern := regexp.MustCompile(`^req_[0-9a-f]{24}$`)
	for _, tc := range []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{"GET", "/v1/deliveries", "", 500, internalErrorText},
		{"GET", "/v1/deliveries/dlv_x", "", 500, internalErrorText},
		{"GET", "/healthz", "", 503, "store unreachable"},
	} {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		r := ts.admin(tc.method, tc.path, body)
		var got errorBody
		if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.status != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.status, r.body, tc.status)
			continue
		}
		id := r.header.Get(RequestIDHeader)
		if got.Error != tc.msg || got.RequestID != id || !idPattern.MatchString(id) {
			t.Errorf("%s %s: body %s, header %s=%q; want {error: %q, request_id: the header's ID}", tc.method, tc.path, r.body, RequestIDHeader, id, tc.msg)
		}
		if !strings.Contains(ts.logs.String(), "request_id="+id+" error=") {
			t.Errorf("%s %s: no log record with request_id=%s and the error:\n%s", tc.method, tc.path, id, ts.logs.String())
		}
	}
	// Every answer has an ID, distinct per request.
	a, b := ts.do("GET", "/nope", nil), ts.do("GET", "/nope", nil)
	if a.header.Get(RequestIDHeader) == "" || a.header.Get(RequestIDHeader) == b.header.Get(RequestIDHeader) {
		t.Errorf("request IDs %q, %q: want two distinct IDs", a.header.Get(RequestIDHeader), b.header.Get(RequestIDHeader))
	}
}
