package rules

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzLoad feeds arbitrary bytes to the loader: it must never panic, every error
// must be a positioned ErrorList entry, and what it accepts must load again to the
// same configuration, with every rule's form and callouts resolved into it. Seeds: testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"../testdata/demo/ruleflow.yaml", "testdata/invalid.yaml"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(base))
	f.Add([]byte(matchConfig))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parse("f.yaml", data, testEnv)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %T %v", err, err)
			}
			for _, e := range list {
				if e.Msg == "" || e.Pos.File != "f.yaml" || e.Pos.Line < 1 || e.Pos.Column < 1 {
					t.Fatalf("badly positioned error %#v", e)
				}
			}
			_ = err.Error()
			return
		}
		// What is accepted round-trips: the same bytes load again to the same
		// configuration (check and serve read a file the same way), and every
		// reference the loader resolved points into the configuration it built.
		again, err := parse("f.yaml", data, testEnv)
		if err != nil {
			t.Fatalf("accepted once, refused the second time: %v", err)
		}
		if c.Summary() != again.Summary() {
			t.Fatalf("summary changed between two loads: %q, then %q", c.Summary(), again.Summary())
		}
		if got, want := ruleNames(again), ruleNames(c); !slices.Equal(got, want) {
			t.Fatalf("rules changed between two loads: %q, then %q", want, got)
		}
		for _, r := range c.AllRules() {
			if _, ok := c.Form(r.Form); !ok && !inboundSource(c, r.Form) {
				t.Fatalf("rule %q names form %q, which the configuration does not declare", r.Name, r.Form)
			}
			for _, target := range r.Targets {
				if !slices.Contains(c.Callouts, target) && target.WebhookID == "" {
					t.Fatalf("rule %q fires callout %q, which is not one of the configuration's", r.Name, target.Name)
				}
			}
		}
		for _, r := range c.AllRules() {
			for _, k := range r.Events {
				ev := &Event{Kind: k, Form: r.Form, Time: time.Unix(0, 0), Before: Record{}, After: Record{}}
				_, _ = c.Match(ev)
			}
		}
	})
}

// ruleNames lists every rule of c (webhooks' included) with its form, in order.
func ruleNames(c *Config) []string {
	var out []string
	for _, r := range c.AllRules() {
		out = append(out, r.Form+"/"+r.Name)
	}
	return out
}

// inboundSource reports whether name is a callback function or a target URL of c:
// the "form" of the events those sources make.
func inboundSource(c *Config, name string) bool {
	for _, cb := range c.Callbacks {
		if cb.APIName == name {
			return true
		}
	}
	for _, tg := range c.Targets {
		if tg.Name == name {
			return true
		}
	}
	return false
}

// FuzzDecodeEvent feeds arbitrary bytes to the event decoder of the demo config.
func FuzzDecodeEvent(f *testing.F) {
	c, err := Load(demoConfig)
	if err != nil {
		f.Fatal(err)
	}
	if b, err := os.ReadFile("../testdata/demo/events.jsonl"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if line != "" {
				f.Add([]byte(line))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := c.DecodeEvent(data, nil)
		if err != nil {
			if ev != nil {
				t.Fatal("event and error both returned")
			}
			return
		}
		if !ev.Kind.Valid() || ev.Form == "" {
			t.Fatalf("decoded an invalid event: %+v", ev)
		}
		_, _ = c.Match(ev)
	})
}
