package httpapi

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestListTimers(t *testing.T) {
	ts := newTestServer(t, serverConfig{configFile: filepath.Join("testdata", "timers.yaml")})
	r := ts.admin("POST", "/v1/events", `[
{"event":"create","form":"Ticket","entry_id":"1","time":"2030-01-01T08:00:00Z","after":{"TicketID":1,"Status":"New","DueDate":"2030-01-01T12:00:00Z"}},
{"event":"create","form":"Ticket","entry_id":"2","time":"2030-01-01T08:00:00Z","after":{"TicketID":2,"Status":"New","DueDate":"2030-01-02T12:00:00Z"}},
{"event":"create","form":"Ticket","entry_id":"3","time":"2030-01-01T08:00:00Z","after":{"TicketID":3,"Status":"New"}}]`)
	if r.status != 202 {
		t.Fatalf("post events: %d %s", r.status, r.body)
	}
	list := func(query string) []string {
		t.Helper()
		r := ts.admin("GET", "/v1/timers"+query, nil)
		if r.status != 200 {
			t.Fatalf("GET /v1/timers%s: %d %s", query, r.status, r.body)
		}
		var l timerList
		decode(t, r, &l)
		out := []string{}
		for _, tm := range l.Timers {
			out = append(out, tm.Rule+" "+tm.EntryID+" "+tm.DueAt.Format("2006-01-02T15:04Z07:00")+" "+tm.State)
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"Reminder 1 2030-01-01T11:00Z armed", "Overdue 1 2030-01-01T12:30Z armed", "Reminder 2 2030-01-02T11:00Z armed", "Overdue 2 2030-01-02T12:30Z armed"}},
		{"?entry_id=2&form=Ticket", []string{"Reminder 2 2030-01-02T11:00Z armed", "Overdue 2 2030-01-02T12:30Z armed"}},
		{"?rule=Overdue", []string{"Overdue 1 2030-01-01T12:30Z armed", "Overdue 2 2030-01-02T12:30Z armed"}},
		{"?rule=Overdue&limit=1&offset=1", []string{"Overdue 2 2030-01-02T12:30Z armed"}},
		{"?state=done", []string{}},
		{"?entry_id=3&state=all", []string{}}, // a NULL anchor arms nothing
	} {
		if diff := cmp.Diff(tc.want, list(tc.query)); diff != "" {
			t.Errorf("GET /v1/timers%s (-want +got):\n%s", tc.query, diff)
		}
	}
	r = ts.admin("GET", "/v1/timers?rule=Overdue&entry_id=1", nil)
	var l timerList
	decode(t, r, &l)
	if got := l.Timers[0]; got.Every != "1h0m0s" || got.Repetitions != 3 || got.Offset != "30m0s" || got.ArmedBy != "create" || !got.ArmedAt.Equal(time.Date(2030, 1, 1, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("timer = %+v", got)
	}
	for _, tc := range []struct{ query, want string }{
		{"?state=fired", `state "fired": want armed, done or all`},
		{"?limit=0", `limit "0": want an integer from 1 to 1000`},
		{"?offset=-1", `offset "-1": want a non-negative integer`},
		{"?entry=1", `unknown query parameter "entry" (want form, entry_id, rule, state, limit or offset)`},
	} {
		r := ts.admin("GET", "/v1/timers"+tc.query, nil)
		var e struct{ Error string }
		decode(t, r, &e)
		if r.status != 400 || e.Error != tc.want {
			t.Errorf("GET /v1/timers%s = %d %s, want 400 %q", tc.query, r.status, r.body, tc.want)
		}
	}
	if r := ts.do("GET", "/v1/timers", nil); r.status != 401 && r.status != 403 {
		t.Errorf("without the admin token: %d, want 401/403", r.status)
	}
}
