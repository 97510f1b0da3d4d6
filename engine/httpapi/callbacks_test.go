package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ruleflow/ruleflow/rules"
)

func TestCallbackFunctions(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	path, token := bootURL(t, ts, "callback function", "close_ticket")
	if path != "/callbacks/close_ticket" || len(token) != 43 {
		t.Fatalf("bootstrap printed %q %q", path, token)
	}
	if strings.Contains(ts.boot, `"typed"`) {
		t.Errorf("bootstrap published the unpublished function typed:\n%s", ts.boot)
	}

	// The list shows both functions and their state.
	r := ts.admin("GET", "/v1/callback-functions", nil)
	var list []callbackFunctionJSON
	decode(t, r, &list)
	got := map[string]bool{}
	for _, f := range list {
		got[f.APIName] = f.Published
	}
	if diff := cmp.Diff(map[string]bool{"close_ticket": true, "typed": false}, got); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}

	invoke := func(token, body, contentType string, query bool) response {
		t.Helper()
		p := path
		headers := []string{"Content-Type", contentType}
		if query {
			p += "?auth_token=" + url.QueryEscape(token)
		} else if token != "" {
			headers = append(headers, "X-Auth-Token", token)
		}
		return ts.do("POST", p, body, headers...)
	}
	ok := func(r response) {
		t.Helper()
		if r.status != 200 {
			t.Fatalf("invoke: %d %s, want 200", r.status, r.body)
		}
		var rep callbackReply
		decode(t, r, &rep)
		if rep.Status != "success" || len(rep.Fired) != 1 || rep.Fired[0].Rule != "Close ticket callback" {
			t.Errorf("reply %+v, want success firing Close ticket callback", rep)
		}
	}
	// The seed's form field, in the query and in the header; a JSON body.
	ok(invoke(token, "arguments="+url.QueryEscape(`{"name":"tom","id":123}`), "application/x-www-form-urlencoded", true))
	ok(invoke(token, "arguments="+url.QueryEscape(`{"name":"tom","id":"123"}`), "application/x-www-form-urlencoded", false))
	ok(invoke(token, `{"arguments":{"name":"tom","id":123}}`, "application/json", false))
	ok(invoke(token, `{"arguments":"{\"name\":\"tom\",\"id\":123}"}`, "application/json", true))

	// The condition 'id' > 0 sees the converted integer.
	r = invoke(token, `{"arguments":{"name":"tom","id":0}}`, "application/json", false)
	if r.status != 200 || !strings.Contains(r.body, `"fired":[]`) {
		t.Errorf("id 0: %d %s, want success firing nothing", r.status, r.body)
	}

	// Publishing again issues a new token and invalidates the old one.
	r = ts.admin("POST", "/v1/callback-functions/close_ticket/publish", nil)
	var pub publishJSON
	decode(t, r, &pub)
	if r.status != 200 || pub.APIName != "close_ticket" || pub.URL != "/callbacks/close_ticket" || len(pub.AuthToken) != 43 || pub.AuthToken == token {
		t.Fatalf("publish: %d %+v", r.status, pub)
	}
	if r := invoke(token, `{"arguments":{"name":"tom","id":1}}`, "application/json", false); r.status != 401 || r.body != errorJSON("invalid auth token") {
		t.Errorf("old token: %d %s, want 401", r.status, r.body)
	}
	ok(invoke(pub.AuthToken, `{"arguments":{"name":"tom","id":1}}`, "application/json", false))

	// Unpublished: 404, whatever the token.
	if r := ts.admin("POST", "/v1/callback-functions/close_ticket/unpublish", nil); r.status != 200 || r.body != `{"api_name":"close_ticket","published":false}`+"\n" {
		t.Fatalf("unpublish: %d %s", r.status, r.body)
	}
	if r := invoke(pub.AuthToken, `{"arguments":{"name":"tom","id":1}}`, "application/json", false); r.status != 404 || r.body != errorJSON(`callback function "close_ticket" is not published`) {
		t.Errorf("unpublished: %d %s, want 404", r.status, r.body)
	}
	// The typed function, published through the API.
	r = ts.admin("POST", "/v1/callback-functions/typed/publish", nil)
	decode(t, r, &pub)
	r = ts.do("POST", "/callbacks/typed", `{"arguments":{"s":"x","i":1,"f":1.5,"b":true,"d":"2026-11-22","m":{"k":"v"}}}`, "X-Auth-Token", pub.AuthToken)
	if r.status != 200 {
		t.Errorf("typed: %d %s, want 200", r.status, r.body)
	}
}

