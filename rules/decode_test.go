package rules

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const decodeConfig = `version: 1
timezone: America/New_York
forms:
  Ticket:
    fields:
      TicketID: {id: 1, type: integer}
      Title: {id: 3, type: character}
      Status: {id: 7, type: selection, options: [New, In Progress, Complete]}
      Created: {id: 4, type: datetime}
      Due: {id: 5, type: date}
      At: {id: 6, type: time}
      Hours: {id: 8, type: real}
      Cost: {id: 9, type: decimal}
      Billable: {id: 10, type: bool}
      File: {id: 11, type: attachment}
callback_functions:
  - {api_name: close_ticket, parameters: {id: int, name: string, ok: bool, ratio: float, when: date, extra: map}}
target_urls:
  - {name: jira}
`

func TestDecodeEvent(t *testing.T) {
	c := mustParse(t, decodeConfig)
	ny := c.Location
	ev, err := c.DecodeEvent([]byte(`{"event":"update","form":"Ticket","entry_id":"8176","user":"jsmith","groups":["Support"],
		"time":"2022-03-25T15:23:58Z",
		"before":{"TicketID":8176,"Status":1,"Title":null},
		"after":{"1":8176,"Title":"Disk full","Status":"Complete","Created":"2021-11-20T10:43:34.903-05:00",
		         "Due":"2022-04-01","At":"13:30","Hours":1.5,"Cost":10,"Billable":true,
		         "File":{"name":"a.txt","content_type":"text/plain","data_base64":"aGk="}},
		"set":["Status","7"]}`), nil)
	if err != nil {
		t.Fatalf("DecodeEvent: %v", err)
	}
	want := &Event{
		Kind: KindUpdate, Form: "Ticket", EntryID: "8176", User: "jsmith", Groups: []string{"Support"},
		Time:   time.Date(2022, 3, 25, 15, 23, 58, 0, time.UTC),
		Before: Record{"TicketID": int64(8176), "Status": "In Progress", "Title": nil},
		After: Record{"TicketID": int64(8176), "Title": "Disk full", "Status": "Complete",
			"Created": time.Date(2021, 11, 20, 10, 43, 34, 903000000, time.FixedZone("", -5*3600)),
			"Due":     time.Date(2022, 4, 1, 0, 0, 0, 0, ny), "At": int64(13*3600 + 30*60), "Hours": 1.5, "Cost": 10.0, "Billable": true,
			"File": &Attachment{Name: "a.txt", ContentType: "text/plain", Data: []byte("hi")}},
		Set: []string{"Status", "Status"},
	}
	if diff := cmp.Diff(want, ev, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}

func TestDecodeEventInbound(t *testing.T) {
	clock := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	c := mustParse(t, decodeConfig)
	ev, err := c.DecodeEvent([]byte(`{"event":"callback","form":"close_ticket","entry_id":42,"time":"2026-01-02T03:04:05Z",
		"after":{"id":7,"name":"x","ok":false,"ratio":2,"when":"2026-01-02T00:00:00Z","extra":{"b":[1,2],"a":"s"}}}`), nil)
	if err != nil {
		t.Fatalf("DecodeEvent(callback): %v", err)
	}
	want := Record{"id": int64(7), "name": "x", "ok": false, "ratio": 2.0,
		"when": time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), "extra": `{"a":"s","b":[1,2]}`}
	if diff := cmp.Diff(want, ev.After); diff != "" || ev.EntryID != "42" {
		t.Errorf("callback after (-want +got):\n%s\nentry_id %q", diff, ev.EntryID)
	}
	ev, err = c.DecodeEvent([]byte(`{"event":"external","form":"jira","after":{"n":1,"f":1.5,"s":"x","b":true,"z":null,"o":{"k":1},"l":[1]}}`), func() time.Time { return clock })
	if err != nil {
		t.Fatalf("DecodeEvent(external): %v", err)
	}
	want = Record{"n": int64(1), "f": 1.5, "s": "x", "b": true, "z": nil, "o": `{"k":1}`, "l": `[1]`}
	if diff := cmp.Diff(want, ev.After); diff != "" {
		t.Errorf("external after (-want +got):\n%s", diff)
	}
	if !ev.Time.Equal(clock) {
		t.Errorf("missing time: got %v, want the clock's %v", ev.Time, clock)
	}
}

