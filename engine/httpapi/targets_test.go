package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// activeTarget returns the ID of the active target with the given name.
func activeTarget(t *testing.T, ts *testServer, name string) string {
	t.Helper()
	list, err := ts.eng.Store().ListTargets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range list {
		if tg.Name == name && tg.RevokedAt.IsZero() {
			return tg.ID
		}
	}
	t.Fatalf("no active target %q", name)
	return ""
}

// bootURL returns the path of a URL Bootstrap printed for name.
func bootURL(t *testing.T, ts *testServer, kind, name string) (path, token string) {
	t.Helper()
	for _, line := range strings.Split(ts.boot, "\n") {
		if !strings.Contains(line, kind+` "`+name+`"`) {
			continue
		}
		i := strings.Index(line, ts.srv.URL)
		if i < 0 {
			t.Fatalf("bootstrap line without the base URL: %q", line)
		}
		rest := strings.Fields(line[i+len(ts.srv.URL):])
		path = rest[0]
		token = path[strings.LastIndex(path, "/")+1:]
		if kind == "callback function" {
			token = rest[len(rest)-1]
		}
		return path, token
	}
	t.Fatalf("bootstrap did not print %s %q:\n%s", kind, name, ts.boot)
	return "", ""
}

// newTarget revokes the bootstrapped jira target and creates one through the API.
func newTarget(t *testing.T, ts *testServer) targetJSON {
	t.Helper()
	if r := ts.admin("DELETE", "/v1/targets/"+activeTarget(t, ts, "jira"), nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	r := ts.admin("POST", "/v1/targets", `{"name":"jira","iparams":{"project":"OPS","team":"blue"}}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create target: %d %s", r.status, r.body)
	}
	var tg targetJSON
	decode(t, r, &tg)
	return tg
}

func TestTargetLifecycle(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	// Bootstrap created a URL for each configured target, printed once.
	for _, name := range []string{"jira", "quiet"} {
		path, token := bootURL(t, ts, "target", name)
		if len(token) != 43 || path != "/hooks/"+token {
			t.Errorf("target %s: bootstrap URL %q", name, path)
		}
	}
	old, _ := bootURL(t, ts, "target", "jira")
	tg := newTarget(t, ts)
	if !strings.HasPrefix(tg.ID, "tgt_") || !strings.HasPrefix(tg.URL, "/hooks/") || len(tg.URL) != len("/hooks/")+43 {
		t.Errorf("created target %+v", tg)
	}
	if r := ts.do("POST", old, `{}`); r.status != 404 || r.body != errorJSON("no such target URL") {
		t.Errorf("revoked bootstrap URL: %d %s, want 404", r.status, r.body)
	}
	if r := ts.do("POST", tg.URL, `{"issue":{"key":"OPS-1"}}`); r.status != 200 {
		t.Errorf("new URL: %d %s, want 200", r.status, r.body)
	}
	// The list shows both, the token of neither.
	r := ts.admin("GET", "/v1/targets", nil)
	if strings.Contains(r.body, "/hooks/") {
		t.Errorf("target list shows a URL: %s", r.body)
	}
	var list []targetJSON
	decode(t, r, &list)
	if len(list) != 3 {
		t.Errorf("list has %d targets, want 3 (2 bootstrapped, 1 created)", len(list))
	}
	if r := ts.admin("DELETE", "/v1/targets/"+tg.ID, nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := ts.do("POST", tg.URL, `{}`); r.status != 404 {
		t.Errorf("revoked URL: %d %s, want 404", r.status, r.body)
	}

	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"revoke twice", "DELETE", "/v1/targets/" + tg.ID, "", 404, "target " + tg.ID + " does not exist or is already revoked"},
		{"unknown name", "POST", "/v1/targets", `{"name":"github"}`, 400, `unknown target "github": not a target_urls name of the configuration`},
		{"no name", "POST", "/v1/targets", `{"iparams":{}}`, 400, `"name" is required: the name of a target_urls entry of the configuration`},
		{"unknown key", "POST", "/v1/targets", `{"name":"jira","url":"x"}`, 400, `invalid JSON: unknown field "url"`},
		{"iparams not an object", "POST", "/v1/targets", `{"name":"jira","iparams":[1]}`, 400, `invalid JSON: "iparams" must be an object, got array`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := ts.admin(tc.method, tc.path, body)
			if r.status != tc.status || r.body != errorJSON(tc.want) {
				t.Errorf("got %d %s\nwant %d %s", r.status, r.body, tc.status, errorJSON(tc.want))
			}
		})
	}
}

func TestHookBodies(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	tg := newTarget(t, ts)
	tests := []struct {
		name, contentType, body string
		headers                 []string
		want                    []string
	}{
		{"JSON", "application/json", `{"issue":{"key":"OPS-1","priority":2}}`, nil,
			[]string{"Jira issue key/Dashboard", "Jira priority number/Archive"}},
		{"JSON with charset", "application/json; charset=utf-8", `{"issue":{"key":"OPS-2"}}`, nil, []string{}},
		{"vendor JSON", "application/vnd.jira+json", `{"issue":{"key":"OPS-1"}}`, nil, []string{"Jira issue key/Dashboard"}},
		{"XML", "application/xml", `<?xml version="1.0"?><issue id="7"><key>OPS-1</key></issue>`, nil,
			[]string{"Jira issue key/Dashboard", "Jira XML attribute/Archive"}},
		{"text/xml", "text/xml", `<issue><key>OPS-1</key><priority>2</priority></issue>`, nil,
			[]string{"Jira issue key/Dashboard", "Jira priority number/Archive"}}, // XML text "2" = 2 in workflow NULL mode
		{"form", "application/x-www-form-urlencoded", `issue=OPS-1&x=1&x=2`, []string{"X-Jira-Event", "issue_created"},
			[]string{"Jira header/Archive"}},
		{"empty body", "application/json", ``, nil, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do("POST", tg.URL, tc.body, append([]string{"Content-Type", tc.contentType}, tc.headers...)...)
			if r.status != 200 {
				t.Fatalf("status %d %s, want 200", r.status, r.body)
			}
			var got hookReply
			decode(t, r, &got)
			if got.Status != "success" {
				t.Errorf("status %q, want success", got.Status)
			}
			if diff := cmp.Diff(tc.want, firedRules(t, got.Fired)); diff != "" {
				t.Errorf("fired (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHookRejected(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	tg := newTarget(t, ts)
	deep := strings.Repeat("<a>", MaxXMLDepth+1) + strings.Repeat("</a>", MaxXMLDepth+1)
	deepJSON := strings.Repeat(`{"a":`, MaxXMLDepth+1) + "1" + strings.Repeat("}", MaxXMLDepth+1)
	tests := []struct {
		name, path, contentType, body string
		status                        int
		want                          string
	}{
		{"unknown token", "/hooks/not-a-token", "application/json", `{}`, 404, "no such target URL"},
		{"too large", tg.URL, "application/json", `{"a":"` + strings.Repeat("x", MaxHookBody) + `"}`, 413, "request body exceeds 102400 bytes"},
		{"unsupported type", tg.URL, "text/plain", `hello`, 415, `unsupported Content-Type "text/plain" (want application/json, application/xml, text/xml or application/x-www-form-urlencoded)`},
		{"no type", tg.URL, "", `{}`, 415, `unsupported Content-Type: missing (want application/json, application/xml, text/xml or application/x-www-form-urlencoded)`},
		{"bad JSON", tg.URL, "application/json", `{"a":`, 400, "invalid JSON: unexpected end of input"},
		{"deep JSON", tg.URL, "application/json", deepJSON, 400, "JSON nested deeper than 64 levels"},
		{"bad XML", tg.URL, "application/xml", `<a><b></a>`, 400, "xml:1: element <b> closed by </a>"},
		{"deep XML", tg.URL, "application/xml", deep, 400, "xml:1: elements nested deeper than 64"},
		{"billion laughs", tg.URL, "application/xml", billionLaughs, 400, "xml:2: DOCTYPE is not allowed (no DTDs or entity declarations)"},
		{"external entity", tg.URL, "text/xml", `<a>&ext;</a>`, 400, "xml:1: invalid character entity &ext;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" {
				ct = "-" // no Content-Type at all
			}
			r := ts.do("POST", tc.path, tc.body, "Content-Type", ct)
			if r.status != tc.status || r.body != errorJSON(tc.want) {
				t.Errorf("got %d %s\nwant %d %s", r.status, r.body, tc.status, errorJSON(tc.want))
			}
		})
	}
	if n := len(ts.jobs()); n != 0 {
		t.Errorf("%d jobs enqueued by rejected hooks, want none", n)
	}
}

func TestHookRateLimit(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	path, _ := bootURL(t, ts, "target", "quiet") // no rules: nothing is enqueued
	for i := 1; i <= DefaultHookRate; i++ {
		if r := ts.do("POST", path, `{"n":`+strconv.Itoa(i)+`}`); r.status != 200 {
			t.Fatalf("call %d: %d %s, want 200", i, r.status, r.body)
		}
	}
	r := ts.do("POST", path, `{}`)
	if want := errorJSON(`rate limit of 250 calls per minute exceeded for target "quiet"`); r.status != 429 || r.body != want {
		t.Fatalf("call 251: %d %s, want 429 %s", r.status, r.body, want)
	}
	if got := r.header.Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After %q, want 60 (the first call leaves the window in a minute)", got)
	}
	// Another target has its own budget.
	tg := newTarget(t, ts)
	if r := ts.do("POST", tg.URL, `{}`); r.status != 200 {
		t.Errorf("other target: %d %s, want 200", r.status, r.body)
	}
	// A sliding window: never more than 250 in any minute, so 59 s later every call
	// is still refused, and a minute after the burst all 250 are free again.
	ts.clock.Advance(59 * time.Second)
	r = ts.do("POST", path, `{}`)
	if r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Errorf("after 59s: %d, Retry-After %q; want 429, 1", r.status, r.header.Get("Retry-After"))
	}
	ts.clock.Advance(time.Second)
	for i := 0; i < DefaultHookRate; i++ {
		if r := ts.do("POST", path, `{}`); r.status != 200 {
			t.Fatalf("after a minute, call %d: %d %s", i+1, r.status, r.body)
		}
	}
	if r := ts.do("POST", path, `{}`); r.status != 429 {
		t.Errorf("call 251 of the second minute: %d, want 429", r.status)
	}
}

// TestRateLimiterWindow: at most n calls in any window of one period, whatever the
// spacing; a refused call takes nothing.
func TestRateLimiterWindow(t *testing.T) {
	l := newRateLimiter(3, time.Minute)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	steps := []struct {
		at       time.Duration
		ok       bool
		wantWait time.Duration
	}{
		{0, true, 0},
		{10 * time.Second, true, 0},
		{20 * time.Second, true, 0},
		{30 * time.Second, false, 30 * time.Second}, // the call at 0 leaves at 60 s
		{59 * time.Second, false, time.Second},
		{60 * time.Second, true, 0},                 // the call at 0 left
		{61 * time.Second, false, 9 * time.Second},  // the one at 10 s leaves at 70 s
		{80 * time.Second, true, 0},                 // 10 s and 20 s left; 60 s stays
		{81 * time.Second, true, 0},                 //
		{82 * time.Second, false, 38 * time.Second}, // window: 60, 80, 81
	}
	for _, s := range steps {
		ok, wait := l.allow("t", at(s.at))
		if ok != s.ok || wait != s.wantWait {
			t.Errorf("call at %v: ok=%v wait=%v, want ok=%v wait=%v", s.at, ok, wait, s.ok, s.wantWait)
		}
	}
	if got := retryAfter(38 * time.Second); got != 38 {
		t.Errorf("retryAfter(38s) = %d", got)
	}
	// Windows idle for a whole period are swept.
	l.allow("other", at(10*time.Minute))
	if _, ok := l.windows["t"]; ok {
		t.Error("idle window not swept")
	}
}

// TestRateLimiterNeverExceeds drives calls at random moments over ten minutes and
// checks that no 60-second window holds more than n accepted calls.
func TestRateLimiterNeverExceeds(t *testing.T) {
	const n = 25
	l := newRateLimiter(n, time.Minute)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var accepted []time.Time
	now := t0
	for i := 0; i < 20000; i++ {
		now = now.Add(time.Duration(i*7919%61) * 50 * time.Millisecond / 10)
		if ok, _ := l.allow("t", now); ok {
			accepted = append(accepted, now)
		}
	}
	for i := range accepted {
		j := i
		for j < len(accepted) && accepted[j].Sub(accepted[i]) < time.Minute {
			j++
		}
		if j-i > n {
			t.Fatalf("%d calls accepted in the minute from %v", j-i, accepted[i].Sub(t0))
		}
	}
	if len(accepted) < n {
		t.Fatalf("only %d calls accepted", len(accepted))
	}
}

func TestExternalPayload(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	cfg := ts.eng.Config()
	target, _ := cfg.Target("jira")
	header := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer secret"}, "X-Auth-Token": {"t"}, "X-Trace": {"a", "b"}}
	data := map[string]any{"call": map[string]any{"id": float64(123456), "phone_number": "+1234567891", "tags": []any{"a", "b"}}, "ok": true}
	now := time.Unix(1583839686, 0)
	p := ExternalPayload(target, map[string]any{"team": "blue", "n": uint64(7), "r": float32(0.5)}, data, header, now)
	rec := FlattenPayload(p)
	want := map[string]any{
		"account_id": "12345", "domain": "jira.example.com", "event": "onExternalEvent", "region": "US", "timestamp": int64(1583839686),
		"data":                   `{"call":{"id":123456,"phone_number":"+1234567891","tags":["a","b"]},"ok":true}`,
		"data.call.id":           int64(123456),
		"data.call.phone_number": "+1234567891",
		"data.call.tags":         `["a","b"]`,
		"data.ok":                true,
		"headers":                `{"Content-Type":"application/json","X-Trace":"a"}`,
		"headers.Content-Type":   "application/json",
		"headers.X-Trace":        "a",
		"iparams":                `{"n":7,"project":"OPS","r":0.5,"team":"blue"}`,
		"iparams.n":              int64(7),
		"iparams.r":              0.5,
		"iparams.project":        "OPS",
		"iparams.team":           "blue",
	}
	if diff := cmp.Diff(want, map[string]any(rec)); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
}

// billionLaughs is the classic entity-expansion bomb.
const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol9;</lolz>`

// TestTargetInstallations: every POST /v1/targets is an installation with its own
// URL and iparams; installations of one target coexist and are revoked one by one.
func TestTargetInstallations(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	bootPath, _ := bootURL(t, ts, "target", "jira")
	var urls []string
	for _, team := range []string{"blue", "red"} {
		r := ts.admin("POST", "/v1/targets", `{"name":"jira","iparams":{"team":"`+team+`"}}`)
		if r.status != http.StatusCreated {
			t.Fatalf("install for %s: %d %s", team, r.status, r.body)
		}
		var tg targetJSON
		decode(t, r, &tg)
		if tg.IParams["team"] != team {
			t.Errorf("installation iparams = %v", tg.IParams)
		}
		urls = append(urls, tg.URL)
	}
	if urls[0] == urls[1] || urls[0] == bootPath {
		t.Fatalf("installations share a URL: %v, boot %s", urls, bootPath)
	}
	for _, u := range append(urls, bootPath) {
		if r := ts.do("POST", u, `{}`); r.status != 200 {
			t.Errorf("%s: %d %s, want 200", u, r.status, r.body)
		}
	}
	// The bootstrapped installation carries the configured iparams.
	r := ts.admin("GET", "/v1/targets", nil)
	var list []targetJSON
	decode(t, r, &list)
	found := false
	for _, tg := range list {
		if tg.Name == "jira" && tg.IParams["project"] == "OPS" && tg.IParams["team"] == nil {
			found = true
		}
	}
	if !found {
		t.Errorf("no jira installation with the configured iparams {project: OPS}: %s", r.body)
	}
	// Revoking one leaves the others working.
	var first string
	for _, tg := range list {
		if tg.Name == "jira" && tg.IParams["team"] == "blue" {
			first = tg.ID
		}
	}
	if r := ts.admin("DELETE", "/v1/targets/"+first, nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := ts.do("POST", urls[0], `{}`); r.status != 404 {
		t.Errorf("revoked installation: %d, want 404", r.status)
	}
	if r := ts.do("POST", urls[1], `{}`); r.status != 200 {
		t.Errorf("other installation after revoke: %d, want 200", r.status)
	}
}
