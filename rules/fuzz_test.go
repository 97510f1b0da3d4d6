package rules

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// FuzzLoad feeds arbitrary bytes to the loader: it must never panic, and every error
// must be a positioned ErrorList entry. Seeds: testdata/fuzz/FuzzLoad.
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
		_ = c.Summary()
		for _, r := range c.AllRules() {
			for _, k := range r.Events {
				ev := &Event{Kind: k, Form: r.Form, Time: time.Unix(0, 0), Before: Record{}, After: Record{}}
				_, _ = c.Match(ev)
			}
		}
	})
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