func TestCallbackRejected(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	_, token := bootURL(t, ts, "callback function", "close_ticket")
	tests := []struct {
		name, path, body, contentType, token string
		status                               int
		want                                 string
	}{
		{"unknown function", "/callbacks/nope", `{}`, "application/json", token, 404, `callback function "nope" does not exist`},
		{"never published", "/callbacks/typed", `{}`, "application/json", token, 404, `callback function "typed" is not published`},
		{"no token", "/callbacks/close_ticket", `{}`, "application/json", "", 401, "missing auth token (auth_token query parameter or X-Auth-Token header)"},
		{"bad token", "/callbacks/close_ticket", `{}`, "application/json", otherToken(token), 401, "invalid auth token"},
		{"missing argument", "/callbacks/close_ticket", `{"arguments":{"name":"tom"}}`, "application/json", token, 400, `missing argument "id" (int)`},
		{"extra argument", "/callbacks/close_ticket", `{"arguments":{"name":"tom","id":1,"x":2}}`, "application/json", token, 400, `unknown argument "x"`},
		{"mistyped argument", "/callbacks/close_ticket", `{"arguments":{"name":"tom","id":"abc"}}`, "application/json", token, 400, `argument "id": want an integer, got string "abc"`},
		{"no arguments", "/callbacks/close_ticket", ``, "application/json", token, 400, `missing argument "id" (int); missing argument "name" (string)`},
		{"unknown body key", "/callbacks/close_ticket", `{"args":{}}`, "application/json", token, 400, `unknown key "args" (want arguments)`},
		{"unknown form field", "/callbacks/close_ticket", `args=1`, "application/x-www-form-urlencoded", token, 400, `unknown form field "args" (want arguments)`},
		{"arguments not JSON", "/callbacks/close_ticket", `arguments=tom`, "application/x-www-form-urlencoded", token, 400, `invalid arguments: JSON syntax error at offset 2: invalid character 'o' in literal true (expecting 'r')`},
		{"unsupported type", "/callbacks/close_ticket", `x`, "text/plain", token, 400, `unsupported Content-Type "text/plain" (want application/json or application/x-www-form-urlencoded)`},
		{"too large", "/callbacks/close_ticket", `{"arguments":{"name":"` + strings.Repeat("x", MaxHookBody) + `"}}`, "application/json", token, 413, "request body exceeds 102400 bytes"},
		{"publish unknown", "/v1/callback-functions/nope/publish", ``, "application/json", "admin", 404, `callback function "nope" does not exist`},
		{"publish without admin token", "/v1/callback-functions/typed/publish", ``, "application/json", "", 401, "missing Authorization header (want Bearer <token> or AR-JWT <token>)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			headers := []string{"Content-Type", tc.contentType}
			switch tc.token {
			case "":
			case "admin":
				headers = append(headers, "Authorization", "Bearer "+adminToken)
			default:
				headers = append(headers, "X-Auth-Token", tc.token)
			}
			r := ts.do("POST", tc.path, tc.body, headers...)
			if r.status != tc.status || r.body != errorJSON(tc.want) {
				t.Errorf("got %d %s\nwant %d %s", r.status, r.body, tc.status, errorJSON(tc.want))
			}
		})
	}
	if n := len(ts.jobs()); n != 0 {
		t.Errorf("%d jobs enqueued by rejected calls, want none", n)
	}
}