func TestDecodeEventErrors(t *testing.T) {
	c := mustParse(t, decodeConfig)
	tests := []struct {
		in      string
		wantErr string
	}{
		{``, `invalid event JSON: empty input`},
		{`{`, `invalid event JSON: unexpected EOF`},
		{`[1]`, `invalid event JSON: want an object, got array`},
		{`{"event":"update"} x`, `invalid event JSON: unexpected data after the event object`},
		{`{"event":"update","form":"Ticket","bogus":1}`, `invalid event JSON: unknown field "bogus"`},
		{`{"event":1}`, `"event" must be a string, got number`},
		{`{"event":"update","form":"Ticket","before":[]}`, `"before" must be an object, got array`},
		{`{"event":"update","form":"Ticket","set":"Status"}`, `"set" must be a list of strings, got string`},
		{`{"form":"Ticket"}`, `missing "event" (the event kind: create, update, delete, callback or external)`},
		{`{"event":"modify","form":"Ticket"}`, `unknown event kind "modify" (want create, update, delete, callback or external)`},
		{`{"event":"create"}`, `missing "form"`},
		{`{"event":"create","form":"Tickets"}`, `unknown form "Tickets"; did you mean "Ticket"?`},
		{`{"event":"callback","form":"nope"}`, `unknown callback function "nope" (not a declared form or callback function api_name)`},
		{`{"event":"external","form":"nope"}`, `unknown target URL "nope" (not a declared form or target URL name)`},
		{`{"event":"create","form":"Ticket","entry_id":true}`, `"entry_id" must be a string or a number`},
		{`{"event":"create","form":"Ticket","time":"yesterday"}`, `invalid time "yesterday" (want RFC 3339 such as 2022-03-25T15:23:58Z)`},
		{`{"event":"create","form":"Ticket","after":{"Titel":"x"}}`, `after: unknown field "Titel" of form "Ticket"; did you mean "Title"?`},
		{`{"event":"create","form":"Ticket","after":{"99":"x"}}`, `after: unknown field "99" of form "Ticket"`},
		{`{"event":"create","form":"Ticket","after":{"Title":5}}`, `after: field "Title": want a string for a character field, got number 5`},
		{`{"event":"create","form":"Ticket","after":{"TicketID":1.5}}`, `after: field "TicketID": want an integer, got number 1.5`},
		{`{"event":"create","form":"Ticket","after":{"TicketID":"1"}}`, `after: field "TicketID": want an integer, got string "1"`},
		{`{"event":"create","form":"Ticket","after":{"Hours":"x"}}`, `after: field "Hours": want a number, got string "x"`},
		{`{"event":"create","form":"Ticket","after":{"Billable":"yes"}}`, `after: field "Billable": want true or false, got string "yes"`},
		{`{"event":"create","form":"Ticket","after":{"Created":"2021-11-20 10:00"}}`, `after: field "Created": invalid date-time "2021-11-20 10:00" (want RFC 3339 such as 2021-11-20T10:43:34-05:00)`},
		{`{"event":"create","form":"Ticket","after":{"Created":true}}`, `after: field "Created": want an RFC 3339 date-time string or epoch seconds, got boolean true`},
		{`{"event":"create","form":"Ticket","after":{"Due":"April 1"}}`, `after: field "Due": invalid date "April 1" (want 2006-01-02)`},
		{`{"event":"create","form":"Ticket","after":{"At":90000}}`, `after: field "At": want a time of day (15:04:05) or seconds since midnight, got number 90000`},
		{`{"event":"create","form":"Ticket","after":{"At":"noon"}}`, `after: field "At": invalid time of day "noon" (want 15:04:05)`},
		{`{"event":"create","form":"Ticket","after":{"Status":"Done"}}`, `after: field "Status": unknown option "Done" (want "New", "In Progress" or "Complete", or an index 0 to 2)`},
		{`{"event":"create","form":"Ticket","after":{"Status":3}}`, `after: field "Status": option index 3 is out of range (want 0 to 2)`},
		{`{"event":"create","form":"Ticket","after":{"Status":true}}`, `after: field "Status": want an option name or value, got boolean true`},
		{`{"event":"create","form":"Ticket","after":{"File":"a.txt"}}`, `after: field "File": want an attachment object {"name","content_type","data_base64"}, got string "a.txt"`},
		{`{"event":"create","form":"Ticket","after":{"File":{"name":"a","data_base64":"!!"}}}`, `after: field "File": attachment data_base64 is not valid base64`},
		{`{"event":"create","form":"Ticket","after":{"File":{"name":"a","size":1}}}`, `after: field "File": attachment size must be a string, got number 1`},
		{`{"event":"create","form":"Ticket","after":{"File":{"name":"a","url":"x"}}}`, `after: field "File": unknown attachment key "url" (want name, content_type, data_base64)`},
		{`{"event":"create","form":"Ticket","after":{"File":{"data_base64":""}}}`, `after: field "File": attachment needs a name`},
		{`{"event":"create","form":"Ticket","set":["Nope"]}`, `set: unknown field "Nope" of form "Ticket"`},
		{`{"event":"update","form":"Ticket","before":{"Title":1},"after":{"TicketID":"x"}}`,
			`before: field "Title": want a string for a character field, got number 1; after: field "TicketID": want an integer, got string "x"`},
		{`{"event":"callback","form":"close_ticket","after":{"nope":1}}`, `after: unknown parameter "nope" of callback function "close_ticket"`},
		{`{"event":"callback","form":"close_ticket","after":{"id":"seven"}}`, `after: parameter "id": want an integer, got string "seven"`},
		{`{"event":"callback","form":"close_ticket","after":{"name":1}}`, `after: parameter "name": want a string, got number 1`},
		{`{"event":"callback","form":"close_ticket","after":{"ok":1}}`, `after: parameter "ok": want true or false, got number 1`},
		{`{"event":"callback","form":"close_ticket","after":{"ratio":"x"}}`, `after: parameter "ratio": want a number, got string "x"`},
		{`{"event":"callback","form":"close_ticket","after":{"when":"x"}}`, `after: parameter "when": want a date (RFC 3339, 2006-01-02 or epoch seconds), got string "x"`},
		{`{"event":"callback","form":"close_ticket","after":{"extra":[1]}}`, `after: parameter "extra": want an object, got an array`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ev, err := c.DecodeEvent([]byte(tt.in), nil)
			if err == nil {
				t.Fatalf("DecodeEvent = %+v, want error %q", ev, tt.wantErr)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("error:\n got %s\nwant %s", err, tt.wantErr)
			}
		})
	}
}

