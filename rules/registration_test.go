package rules

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// targetBase is a configuration whose lines 4 on are a target URL's.
const targetBase = "version: 1\ntarget_urls:\n  - name: jira\n"

func TestTargetCallErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"unknown key", "    register: {url: 'https://x.test/h', bodyy: x}\n", []string{
			`4:41: unknown key "bodyy" in a target call; did you mean "body"?`,
		}},
		{"missing url", "    register: {body: x}\n", []string{
			`4:15: a target call is missing the required key "url"`,
		}},
		{"empty url", "    register: {url: ''}\n", []string{
			`4:21: target URL "jira": register: url must not be empty`,
		}},
		{"bad method", "    register: {url: 'https://x.test/h', method: TRACE}\n", []string{
			`4:49: target URL "jira": register: unsupported method "TRACE" (want GET, POST, PUT, PATCH, DELETE)`,
		}},
		{"GET with a body", "    deregister: {url: 'https://x.test/h', method: get, body: x}\n", []string{
			`4:62: target URL "jira": deregister: method GET sends no body`,
		}},
		{"template parse error in body", "    register:\n      url: https://x.test/h\n      body: |\n        {\"url\": {{json .TargetURL}},\n         \"x\": {{.Iparams.x | nope}}}\n", []string{
			`8:10: target URL "jira": register body: function "nope" not defined`,
		}},
		{"unknown field in body", "    register:\n      url: https://x.test/h\n      body: '{\"url\": \"{{.TargetUrl}}\"}'\n", []string{
			`6:25: target URL "jira": register body: executing "body" at <.TargetUrl>: can't evaluate field TargetUrl in type rules.RegisterData`,
		}},
		{"registration id in register", "    register: {url: 'https://x.test/h/{{.RegistrationID}}'}\n", []string{
			`4:41: target URL "jira": register url: executing "url" at <.RegistrationID>: can't evaluate field RegistrationID in type rules.RegisterData (RegistrationID is known to deregister only)`,
		}},
		{"url renders to no URL", "    deregister: {url: '{{.RegistrationID}}'}\n", []string{
			`4:23: target URL "jira": deregister url: unsupported URL scheme "" (want http or https)`,
		}},
		{"id_path on deregister", "    deregister: {url: 'https://x.test/h', id_path: id}\n", []string{
			`4:52: target URL "jira": id_path is only used by register (deregister is offered the registered ID as {{.RegistrationID}})`,
		}},
		{"empty id_path segment", "    register: {url: 'https://x.test/h', id_path: data..id}\n", []string{
			`4:50: target URL "jira": register id_path "data..id" has an empty segment (want dotted keys such as data.webhook.id)`,
		}},
		{"forbidden header and password without user", "    register: {url: 'https://x.test/h', headers: {Authorization: x}, password: p}\n", []string{
			`4:51: target URL "jira": register: header "Authorization" may not be set: credentials are never stored with a request; set username and password`,
			`4:80: target URL "jira": register: password is set but username is empty`,
		}},
		{"secret header with a bad key", "    register: {url: 'https://x.test/h', headers: {X-Key: {value: k, secrett: true}}}\n", []string{
			`4:69: unknown key "secrett" in header "X-Key" (want value and secret); did you mean "secret"?`,
		}},
		{"retry and timeout", "    register: {url: 'https://x.test/h', timeout: 0s, retry: {interval: 10ms, max: -1}}\n", []string{
			`4:50: target URL "jira": register: timeout must be positive`,
			`4:72: retry interval 10ms is too short (minimum 1s)`,
			`4:83: retry max -1 is out of range (want 0 to 1000 more attempts)`,
		}},
		{"public_url with a path", "    public_url: https://rf.example.com/base\n", []string{
			`4:17: target URL "jira": public_url must be a scheme and host only (the path /hooks/<token> is added)`,
		}},
		{"public_url not a URL", "    public_url: rf.example.com\n", []string{
			`4:17: target URL "jira": public_url: unsupported URL scheme "" (want http or https)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseTest(t, targetBase+tt.src)
			if diff := cmp.Diff(tt.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTargetCallRender(t *testing.T) {
	cfg := mustParse(t, targetBase+`    iparams: {project: OPS}
    public_url: https://rf.example.com
    register:
      url: https://jira.test/rest/webhooks
      headers: {X-Api-Key: {value: k1, secret: true}}
      username: svc
      body: '{"url": {{json .TargetURL}}, "project": {{json .Iparams.project}}, "install": "{{.InstallationID}}"}'
      id_path: data.webhook.id
      retry: {interval: 5s, max: 2}
    deregister:
      method: delete
      url: 'https://jira.test/rest/webhooks/{{pathescape .RegistrationID}}'
`)
	tg, _ := cfg.Target("jira")
	reg := tg.Register
	if reg.Method != "POST" || reg.Timeout.Std() != DefaultTimeout || *reg.Retry.Max != 2 || !cmp.Equal(reg.SecretHeaders, []string{"X-Api-Key"}) {
		t.Fatalf("register defaults: %+v", reg)
	}
	got, err := reg.Render(RegisterData{TargetURL: "https://rf.example.com/hooks/T", InstallationID: "tgt_1", Target: "jira", Iparams: map[string]any{"project": "OPS"}})
	if err != nil {
		t.Fatal(err)
	}
	want := RenderedCall{Method: "POST", URL: "https://jira.test/rest/webhooks",
		Header: map[string]string{"X-Api-Key": "k1", "Content-Type": "application/json"},
		Body:   []byte(`{"url": "https://rf.example.com/hooks/T", "project": "OPS", "install": "tgt_1"}`)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("register (-want +got):\n%s", diff)
	}
	got, err = tg.Deregister.Render(DeregisterData{RegistrationID: "a/b 1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != "DELETE" || got.URL != "https://jira.test/rest/webhooks/a%2Fb%201" || len(got.Body) != 0 || len(got.Header) != 0 {
		t.Errorf("deregister = %+v", got)
	}
}

func TestRegistrationIDAt(t *testing.T) {
	tests := []struct {
		body, path, want, err string
	}{
		{`{"id": "wh_1"}`, "id", "wh_1", ""},
		{`{"id": 12345678901234567890}`, "id", "12345678901234567890", ""},
		{`{"data": {"webhook": {"id": 7}}}`, "data.webhook.id", "7", ""},
		{`{"hooks": [{"id": "a"}, {"id": "b"}]}`, "hooks.1.id", "b", ""},
		{`{"hooks": [{"id": "a"}]}`, "hooks.1.id", "", "the response has no hooks.1"},
		{`{"data": {}}`, "data.webhook.id", "", "the response has no data.webhook"},
		{`{"id": null}`, "id", "", "the response's id is null"},
		{`{"id": ""}`, "id", "", "the response's id is empty"},
		{`{"id": {"x": 1}}`, "id", "", "the response's id is not a string or a number"},
		{`<ok/>`, "id", "", "the response is not JSON"},
	}
	for _, tt := range tests {
		got, err := RegistrationIDAt([]byte(tt.body), tt.path)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
			t.Errorf("RegistrationIDAt(%s, %s) = %q, %v; want %q, %s", tt.body, tt.path, got, err, tt.want, tt.err)
		}
	}
	if _, err := RegistrationIDAt([]byte(strings.Repeat("[", 20000)), "id"); err == nil {
		t.Error("deeply nested garbage accepted")
	}
}

// FuzzRegistrationIDAt: any answer and path give an ID or an error, never a panic,
// and an ID is never empty. Seeds: testdata/fuzz/FuzzRegistrationIDAt.
func FuzzRegistrationIDAt(f *testing.F) {
	f.Add([]byte(`{"data":{"webhook":{"id":42}}}`), "data.webhook.id")
	f.Add([]byte(`[{"id":"a"}]`), "0.id")
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		id, err := RegistrationIDAt(body, path)
		if err == nil && id == "" {
			t.Fatalf("empty ID without an error for %q at %q", body, path)
		}
	})
}

func TestTargetCallJSONMasksSecrets(t *testing.T) {
	cfg := mustParse(t, targetBase+"    register: {url: 'https://x.test/h', headers: {X-Key: {value: k-123, secret: true}, X-Team: blue}, username: u, password: pw-456}\n")
	tg, _ := cfg.Target("jira")
	b, err := json.Marshal(tg)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if strings.Contains(got, "k-123") || strings.Contains(got, "pw-456") || !strings.Contains(got, `"X-Team":"blue"`) || !strings.Contains(got, `"X-Key":"********"`) {
		t.Errorf("JSON of a target with secrets: %s", got)
	}
}
