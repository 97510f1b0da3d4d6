package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSecretHeaders(t *testing.T) {
	c := mustParse(t, base+`  - name: C2
    url: "http://127.0.0.1:9/y"
    format: json
    headers:
      X-Tenant: acme
      X-Api-Key: {value: "${RMM_PASSWORD}", secret: true}
      X-Trace: {value: "1"}
      X-Plain: {value: p, secret: false}
webhooks:
  - webhook_id: W1
    form_name: Ticket
    entry_events: [create]
    callback:
      url: http://127.0.0.1:9/w
      headers: {X-Hook-Token: {value: t0k, secret: true}, X-A: b}
`)
	c2, _ := c.Callout("C2")
	want := Headers{"X-Tenant": "acme", "X-Api-Key": "s3cret", "X-Trace": "1", "X-Plain": "p"}
	if diff := cmp.Diff(want, c2.Headers); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"X-Api-Key"}, c2.SecretHeaders); diff != "" {
		t.Errorf("secret headers (-want +got):\n%s", diff)
	}
	if c1, _ := c.Callout("C1"); c1.SecretHeaders != nil {
		t.Errorf("C1 secret headers = %v, want none", c1.SecretHeaders)
	}
	w := c.Webhooks[0]
	if diff := cmp.Diff([]string{"X-Hook-Token"}, w.Callback.SecretHeaders); diff != "" {
		t.Errorf("webhook secret headers (-want +got):\n%s", diff)
	}
	wc := webhookRule(w, nil).Targets[0]
	if diff := cmp.Diff([]string{"X-Hook-Token"}, wc.SecretHeaders); diff != "" {
		t.Errorf("webhook callout secret headers (-want +got):\n%s", diff)
	}
}

func TestSecretHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"unknown key", base + "  - {name: C2, url: \"http://h/\", format: json, headers: {X-A: {value: v, secrte: true}}}\n",
			[]string{`11:74: unknown key "secrte" in header "X-A" (want value and secret); did you mean "secret"?`}},
		{"missing value", base + "  - {name: C2, url: \"http://h/\", format: json, headers: {X-A: {secret: true}}}\n",
			[]string{`11:63: header "X-A" is missing the required key "value"`}},
		{"secret not a bool", base + "  - {name: C2, url: \"http://h/\", format: json, headers: {X-A: {value: v, secret: yes please}}}\n",
			[]string{`11:82: expected true or false, got the string "yes please"`}},
		{"value a list", base + "  - {name: C2, url: \"http://h/\", format: json, headers: {X-A: {value: [a], secret: true}}}\n",
			[]string{`11:71: expected a string, got a list`}},
		{"plain value a list", base + "  - {name: C2, url: \"http://h/\", format: json, headers: {X-A: [a]}}\n",
			[]string{`11:63: expected a string, got a list`}},
		{"headers a list", base + "  - {name: C2, url: \"http://h/\", format: json, headers: [a]}\n",
			[]string{`11:57: expected a mapping of header names to values, got a list`}},
		{"line break in a secret value", base + "  - {name: C2, url: \"http://h/\", format: json, headers: {X-A: {value: \"a\\nb\", secret: true}}}\n",
			[]string{`11:71: header "X-A": value must not contain line breaks or NUL`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseTest(t, tt.src)
			if diff := cmp.Diff(tt.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
