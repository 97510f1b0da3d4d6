package httpapi

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const escalateJSON = `{"api_name":"escalate","description":"Raise the level","parameters":{"level":"int","who":"string"},
  "callout_fields":{"id":"level"},"condition":"'level' >= 2","callouts":["Archive"],"published":true}`

// call invokes a callback function with a JSON body and the token in the header.
func (ts *testServer) call(name, token, args string) response {
	ts.t.Helper()
	return ts.do("POST", "/callbacks/"+name, `{"arguments":`+args+`}`, "Content-Type", "application/json", "X-Auth-Token", token)
}

// TestCallbackFunctionLifecycle: a function created through the API answers at
// once with the token shown on create, fires its own callout, is listed beside the
// file's with its source and a masked token, follows an update, is published and
// unpublished in bulk, and is gone after DELETE. The token never appears in a
// listing or a log line.
func TestCallbackFunctionLifecycle(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	r := ts.admin("POST", "/v1/callback-functions", escalateJSON, "Content-Type", "application/json")
	var created callbackFunctionJSON
	decode(t, r, &created)
	if r.status != 201 || r.header.Get("Location") != "/v1/callback-functions/escalate" || created.Source != "api" ||
		!created.Published || len(created.AuthToken) != 43 || created.URL != "/callbacks/escalate" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	token := created.AuthToken

	fired := func(r response) []string {
		t.Helper()
		if r.status != 200 {
			t.Fatalf("call: %d %s", r.status, r.body)
		}
		var rep callbackReply
		decode(t, r, &rep)
		return firedRules(t, rep.Fired)
	}
	if diff := cmp.Diff([]string{"callback function escalate/Archive"}, fired(ts.call("escalate", token, `{"level":3,"who":"tom"}`))); diff != "" {
		t.Errorf("fired (-want +got):\n%s", diff)
	}
	if got := fired(ts.call("escalate", token, `{"level":1,"who":"tom"}`)); len(got) != 0 {
		t.Errorf("level 1 fired %v", got)
	}

	// The list: the file's functions, then the API's.
	r = ts.admin("GET", "/v1/callback-functions", nil)
	var list []callbackFunctionJSON
	decode(t, r, &list)
	type row struct {
		Name, Source, Token string
		Published           bool
	}
	var rows []row
	for _, f := range list {
		rows = append(rows, row{f.APIName, f.Source, f.AuthToken, f.Published})
	}
	want := []row{{"close_ticket", "file", "********", true}, {"typed", "file", "", false}, {"escalate", "api", "********", true}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	r = ts.admin("GET", "/v1/callback-functions/escalate", nil)
	var one callbackFunctionJSON
	decode(t, r, &one)
	if r.status != 200 || one.Condition != "'level' >= 2" || one.CalloutFields == nil || one.CalloutFields.ID != "level" ||
		one.AuthToken != "********" || one.CreatedAt == nil || one.Description != "Raise the level" {
		t.Errorf("get: %d %s", r.status, r.body)
	}

	// An update keeps the token; the new condition is in force at once.
	upd := strings.Replace(strings.Replace(escalateJSON, `'level' >= 2`, `'level' >= 5`, 1), `"api_name":"escalate",`, ``, 1)
	if r := ts.admin("PUT", "/v1/callback-functions/escalate", upd, "Content-Type", "application/json"); r.status != 204 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	if got := fired(ts.call("escalate", token, `{"level":3,"who":"tom"}`)); len(got) != 0 {
		t.Errorf("level 3 after the update fired %v", got)
	}
	if got := fired(ts.call("escalate", token, `{"level":5,"who":"tom"}`)); len(got) != 1 {
		t.Errorf("level 5 after the update fired %v", got)
	}

	// Bulk unpublish, file and API functions alike.
	r = ts.admin("POST", "/v1/callback-functions/unpublish", `{"api_names":["escalate","close_ticket"]}`)
	if r.status != 200 || r.body != `[{"api_name":"escalate","published":false},{"api_name":"close_ticket","published":false}]`+"\n" {
		t.Fatalf("bulk unpublish: %d %s", r.status, r.body)
	}
	if r := ts.call("escalate", token, `{"level":5,"who":"tom"}`); r.status != 404 || r.body != errorJSON(`callback function "escalate" is not published`) {
		t.Errorf("unpublished call: %d %s", r.status, r.body)
	}
	// Bulk publish: fresh tokens, shown once.
	r = ts.admin("POST", "/v1/callback-functions/publish", `{"api_names":["escalate","typed"]}`)
	var pubs []publishJSON
	decode(t, r, &pubs)
	if r.status != 200 || len(pubs) != 2 || pubs[0].APIName != "escalate" || pubs[1].APIName != "typed" || pubs[0].AuthToken == token || len(pubs[1].AuthToken) != 43 {
		t.Fatalf("bulk publish: %d %s", r.status, r.body)
	}
	if r := ts.call("escalate", token, `{"level":5,"who":"tom"}`); r.status != 401 {
		t.Errorf("old token after publish: %d %s", r.status, r.body)
	}
	if got := fired(ts.call("escalate", pubs[0].AuthToken, `{"level":5,"who":"tom"}`)); len(got) != 1 {
		t.Errorf("new token fired %v", got)
	}
	// The single-function publish works on API functions too.
	if r := ts.admin("POST", "/v1/callback-functions/escalate/unpublish", nil); r.status != 200 {
		t.Errorf("unpublish one: %d %s", r.status, r.body)
	}

	if r := ts.admin("DELETE", "/v1/callback-functions/escalate", nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := ts.call("escalate", pubs[0].AuthToken, `{"level":5,"who":"tom"}`); r.status != 404 || r.body != errorJSON(`callback function "escalate" does not exist`) {
		t.Errorf("deleted call: %d %s", r.status, r.body)
	}
	if r := ts.admin("GET", "/v1/callback-functions/escalate", nil); r.status != 404 || r.body != errorJSON(`callback function "escalate" does not exist`) {
		t.Errorf("get deleted: %d %s", r.status, r.body)
	}
	for _, secret := range []string{token, pubs[0].AuthToken, pubs[1].AuthToken} {
		if strings.Contains(ts.logs.String(), secret) {
			t.Errorf("a token is in the logs:\n%s", ts.logs.String())
		}
	}
	if strings.Contains(r.body, token) {
		t.Error("token in a listing")
	}
}

// TestCallbackFunctionRejectedWrites: every bad write answers its whole error and
// changes nothing in the store (functions, tokens, registry revision).
func TestCallbackFunctionRejectedWrites(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	ctx := context.Background()
	if r := ts.admin("POST", "/v1/callback-functions", `{"api_name":"kept","parameters":{"n":"int"}}`); r.status != 201 || strings.Contains(r.body, "auth_token") {
		t.Fatalf("create kept: %d %s", r.status, r.body)
	}
	st := ts.eng.Store()
	rev, _ := st.Revision(ctx)
	tokens, _ := st.ListCallbackTokens(ctx)
	huge := `{"api_name":"big","description":"` + strings.Repeat("x", MaxAdminBody) + `"}`
	tests := []struct {
		name, method, path, body string
		admin                    bool
		status                   int
		want                     string
	}{
		{"no admin token", "POST", "/v1/callback-functions", `{"api_name":"x"}`, false, 401, "missing Authorization header (want Bearer <token> or AR-JWT <token>)"},
		{"invalid JSON", "POST", "/v1/callback-functions", `{"api_name":`, true, 400, "invalid JSON: unexpected end of input"},
		{"unknown key", "POST", "/v1/callback-functions", `{"api_name":"x","script":"y"}`, true, 400, `invalid JSON: unknown field "script"`},
		{"wrong type", "POST", "/v1/callback-functions", `{"api_name":"x","callouts":"Archive"}`, true, 400, `invalid JSON: "callouts" must be an array, got string`},
		{"trailing data", "POST", "/v1/callback-functions", `{"api_name":"x"} {}`, true, 400, "invalid JSON: unexpected data after the callback function object"},
		{"huge body", "POST", "/v1/callback-functions", huge, true, 413, "request body exceeds 262144 bytes"},
		{"NUL in api_name", "POST", "/v1/callback-functions", `{"api_name":"a\u0000b"}`, true, 400, `invalid api_name "a\x00b" (want letters, digits and underscores, not starting with a digit)`},
		{"NUL in description", "POST", "/v1/callback-functions", `{"api_name":"x","description":"a\u0000"}`, true, 400, "description must not contain a NUL byte"},
		{"invalid name", "POST", "/v1/callback-functions", `{"api_name":"close-ticket"}`, true, 400, `invalid api_name "close-ticket" (want letters, digits and underscores, not starting with a digit)`},
		{"reserved name", "POST", "/v1/callback-functions", `{"api_name":"publish"}`, true, 400, `api_name "publish" is reserved (POST /v1/callback-functions/publish is the bulk operation)`},
		{"duplicate of the file", "POST", "/v1/callback-functions", `{"api_name":"close_ticket","published":true}`, true, 409, `duplicate: callback function "close_ticket" is defined in the configuration file`},
		{"duplicate of the API", "POST", "/v1/callback-functions", `{"api_name":"kept","published":true}`, true, 409, `duplicate: callback function "kept" exists`},
		{"too many parameters", "POST", "/v1/callback-functions", `{"api_name":"x","parameters":{"a":"int","b":"int","c":"int","d":"int","e":"int","f":"int","g":"int","h":"int","i":"int","j":"int","k":"int"}}`, true, 400,
			`callback function "x" has 11 parameters; at most 10 are allowed`},
		{"bad condition", "POST", "/v1/callback-functions", `{"api_name":"x","parameters":{"n":"int"},"condition":"'n' >> 1","callouts":["Archive"],"published":true}`, true, 400,
			"condition:1:6: missing operand before \">\"\n 1 | 'n' >> 1\n   |      ^"},
		{"unknown callout", "POST", "/v1/callback-functions", `{"api_name":"x","callouts":["Archiv"],"published":true}`, true, 400, `unknown callout "Archiv"; did you mean "Archive"?`},
		{"PUT of the file's", "PUT", "/v1/callback-functions/close_ticket", `{"parameters":{"id":"int"}}`, true, 409, `callback function "close_ticket": defined in the configuration file; change it there`},
		{"DELETE of the file's", "DELETE", "/v1/callback-functions/close_ticket", ``, true, 409, `callback function "close_ticket": defined in the configuration file; change it there`},
		{"PUT unknown", "PUT", "/v1/callback-functions/nope", `{}`, true, 404, `callback function "nope" does not exist`},
		{"DELETE unknown", "DELETE", "/v1/callback-functions/nope", ``, true, 404, `callback function "nope" does not exist`},
		{"PUT other name", "PUT", "/v1/callback-functions/kept", `{"api_name":"other"}`, true, 400, `api_name "other" in the body does not match "kept" in the URL`},
		{"PUT publishes", "PUT", "/v1/callback-functions/kept", `{"parameters":{"n":"int"},"published":true}`, true, 400,
			"published: true is not the function's state; change it with POST /v1/callback-functions/kept/publish or /unpublish"},
		{"PUT invalid", "PUT", "/v1/callback-functions/kept", `{"parameters":{"n":"long"}}`, true, 400, `unknown parameter type "long" for "n" (want string, int, float, bool, date or map)`},
		{"bulk empty", "POST", "/v1/callback-functions/publish", `{"api_names":[]}`, true, 400, "api_names must name at least one callback function"},
		{"bulk no body", "POST", "/v1/callback-functions/publish", ``, true, 400, "invalid JSON: empty body"},
		{"bulk twice", "POST", "/v1/callback-functions/publish", `{"api_names":["kept","kept"]}`, true, 400, `api_names[1]: "kept" is listed twice`},
		{"bulk unknown", "POST", "/v1/callback-functions/publish", `{"api_names":["kept","typed","nope"]}`, true, 404, `api_names[2]: callback function "nope" does not exist`},
		{"bulk unpublish unknown", "POST", "/v1/callback-functions/unpublish", `{"api_names":["close_ticket","a\u0000"]}`, true, 404, `api_names[1]: callback function "a\x00" does not exist`},
		{"bulk unknown key", "POST", "/v1/callback-functions/unpublish", `{"names":["kept"]}`, true, 400, `invalid JSON: unknown field "names"`},
		{"POST on a function", "POST", "/v1/callback-functions/kept", `{}`, true, 405, "method POST not allowed on /v1/callback-functions/kept (allowed: DELETE, GET, HEAD, PUT)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			headers := []string{"Content-Type", "application/json"}
			if tc.admin {
				headers = append(headers, "Authorization", "Bearer "+adminToken)
			}
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := ts.do(tc.method, tc.path, body, headers...)
			if r.status != tc.status || r.body != errorJSON(tc.want) {
				t.Errorf("got %d %s\nwant %d %s", r.status, r.body, tc.status, errorJSON(tc.want))
			}
		})
	}
	if got, _ := st.Revision(ctx); got != rev {
		t.Errorf("revision %d after rejected writes, want %d", got, rev)
	}
	fns, _ := st.ListCallbackFunctions(ctx)
	if len(fns) != 1 || fns[0].APIName != "kept" || string(fns[0].Document) != `{"parameters":{"n":"int"},"callout_fields":{}}` {
		t.Errorf("stored functions %+v", fns)
	}
	if after, _ := st.ListCallbackTokens(ctx); !cmp.Equal(tokens, after) {
		t.Errorf("tokens changed:\n%s", cmp.Diff(tokens, after))
	}
}

// TestCallbackFunctionTwoNodesPostgres: a function created through one node's API
// is listed by and answers on a second node of the same PostgreSQL store, with the
// token the first node showed; a bulk unpublish on the second stops it on both.
func TestCallbackFunctionTwoNodesPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	a := newTestServer(t, serverConfig{dsn: dsn})
	b := newTestServer(t, serverConfig{dsn: dsn})
	r := a.admin("POST", "/v1/callback-functions", escalateJSON)
	var created callbackFunctionJSON
	decode(t, r, &created)
	if r.status != 201 {
		t.Fatalf("create on a: %d %s", r.status, r.body)
	}
	// b reads the registry revision every 2 s (engine watch).
	deadline := time.Now().Add(10 * time.Second)
	for r = b.call("escalate", created.AuthToken, `{"level":3,"who":"tom"}`); r.status == 404 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		r = b.call("escalate", created.AuthToken, `{"level":3,"who":"tom"}`)
	}
	if r.status != 200 || !strings.Contains(r.body, `"rule":"callback function escalate"`) {
		t.Fatalf("call on b: %d %s", r.status, r.body)
	}
	r = b.admin("GET", "/v1/callback-functions/escalate", nil)
	if r.status != 200 || !strings.Contains(r.body, `"source":"api"`) {
		t.Errorf("get on b: %d %s", r.status, r.body)
	}
	if r := b.admin("POST", "/v1/callback-functions/unpublish", `{"api_names":["escalate"]}`); r.status != 200 {
		t.Fatalf("unpublish on b: %d %s", r.status, r.body)
	}
	if r := a.call("escalate", created.AuthToken, `{"level":3,"who":"tom"}`); r.status != 404 {
		t.Errorf("call on a after unpublish: %d %s", r.status, r.body)
	}
	if r := b.admin("DELETE", "/v1/callback-functions/escalate", nil); r.status != 204 {
		t.Fatalf("delete on b: %d %s", r.status, r.body)
	}
	if r := a.admin("GET", "/v1/callback-functions/escalate", nil); r.status != 404 {
		t.Errorf("get on a after delete: %d %s", r.status, r.body)
	}
}
