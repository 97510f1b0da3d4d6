package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/rules"
)

// timersConfig has one time rule that fires 30 minutes after a ticket's due date.
const timersConfig = `version: 1
forms:
  Ticket: {fields: {Status: {type: character}, DueDate: {type: datetime}}}
callouts:
  - {name: C, url: "http://127.0.0.1:9/", format: json}
rules:
  - {name: Late, form: Ticket, events: [time], at: {field: DueDate, offset: 30m}, condition: "'Status' != \"Done\"", callouts: [C]}
`

func TestTimersList(t *testing.T) {
	t.Setenv("RULEFLOW_KEY", strings.Repeat("ab", 32))
	cfgPath := writeFile(t, "timers.yaml", timersConfig)
	cfg, err := rules.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "ruleflow.db")
	eng, err := engine.Open(context.Background(), engine.Options{Config: cfg, Store: dsn, NoDispatch: true, NoTimers: true})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2030, 5, 1, 8, 0, 0, 0, time.UTC)
	for _, id := range []string{"7", "8"} {
		if _, err := eng.Handle(context.Background(), &rules.Event{Kind: rules.KindCreate, Form: "Ticket", EntryID: id, Time: at,
			After: rules.Record{"Status": "New", "DueDate": at.Add(time.Hour)}}); err != nil {
			t.Fatal(err)
		}
	}
	eng.Close()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"timers", "list", "--store", dsn, "--entry-id", "8"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := "DUE                   STATE  RULE  FORM    ENTRY  REPETITION  FIRED  ANCHOR                ARMED BY\n" +
		"2030-05-01T09:30:00Z  armed  Late  Ticket  8      1/1         0      2030-05-01T09:00:00Z  create at 2030-05-01T08:00:00Z\n"
	if stdout.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), want)
	}
	stdout.Reset()
	if code := run([]string{"timers", "list", "--store", dsn, "--format", "json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if lines := strings.Split(strings.TrimSpace(stdout.String()), "\n"); len(lines) != 2 || !strings.Contains(lines[0], `"rule":"Late","form":"Ticket","entry_id":"7","state":"armed","due_at":"2030-05-01T09:30:00Z"`) {
		t.Errorf("json:\n%s", stdout.String())
	}
	stderr.Reset()
	if code := run([]string{"timers", "list", "--store", dsn, "--state", "fired"}, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), `--state "fired": want armed, done or all`) {
		t.Errorf("bad --state: exit %d, stderr %s", code, stderr.String())
	}
}
