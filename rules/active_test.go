package rules

import (
	"strings"
	"testing"
	"time"
)

const activeYAML = `version: 1
forms:
  Ticket:
    fields:
      Status: {id: 7, type: selection, options: [New, Complete]}
callouts:
  - {name: A, url: "http://127.0.0.1:9/a", format: json}
  - {name: B, url: "http://127.0.0.1:9/b", format: json, active: false}
rules:
  - {name: fires, form: Ticket, events: [update], callouts: [A, B]}
  - {name: off, form: Ticket, events: [update], active: false, callouts: [A]}
`

// TestWithActive: overrides change which rules match and which callouts fire,
// without touching the original configuration.
func TestWithActive(t *testing.T) {
	cfg := mustParse(t, activeYAML)
	ev := &Event{Kind: KindUpdate, Form: "Ticket", EntryID: "1", Time: time.Unix(0, 0), After: Record{"Status": "New"}}
	describe := func(c *Config) string {
		ms, err := c.Match(ev)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			s := m.Rule.Name + ":"
			for _, f := range m.Fire {
				s += f.Name
			}
			for _, sk := range m.Skipped {
				s += "-" + sk.Callout.Name
			}
			out = append(out, s)
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		name            string
		callouts, rules map[string]bool
		want            string
	}{
		{"none", nil, nil, "fires:A-B"},
		{"callout off", map[string]bool{"A": false}, nil, "fires:-A-B"},
		{"callout on", map[string]bool{"B": true}, nil, "fires:AB"},
		{"rule on", nil, map[string]bool{"off": true}, "fires:A-B off:A"},
		{"rule off", nil, map[string]bool{"fires": false}, ""},
		{"both", map[string]bool{"A": false, "B": true}, map[string]bool{"off": true}, "fires:B-A off:-A"},
		{"unknown names", map[string]bool{"Z": false}, map[string]bool{"nope": true}, "fires:A-B"},
	} {
		got := cfg.WithActive(tc.callouts, tc.rules)
		if d := describe(got); d != tc.want {
			t.Errorf("%s: matches %q, want %q", tc.name, d, tc.want)
		}
	}
	if c, _ := cfg.WithActive(map[string]bool{"A": false}, nil).Callout("A"); c.IsActive() {
		t.Errorf("Callout(A) of the overridden configuration is still active")
	}
	if d := describe(cfg); d != "fires:A-B" {
		t.Errorf("the original configuration changed: %q", d)
	}
	if cfg.WithActive(map[string]bool{"A": true}, map[string]bool{"fires": true}) != cfg {
		t.Errorf("overrides equal to the file's values should return the configuration itself")
	}
}