func TestReadEvents(t *testing.T) {
	c := mustParse(t, decodeConfig)
	in := strings.NewReader(`{"event":"create","form":"Ticket","entry_id":"1"}

{"event":"create","form":"Nope"}
   
{"event":"delete","form":"Ticket","entry_id":"2","before":{"Title":"x"}}
`)
	var got []string
	err := c.ReadEvents(in, "events.jsonl", func(line int, ev *Event, err error) error {
		if err != nil {
			got = append(got, err.Error())
		} else {
			got = append(got, fmt.Sprintf("%d: %s %s", line, ev.Kind, ev.EntryID))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ReadEvents: %v", err)
	}
	want := []string{"1: create 1", `events.jsonl:3: unknown form "Nope"`, "5: delete 2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	stop := errors.New("stop")
	n := 0
	err = c.ReadEvents(strings.NewReader("{\"event\":\"create\",\"form\":\"Ticket\"}\n{\"event\":\"create\",\"form\":\"Ticket\"}\n"), "x", func(int, *Event, error) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Errorf("ReadEvents with a stopping callback: err %v after %d calls", err, n)
	}
	long := strings.Repeat("x", MaxEventLine+1)
	err = c.ReadEvents(strings.NewReader(long), "big.jsonl", func(int, *Event, error) error { return nil })
	if err == nil || err.Error() != "big.jsonl:1: bufio.Scanner: token too long" {
		t.Errorf("long line: %v", err)
	}
}

// TestDemoEvents decodes every demo event: the fixture must stay valid.
func TestDemoEvents(t *testing.T) {
	c, err := Load(demoConfig)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../testdata/demo/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, fired := 0, 0
	err = c.ReadEvents(f, "events.jsonl", func(line int, ev *Event, err error) error {
		if err != nil {
			return err
		}
		n++
		ms, err := c.Match(ev)
		if err != nil {
			return fmt.Errorf("line %d: %v", line, err)
		}
		for _, m := range ms {
			fired += len(m.Fire)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 30 || fired < 20 {
		t.Errorf("demo: %d events fired %d callouts; want at least 30 events and 20 callouts", n, fired)
	}
}
