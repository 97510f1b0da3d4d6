package main

import (
	"encoding/json"
	"strings"
	"testing"
)

const (
	timersReplayConfig = "testdata/timers.yaml"
	timersReplayEvents = "testdata/timers.jsonl"
)

// TestReplayTimers: replay fires time-based rules on a virtual clock, in due order
// between the events and up to --until, the same way on every run (golden).
func TestReplayTimers(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		args := []string{"replay", "--format", format, "--config", timersReplayConfig, "--until", "2026-11-22T18:00:00Z", timersReplayEvents}
		code, first, errOut := runCLI(t, args...)
		if code != 0 || errOut != "" {
			t.Fatalf("%s: exit %d, stderr:\n%s", format, code, errOut)
		}
		for range 3 {
			if _, again, _ := runCLI(t, args...); again != first {
				t.Fatalf("%s: a second replay printed something else:\n%s\nfirst:\n%s", format, again, first)
			}
		}
		name := "replay_timers.golden"
		if format == "json" {
			name = "replay_timers_json.golden"
			for i, l := range strings.Split(strings.TrimSpace(first), "\n") {
				var rec replayRecord
				if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.Event != "time" || rec.Time.IsZero() || rec.Line == 0 {
					t.Errorf("line %d: %v %+v", i+1, err, rec)
				}
			}
		}
		golden(t, name, first)
	}
}

// TestReplayTimersWithoutUntil: without --until the virtual clock stops at the last
// event, so later timers do not fire.
func TestReplayTimersWithoutUntil(t *testing.T) {
	code, out, errOut := runCLI(t, "replay", "--config", timersReplayConfig, timersReplayEvents)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if strings.Contains(out, "14:30:00Z") || !strings.Contains(out, `timer "Due soon" fired for Ticket 3 at 2026-11-22T12:15:00Z (armed by testdata/timers.jsonl:4)`) {
		t.Errorf("output:\n%s", out)
	}
	for _, tc := range []struct{ arg, want string }{
		{"yesterday", `--until "yesterday": want an RFC 3339 time such as 2026-11-20T17:00:00Z`},
	} {
		code, _, errOut := runCLI(t, "replay", "--config", timersReplayConfig, "--until", tc.arg, timersReplayEvents)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("--until %s: exit %d, stderr %s", tc.arg, code, errOut)
		}
	}
}