func TestDecodeArguments(t *testing.T) {
	params := map[string]string{"s": "string", "i": "int", "f": "float", "b": "bool", "d": "date", "m": "map"}
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	full := `{"s":"x","i":1,"f":1.5,"b":true,"d":"2026-11-22","m":{"k":[1,2]}}`
	tests := []struct {
		name   string
		params map[string]string
		in     string
		want   rules.Record
	}{
		{"all types", params, full, rules.Record{"s": "x", "i": int64(1), "f": 1.5, "b": true, "d": day, "m": `{"k":[1,2]}`}},
		{"strings for scalars", params, `{"s":"x","i":" 42 ","f":"2","b":"FALSE","d":"2026-11-22T10:00:00Z","m":{}}`,
			rules.Record{"s": "x", "i": int64(42), "f": 2.0, "b": false, "d": day.Add(10 * time.Hour), "m": `{}`}},
		{"epoch date", map[string]string{"d": "date"}, `{"d":1583839686}`, rules.Record{"d": time.Unix(1583839686, 0).UTC()}},
		{"no parameters, no arguments", nil, ``, rules.Record{}},
		{"no parameters, null", nil, `null`, rules.Record{}},
		{"no parameters, empty object", nil, `{}`, rules.Record{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rules.DecodeArguments(tc.params, []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeArgumentsErrors(t *testing.T) {
	params := map[string]string{"s": "string", "i": "int", "f": "float", "b": "bool", "d": "date", "m": "map"}
	valid := map[string]string{"s": `"x"`, "i": `1`, "f": `1.5`, "b": `true`, "d": `"2026-11-22"`, "m": `{}`}
	with := func(k, v string) string {
		parts := []string{}
		for _, name := range []string{"b", "d", "f", "i", "m", "s"} {
			val := valid[name]
			if name == k {
				val = v
			}
			parts = append(parts, `"`+name+`":`+val)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	many := `{"a0":0,"a1":1,"a2":2,"a3":3,"a4":4,"a5":5,"a6":6,"a7":7,"a8":8,"a9":9,"a10":10}`
	tests := []struct {
		name, in, wantErr string
	}{
		{"string", with("s", `1`), `argument "s": want a string, got number 1`},
		{"int", with("i", `1.5`), `argument "i": want an integer, got number 1.5`},
		{"int overflow", with("i", `99999999999999999999`), `argument "i": want an integer, got number 99999999999999999999`},
		{"float", with("f", `"x"`), `argument "f": want a number, got string "x"`},
		{"float NaN text", with("f", `"NaN"`), `argument "f": want a number, got string "NaN"`},
		{"bool", with("b", `1`), `argument "b": want true or false, got number 1`},
		{"date", with("d", `"tomorrow"`), `argument "d": want a date (RFC 3339, 2006-01-02 or epoch seconds), got string "tomorrow"`},
		{"map", with("m", `[1]`), `argument "m": want an object, got an array`},
		{"null", with("s", `null`), `argument "s": want a string, got null`},
		{"every problem, sorted", `{"s":1}`, `missing argument "b" (bool); missing argument "d" (date); missing argument "f" (float); missing argument "i" (int); missing argument "m" (map); argument "s": want a string, got number 1`},
		{"not an object", `[1]`, `invalid arguments: want an object such as {"name":"tom","id":123}, got array`},
		{"syntax", `{"s":`, `invalid arguments: unexpected end of JSON`},
		{"trailing data", `{} {}`, `invalid arguments: unexpected data after the object`},
		{"too many", many, `too many arguments: 11 (at most 10)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rules.DecodeArguments(params, []byte(tc.in))
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("error %v\nwant  %s", err, tc.wantErr)
			}
		})
	}
}

func FuzzDecodeArguments(f *testing.F) {
	f.Add(`{"name":"tom","id":123}`)
	f.Add(`{"s":"x","i":"1","f":1e308,"b":"true","d":1583839686,"m":{"a":{"b":[]}}}`)
	f.Add(`null`)
	f.Add(`{"id":-9223372036854775808}`)
	params := map[string]string{"name": "string", "id": "int", "s": "string", "i": "int", "f": "float", "b": "bool", "d": "date", "m": "map"}
	f.Fuzz(func(t *testing.T, in string) {
		rec, err := rules.DecodeArguments(params, []byte(in))
		if err != nil {
			if rec != nil {
				t.Fatalf("error %v with a record", err)
			}
			return
		}
		if len(rec) != len(params) {
			t.Fatalf("record %v: want every parameter", rec)
		}
		for k, v := range rec {
			switch v.(type) {
			case string, int64, float64, bool, time.Time:
			default:
				t.Fatalf("argument %s: value %T", k, v)
			}
		}
	})
}

// TestCallbackRoute checks the 405 of the callback route and that a GET is not an
// invocation.
func TestCallbackRoute(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	r := ts.do("GET", "/callbacks/close_ticket", nil)
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow %q", r.status, r.header.Get("Allow"))
	}
}

// otherToken returns token with its first character changed: prefixing a fixed
// letter would give the token itself back whenever it starts with that letter.
func otherToken(token string) string {
	if token[0] == 'x' {
		return "y" + token[1:]
	}
	return "x" + token[1:]
}
