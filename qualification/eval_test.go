package qualification

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// evalCase is one evaluation: a qualification, how it is compiled, the event,
// and the expected result.
type evalCase struct {
	name    string
	src     string
	schema  bool     // compile against ticketSchema
	search  bool     // NullMode Search
	fold    bool     // CaseInsensitive
	op      string   // operation; default "update"
	before  string   // JSON
	after   string   // JSON
	set     []string // Input.Set
	want    bool
	wantErr string // run-time error, whole text
}

func runEvalCase(t *testing.T, tt evalCase) {
	t.Helper()
	var s *Schema
	if tt.schema {
		s = ticketSchema(t)
	}
	opts := Options{Schema: s, CaseInsensitive: tt.fold, Location: time.UTC}
	if tt.search {
		opts.Nulls = Search
	}
	p, err := Compile(tt.src, opts)
	if err != nil {
		t.Fatalf("Compile(%q): %v", tt.src, err)
	}
	op := tt.op
	if op == "" {
		op = "update"
	}
	env := NewEnv(&Input{
		Operation: op, Form: "Ticket", Before: decodeRecord(t, s, tt.before), After: decodeRecord(t, s, tt.after),
		Set: tt.set, User: "jsmith", Groups: []string{"Admin", "Support"}, Server: "ar01", Now: testNow,
	})
	got, err := p.Eval(env)
	if tt.wantErr != "" {
		if err == nil {
			t.Fatalf("Eval(%q) = %v, want error %q", tt.src, got, tt.wantErr)
		}
		if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
			t.Fatalf("Eval(%q) error mismatch (-want +got):\n%s", tt.src, diff)
		}
		var qe *Error
		if !errors.As(err, &qe) {
			t.Fatalf("Eval error is %T, want *Error", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Eval(%q): %v", tt.src, err)
	}
	if got != tt.want {
		t.Errorf("Eval(%q) before=%s after=%s = %v, want %v", tt.src, tt.before, tt.after, got, tt.want)
	}
}

func TestEval(t *testing.T) {
	tests := []evalCase{
		// Plain, TR. and DB. references (design §3).
		{name: "current is after", src: `'Status' = "Resolved"`, schema: true, before: `{"Status":"New"}`, after: `{"Status":"Resolved"}`, want: true},
		{name: "current on delete is before", src: `'Status' = "New"`, schema: true, op: "delete", before: `{"Status":"New"}`, want: true},
		{name: "TR set", src: `'TR.Status' = "Resolved"`, schema: true, before: `{"Status":"New"}`, after: `{"Status":"Resolved"}`, want: true},
		{name: "TR unchanged is NULL", src: `'TR.Status' = $NULL$`, schema: true, before: `{"Status":"New"}`, after: `{"Status":"New"}`, want: true},
		{name: "TR explicit set list", src: `'TR.Status' = "New"`, schema: true, before: `{"Status":"New"}`, after: `{"Status":"New"}`, set: []string{"Status"}, want: true},
		{name: "TR not in set list", src: `'TR.Status' != $NULL$`, schema: true, before: `{"Status":"New"}`, after: `{"Status":"Assigned"}`, set: []string{"Priority"}, want: false},
		{name: "TR on delete is NULL", src: `'TR.Status' = $NULL$`, schema: true, op: "delete", before: `{"Status":"New"}`, want: true},
		{name: "TR on create", src: `'TR.Status' = "New"`, schema: true, op: "create", after: `{"Status":"New"}`, want: true},
		{name: "DB is before", src: `'DB.Status' = "New" AND 'Status' = "Closed"`, schema: true, before: `{"Status":"New"}`, after: `{"Status":"Closed"}`, want: true},
		{name: "DB on create is NULL", src: `'DB.Status' = $NULL$`, schema: true, op: "create", before: `{"Status":"New"}`, after: `{"Status":"New"}`, want: true},
		{name: "TR by ID", src: `'TR.7' = 4`, schema: true, before: `{"Status":"New"}`, after: `{"Status":"Resolved"}`, want: true},
		{name: "TR without schema", src: `'TR.Status' = "Resolved" AND 'DB.Status' = "New"`, before: `{"Status":"New"}`, after: `{"Status":"Resolved"}`, want: true},
		{name: "TR time changed", src: `'TR.Create-date' != $NULL$`, schema: true, before: `{"Create-date":"2026-01-01T00:00:00Z"}`, after: `{"Create-date":"2026-01-01T01:00:00+01:00"}`, want: false},
		{name: "field named TR.Literal", src: `'TR.Literal' = "x"`, schema: true, after: `{"TR.Literal":"x"}`, want: true},
		{name: "callback is like create", src: `'DB.Status' = $NULL$ AND $OPERATION$ = "CREATE"`, op: "callback", before: `{"Status":"New"}`, after: `{"Status":"New"}`, want: true},

		// Field resolution: names with . * + - ', IDs, $Field$.
		{name: "dot in name", src: `'Cust. Remaining SLA' < 60`, schema: true, after: `{"Cust. Remaining SLA":30}`, want: true},
		{name: "star plus in name", src: `'Assigned Group*+' = "VC3"`, schema: true, after: `{"Assigned Group*+":"VC3"}`, want: true},
		{name: "quote in name", src: `'Doug''s Requests' = "x"`, schema: true, after: `{"Doug's Requests":"x"}`, want: true},
		{name: "by ID", src: `'8' LIKE "%router%"`, schema: true, after: `{"Short Description":"the router died"}`, want: true},
		{name: "value ref", src: `$Submitter$ = $USER$`, schema: true, after: `{"Submitter":"jsmith"}`, want: true},
		{name: "value ref by ID", src: `$536870913$ = "bob"`, schema: true, after: `{"Assignee":"bob"}`, want: true},
		{name: "field compared with field", src: `'Submitter' = 'Assignee'`, schema: true, after: `{"Submitter":"a","Assignee":"a"}`, want: true},

		// Selections by name and index.
		{name: "sel < name", src: `'Status' < "Resolved"`, schema: true, after: `{"Status":"Pending"}`, want: true},
		{name: "sel < name false", src: `'Status' < "Resolved"`, schema: true, after: `{"Status":"Closed"}`, want: false},
		{name: "sel < index", src: `'Status' < 4`, schema: true, after: `{"Status":"In Progress"}`, want: true},
		{name: "sel value is index", src: `'Status' = "Closed"`, schema: true, after: `{"Status":5}`, want: true},
		{name: "sel >= by ID", src: `'7' >= "Resolved"`, schema: true, after: `{"Status":"Cancelled"}`, want: true},
		{name: "sel literal left", src: `"Resolved" > 'Status'`, schema: true, after: `{"Status":"New"}`, want: true},
		{name: "sel LIKE option name", src: `'Urgency' LIKE "%High"`, schema: true, after: `{"Urgency":1}`, want: true},
		{name: "sel case-insensitive option", src: `'Status' = "closed"`, schema: true, fold: true, after: `{"Status":"Closed"}`, want: true},
		{name: "sel vs string keyword", src: `'Status' = $USER$`, schema: true, after: `{"Status":"New"}`, want: false},

		// Numbers and arithmetic.
		{name: "int compare", src: `'Priority' >= 2`, schema: true, after: `{"Priority":3}`, want: true},
		{name: "real vs int", src: `'Cost' > 10`, schema: true, after: `{"Cost":10.5}`, want: true},
		{name: "numeric string literal", src: `'Priority' = "3"`, schema: true, after: `{"Priority":3}`, want: true},
		{name: "arithmetic", src: `'Priority' * 2 + 1 = 7`, schema: true, after: `{"Priority":3}`, want: true},
		{name: "integer division", src: `'Priority' / 2 = 1`, schema: true, after: `{"Priority":3}`, want: true},
		{name: "real division", src: `'Cost' / 2 = 1.25`, schema: true, after: `{"Cost":2.5}`, want: true},
		{name: "modulo", src: `'Priority' % 2 = 1`, schema: true, after: `{"Priority":7}`, want: true},
		{name: "unary minus", src: `-'Priority' < -2`, schema: true, after: `{"Priority":3}`, want: true},
		{name: "dynamic numbers", src: `'P' + 1 > 2.5`, after: `{"P":2}`, want: true},
		{name: "dynamic numeric string", src: `'P' = 2`, after: `{"P":"2"}`, want: true},
		{name: "string concat", src: `'Submitter' + "@x" = "jo@x"`, schema: true, after: `{"Submitter":"jo"}`, want: true},

		// Date-times: literals, epoch seconds, arithmetic, keywords.
		{name: "date literal US", src: `'Create-date' > "04/01/04"`, schema: true, after: `{"Create-date":"2004-04-01T00:00:01Z"}`, want: true},
		{name: "date literal long", src: `'Create-date' = "February 20, 2017"`, schema: true, after: `{"Create-date":"2017-02-20T00:00:00Z"}`, want: true},
		{name: "date literal AM/PM", src: `'Create-date' = "4/28/2006 11:09AM"`, schema: true, after: `{"Create-date":"2006-04-28T11:09:00Z"}`, want: true},
		{name: "date literal seconds PM", src: `'Create-date' = "1/1/2012 8:00:00 PM"`, schema: true, after: `{"Create-date":"2012-01-01T20:00:00Z"}`, want: true},
		{name: "date literal RFC 3339", src: `'Create-date' = "2024-05-01T12:00:00+02:00"`, schema: true, after: `{"Create-date":"2024-05-01T10:00:00Z"}`, want: true},
		{name: "date literal ISO", src: `'Create-date' < "2019-01-01 00:00:00"`, schema: true, after: `{"Create-date":"2018-12-31T23:59:59Z"}`, want: true},
		{name: "epoch seconds", src: `'6' >= 1672531200 AND '6' <= 1704067200`, schema: true, after: `{"Modified Date":"2023-06-01T00:00:00Z"}`, want: true},
		{name: "timestamp minus a day", src: `'Create-date' > ($TIMESTAMP$ - (60*60*24))`, schema: true, after: `{"Create-date":"2026-11-21T12:00:00Z"}`, want: true},
		{name: "timestamp minus a day false", src: `'Create-date' > ($TIMESTAMP$ - (60*60*24))`, schema: true, after: `{"Create-date":"2026-11-21T09:00:00Z"}`, want: false},
		{name: "time difference in seconds", src: `'Modified Date' - 'Create-date' > 3600`, schema: true, after: `{"Create-date":"2026-11-21T09:00:00Z","Modified Date":"2026-11-21T11:00:00Z"}`, want: true},
		{name: "date keyword", src: `'Due Date' = $DATE$`, schema: true, after: `{"Due Date":"2026-11-22T00:00:00Z"}`, want: true},
		{name: "weekday", src: `$WEEKDAY$ = "Sunday"`, want: true},
		{name: "time keyword vs time of day", src: `'Start Time' < $TIME$`, schema: true, after: `{"Start Time":32400}`, want: true},
		{name: "time of day literal", src: `'Start Time' = "9:00 AM"`, schema: true, after: `{"Start Time":32400}`, want: true},
		{name: "dynamic time vs string", src: `'When' > "2020-01-01"`, after: `{"When":"2021-01-01T00:00:00Z"}`, want: true},

		// Keywords.
		{name: "user", src: `$USER$ = "jsmith"`, want: true},
		{name: "schema", src: `$SCHEMA$ = "Ticket" AND $SERVER$ = "ar01"`, want: true},
		{name: "operation", src: `$OPERATION$ = "SET"`, want: true},
		{name: "operation delete", src: `$OPERATION$ = "DELETE"`, op: "delete", want: true},
		{name: "groups", src: `$GROUPS$ LIKE "%;Support;%"`, want: true},
		{name: "timestamps", src: `$SERVERTIMESTAMP$ = $TIMESTAMP$ AND $CURRENT-TIMESTAMP$ = $CURRENT_TIMESTAMP$`, want: true},
		{name: "timestamp vs epoch", src: `$TIMESTAMP$ = 1795341600`, want: true},

		// NULL: workflow vs search (design §3).
		{name: "workflow NULL != value", src: `'Submitter' != "Yes"`, schema: true, after: `{}`, want: true},
		{name: "search NULL != value", src: `'Submitter' != "Yes"`, schema: true, search: true, after: `{}`, want: false},
		{name: "workflow NULL = empty", src: `'Submitter' = ""`, schema: true, after: `{}`, want: true},
		{name: "workflow NULL as 0", src: `'Priority' < 1`, schema: true, after: `{}`, want: true},
		{name: "search NULL as 0", src: `'Priority' < 1`, schema: true, search: true, after: `{}`, want: false},
		{name: "search presence", src: `'Priority' = $NULL$`, schema: true, search: true, after: `{}`, want: true},
		{name: "empty string is NULL", src: `'Submitter' = $NULL$`, schema: true, after: `{"Submitter":""}`, want: true},
		{name: "not null", src: `'Submitter' != $NULL$`, schema: true, after: `{"Submitter":"x"}`, want: true},
		{name: "null left", src: `$NULL$ = 'Submitter'`, schema: true, after: `{"Submitter":"x"}`, want: false},
		{name: "attachment presence", src: `'Screenshot' != $NULL$`, schema: true, after: `{"Screenshot":{"name":"a.png"}}`, want: true},
		{name: "search NULL arithmetic", src: `'Priority' + 1 > 0`, schema: true, search: true, after: `{}`, want: false},
		{name: "workflow NULL arithmetic", src: `'Priority' + 1 > 0`, schema: true, after: `{}`, want: true},
		{name: "search NOT of unknown", src: `NOT 'Submitter' = "x"`, schema: true, search: true, after: `{}`, want: true},
		{name: "workflow dynamic NULL", src: `'X' < 5`, after: `{}`, want: true},
		{name: "search dynamic NULL", src: `'X' < 5`, search: true, after: `{}`, want: false},
		{name: "NULL sel workflow", src: `'Status' < "New"`, schema: true, after: `{}`, want: true},
		{name: "null equals null", src: `$NULL$ = $NULL$`, want: true},
		{name: "negated NULL is 0 in workflow", src: `-$NULL$ = 0 AND $NULL$ + $NULL$ = 0`, want: true},
		{name: "negated NULL is NULL in search", src: `-$NULL$ = $NULL$`, search: true, want: true},
		{name: "dynamic unrelated types are unequal", src: `'A' != "x" AND NOT 'A' = "x" AND 'B' != 1`, after: `{"A":2,"B":true}`, want: true},

		// Strings and case.
		{name: "case-sensitive by default", src: `'Submitter' = "JSMITH"`, schema: true, after: `{"Submitter":"jsmith"}`, want: false},
		{name: "case-insensitive", src: `'Submitter' = "JSMITH" AND 'Submitter' < "K"`, schema: true, fold: true, after: `{"Submitter":"jsmith"}`, want: true},
		{name: "case-insensitive LIKE", src: `'Short Description' LIKE "%BMC Support%"`, schema: true, fold: true, after: `{"Short Description":"call bmc support now"}`, want: true},
		{name: "percent outside LIKE is literal", src: `'Request ID' > "00000000000060%"`, schema: true, after: `{"Request ID":"000000000000605"}`, want: true},
		{name: "LIKE field pattern", src: `'Submitter' LIKE 'Assignee'`, schema: true, after: `{"Submitter":"abc","Assignee":"a%"}`, want: true},
		{name: "bool", src: `'Escalated' = "true"`, schema: true, after: `{"Escalated":true}`, want: true},
		{name: "bool index", src: `'Escalated' = 0`, schema: true, after: `{"Escalated":false}`, want: true},

		// Boolean structure.
		{name: "NOT comparison", src: `NOT 'Status'="New"`, schema: true, after: `{"Status":"Assigned"}`, want: true},
		{name: "precedence", src: `'Priority' = 1 OR 'Priority' = 2 AND 'Priority' = 3`, schema: true, after: `{"Priority":1}`, want: true},
		{name: "parentheses", src: `('Priority' = 1 OR 'Priority' = 2) AND 'Priority' = 3`, schema: true, after: `{"Priority":1}`, want: false},
		{name: "constant folded", src: `1 + 1 = 2 AND "a" < "b"`, want: true},

		// Run-time errors.
		{name: "division by zero", src: `'Priority' / 'Cost' > 1`, schema: true, after: `{"Priority":1,"Cost":0}`, wantErr: "qualification:1:12: division by zero\n'Priority' / 'Cost' > 1\n           ^"},
		{name: "modulo by zero", src: `'A' % 'B' = 1`, after: `{"A":1,"B":0}`, wantErr: "qualification:1:5: division by zero\n'A' % 'B' = 1\n    ^"},
		{name: "dynamic mismatch", src: `'A' < 4`, after: `{"A":"abc"}`, wantErr: "qualification:1:5: cannot compare character value \"abc\" with a number\n'A' < 4\n    ^"},
		{name: "wrong record type", src: `'Priority' = 4`, schema: true, after: `{"Priority":"high"}`, wantErr: "qualification:1:12: cannot compare character value as a number\n'Priority' = 4\n           ^"},
		{name: "unknown option in record", src: `'Status' < "New"`, schema: true, after: `{"Status":"Open"}`, wantErr: "qualification:1:10: \"Open\" is not an option of selection field 'Status'\n'Status' < \"New\"\n         ^"},
		{name: "unknown option in record is unequal", src: `'Status' != "New"`, schema: true, after: `{"Status":"Open"}`, want: true},
		{name: "LIKE on number", src: `'A' LIKE "1%"`, after: `{"A":12}`, wantErr: "qualification:1:5: LIKE needs a character value, found integer\n'A' LIKE \"1%\"\n    ^"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runEvalCase(t, tt) })
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		src     string
		schema  bool
		wantErr string
	}{
		{`'Assignee Login ID' = "jsmith"`, true, "qualification:1:1: unknown field 'Assignee Login ID'\n'Assignee Login ID' = \"jsmith\"\n^"},
		{`'Status' = "New" AND 'Assignee Login ID' = "x"`, true, "qualification:1:22: unknown field 'Assignee Login ID'\n'Status' = \"New\" AND 'Assignee Login ID' = \"x\"\n                     ^"},
		{`'status' = "New"`, true, "qualification:1:1: unknown field 'status' (did you mean 'Status'?)\n'status' = \"New\"\n^"},
		{`'TR.status' = "New"`, true, "qualification:1:1: unknown field 'TR.status' (did you mean 'TR.Status'?)\n'TR.status' = \"New\"\n^"},
		{`'999' = 1`, true, "qualification:1:1: unknown field '999'\n'999' = 1\n^"},
		{`'Create-date' > $TIMETSTAMP$`, true, "qualification:1:17: unknown field $TIMETSTAMP$ (did you mean the keyword $TIMESTAMP$?)\n'Create-date' > $TIMETSTAMP$\n                ^"},
		{`'Create-date' > $TIMETSTAMP$`, false, "qualification:1:17: unknown keyword $TIMETSTAMP$ (did you mean $TIMESTAMP$?)\n'Create-date' > $TIMETSTAMP$\n                ^"},
		{`$HARDWARE$ = "x"`, false, "qualification:1:1: keyword $HARDWARE$ is not supported in ruleflow qualifications\n$HARDWARE$ = \"x\"\n^"},
		{`'Status' = "Open"`, true, "qualification:1:12: unknown option \"Open\" for selection field 'Status' (options: New, Assigned, In Progress, Pending, Resolved, Closed, Cancelled)\n'Status' = \"Open\"\n           ^"},
		{`'Status' < 9`, true, "qualification:1:12: selection index 9 out of range for field 'Status' (0 to 6)\n'Status' < 9\n           ^"},
		{`'Create-date' > "yesterday"`, true, "qualification:1:17: invalid date-time \"yesterday\" (want " + DateFormats + ", or epoch seconds)\n'Create-date' > \"yesterday\"\n                ^"},
		{`'Priority' = "high"`, true, "qualification:1:14: cannot compare integer field 'Priority' with string \"high\"\n'Priority' = \"high\"\n             ^"},
		{`'Submitter' = $TIMESTAMP$`, true, "qualification:1:15: cannot compare character field 'Submitter' with keyword $TIMESTAMP$\n'Submitter' = $TIMESTAMP$\n              ^"},
		{`'Submitter' = 'Priority'`, true, "qualification:1:15: cannot compare character field 'Submitter' with integer field 'Priority'\n'Submitter' = 'Priority'\n              ^"},
		{`'Priority' LIKE "1%"`, true, "qualification:1:1: LIKE needs character operands, found integer field 'Priority'\n'Priority' LIKE \"1%\"\n^"},
		{`'Screenshot' = "a.png"`, true, "qualification:1:1: attachment field 'Screenshot' can only be compared with $NULL$\n'Screenshot' = \"a.png\"\n^"},
		{`'Status' + 1 = 2`, true, "qualification:1:10: cannot apply \"+\" to selection field 'Status' and number 1\n'Status' + 1 = 2\n         ^"},
		{`'Create-date' * 2 = 2`, true, "qualification:1:15: cannot apply \"*\" to datetime field 'Create-date' and number 2\n'Create-date' * 2 = 2\n              ^"},
		{`-'Submitter' = 1`, true, "qualification:1:1: cannot negate character field 'Submitter'\n-'Submitter' = 1\n^"},
		{`'A' = 1 / 0`, false, "qualification:1:9: division by zero\n'A' = 1 / 0\n        ^"},
		{`$CLIENT-TYPE$ = 9`, false, "qualification:1:1: keyword $CLIENT-TYPE$ is not supported in ruleflow qualifications\n$CLIENT-TYPE$ = 9\n^"},
	}
	for _, tt := range tests {
		var s *Schema
		if tt.schema {
			s = ticketSchema(t)
		}
		_, err := Compile(tt.src, Options{Schema: s})
		if err == nil {
			t.Errorf("Compile(%q): no error, want %q", tt.src, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
			t.Errorf("Compile(%q) error mismatch (-want +got):\n%s", tt.src, diff)
		}
	}
}

func TestCompileErrorList(t *testing.T) {
	src := `'Nope' = 1 OR 'Status' = "Open" OR 'Also Nope' = 2`
	_, err := Compile(src, Options{Schema: ticketSchema(t)})
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Compile error is %T (%v), want ErrorList", err, err)
	}
	var got []string
	for _, e := range list {
		got = append(got, e.Position()+": "+e.Msg)
	}
	want := []string{
		"qualification:1:1: unknown field 'Nope'",
		"qualification:1:26: unknown option \"Open\" for selection field 'Status' (options: New, Assigned, In Progress, Pending, Resolved, Closed, Cancelled)",
		"qualification:1:36: unknown field 'Also Nope'",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
	if want := list[0].Error() + " (and 2 more errors)"; err.Error() != want {
		t.Errorf("ErrorList.Error() =\n%s\nwant\n%s", err, want)
	}
}

func TestErrorList(t *testing.T) {
	var l ErrorList
	if l.Err() != nil || l.Len() != 0 {
		t.Fatalf("zero ErrorList: Err() = %v, Len() = %d", l.Err(), l.Len())
	}
	if l.Error() != "no errors" {
		t.Errorf("zero ErrorList.Error() = %q", l.Error())
	}
	l.Add(newError("'a' = 1\n'b' = 2", 10, "second"))
	l.Add(newError("'a' = 1\n'b' = 2", 1, "first"))
	l.Sort()
	want := "qualification:1:2: first\n'a' = 1\n ^ (and 1 more errors)"
	if got := l.Err().Error(); got != want {
		t.Errorf("ErrorList.Error() = %q, want %q", got, want)
	}
	// Err returns the list whatever its length (go/scanner's contract), and
	// errors.As finds the list, or its first error, through wrapping.
	one := ErrorList{newError("x", 0, "only")}
	if _, ok := one.Err().(ErrorList); !ok {
		t.Errorf("one-element Err() is %T, want ErrorList", one.Err())
	}
	if one.Err().Error() != one[0].Error() {
		t.Errorf("one-element Error() = %q, want %q", one.Err().Error(), one[0].Error())
	}
	wrapped := fmt.Errorf("rule 3: %w", l.Err())
	var list ErrorList
	var first *Error
	if !errors.As(wrapped, &list) || len(list) != 2 || !errors.As(wrapped, &first) || first.Msg != "first" {
		t.Errorf("errors.As through wrapping: list %v, first %v", list, first)
	}
}

func TestProgramAccessors(t *testing.T) {
	src := `'Status' = "New" AND 'TR.Priority' > 1 AND $Submitter$ = $USER$`
	p, err := Compile(src, Options{Schema: ticketSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	if p.Source() != src {
		t.Errorf("Source() = %q", p.Source())
	}
	if diff := cmp.Diff([]string{"Priority", "Status", "Submitter"}, p.Fields()); diff != "" {
		t.Errorf("Fields() mismatch (-want +got):\n%s", diff)
	}
	if p.Options().Location != time.UTC {
		t.Errorf("Options().Location = %v, want UTC", p.Options().Location)
	}
	if _, err := p.Eval(nil); err == nil || err.Error() != "qualification: Eval with nil Env" {
		t.Errorf("Eval(nil) = %v", err)
	}
}

func TestLocation(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no zoneinfo database: ", err)
	}
	s := ticketSchema(t)
	p, err := Compile(`'Create-date' = "2026-11-21 19:00:00" AND $DATE$ = "11/21/2026" AND $WEEKDAY$ = "Saturday"`, Options{Schema: s, Location: ny})
	if err != nil {
		t.Fatal(err)
	}
	// 2026-11-22T00:00Z is 19:00 on Saturday the 21st in New York.
	env := NewEnv(&Input{Operation: "create", After: map[string]any{"Create-date": time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}, Now: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)})
	if ok, err := p.Eval(env); !ok || err != nil {
		t.Errorf("Eval in America/New_York = %v, %v; want true", ok, err)
	}
}

// TestConcurrentEval evaluates one Program from many goroutines, each with
// its own Env and with a shared Env (run with -race).
func TestConcurrentEval(t *testing.T) {
	s := ticketSchema(t)
	p, err := Compile(`'Status' != "Closed" AND 'Priority' >= 2 AND 'Short Description' LIKE "%router%" AND 'TR.Priority' != $NULL$ AND $DATE$ < $TIMESTAMP$ + 1`, Options{Schema: s})
	if err != nil {
		t.Fatal(err)
	}
	shared := NewEnv(&Input{Operation: "update", Before: map[string]any{"Priority": int64(1)}, After: map[string]any{"Status": "New", "Priority": int64(3), "Short Description": "router down"}, Now: testNow})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				prio := int64(i % 4)
				own := NewEnv(&Input{Operation: "update", After: map[string]any{"Status": "New", "Priority": prio, "Short Description": "router"}, Now: testNow})
				got, err := p.Eval(own)
				if err != nil || got != (prio >= 2) {
					errs <- errors.New("own env: wrong result")
					return
				}
				if got, err := p.Eval(shared); err != nil || !got {
					errs <- errors.New("shared env: wrong result")
					return
				}
			}
			_ = g
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
