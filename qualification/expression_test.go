package qualification

import (
	"testing"
	"time"
)

func TestCompileValue(t *testing.T) {
	s := mustSchema(t, "Ticket",
		fld("First Name", 1, Character),
		fld("Last Name", 2, Character),
		fld("Title", 3, Character),
		fld("Count", 4, Integer),
		fld("Cost", 5, Real),
		fld("Due", 6, DateTime),
		fld("Day", 7, Date),
		fld("At", 8, Time),
		sel("Status", 9, "New", "Assigned", "Closed"),
		sel("Prio", 10, "Low", "High"),
		fld("Flag", 11, Boolean),
		fld("File", 12, Attachment),
		fld("Empty", 13, Character),
	)
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	after := map[string]any{"First Name": "Ada", "Last Name": "Lovelace", "Count": int64(4), "Cost": 2.5, "Status": "Assigned", "Prio": "High", "Due": now}
	env := NewEnv(&Input{Operation: "update", Before: map[string]any{"Count": int64(1)}, After: after, User: "jsmith", Now: now})
	tests := []struct {
		field, src string
		want       any
	}{
		{"Title", `"Network"`, "Network"},
		{"Title", `'First Name' + " " + 'Last Name'`, "Ada Lovelace"},
		{"Title", `$USER$`, "jsmith"},
		{"Title", `'Count'`, "4"},
		{"Title", `'Status'`, "Assigned"},
		{"Title", `$NULL$`, nil},
		{"Title", `""`, nil},
		{"Title", `'Empty' + 'Empty'`, nil},
		{"Count", `'Count' * 2 + 1`, int64(9)},
		{"Count", `"12"`, int64(12)},
		{"Count", `'DB.Count' - 'Count'`, int64(-3)},
		{"Cost", `'Count' / 8`, 0.0},
		{"Cost", `'Cost' * 2`, 5.0},
		{"Due", `$TIMESTAMP$ + 4*60*60`, now.Add(4 * time.Hour)},
		{"Due", `"2026-12-01 09:30:00"`, time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)},
		{"Due", `1700000000`, time.Unix(1700000000, 0).UTC()},
		{"Day", `'Due' + 86400`, time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)},
		{"At", `"09:15"`, int64(9*3600 + 15*60)},
		{"At", `'Due'`, int64(15 * 3600)},
		{"Status", `"Closed"`, "Closed"},
		{"Status", `0`, "New"},
		{"Flag", `"true"`, true},
		{"Flag", `1`, true},
	}
	for _, tc := range tests {
		f, _ := s.Field(tc.field)
		x, err := CompileValue(tc.src, f, Options{Schema: s})
		if err != nil {
			t.Errorf("%s = %s: %v", tc.field, tc.src, err)
			continue
		}
		got, err := x.Eval(env)
		if err != nil {
			t.Errorf("%s = %s: eval: %v", tc.field, tc.src, err)
			continue
		}
		if gt, ok := got.(time.Time); ok {
			if wt, ok := tc.want.(time.Time); !ok || !gt.Equal(wt) {
				t.Errorf("%s = %s: got %v, want %v", tc.field, tc.src, got, tc.want)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%s = %s: got %#v, want %#v", tc.field, tc.src, got, tc.want)
		}
	}

	// A selection copied from another selection: a run-time error names the option.
	f, _ := s.Field("Status")
	x, err := CompileValue(`'Prio'`, f, Options{Schema: s})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Eval(env); err == nil || err.Error() != "qualification:1:1: unknown option \"High\" for selection field 'Status' (options: New, Assigned, Closed)\n'Prio'\n^" {
		t.Errorf("selection from selection: err = %v", err)
	}
}

func TestCompileValueErrors(t *testing.T) {
	s := mustSchema(t, "Ticket",
		fld("Title", 1, Character),
		fld("Count", 2, Integer),
		fld("Due", 3, DateTime),
		sel("Status", 4, "New", "Closed"),
		fld("Flag", 5, Boolean),
		fld("File", 6, Attachment),
	)
	tests := []struct{ field, src, wantErr string }{
		{"Title", ``, "qualification:1:1: empty expression (write $NULL$ to clear a field)"},
		{"Title", `'Title' = "x"`, "qualification:1:9: a value expression cannot hold \"=\": set takes a value, not a condition\n'Title' = \"x\"\n        ^"},
		{"Title", `"a" "b"`, "qualification:1:5: unexpected \"\\\"b\\\"\" after a complete value (missing an operator?)\n\"a\" \"b\"\n    ^"},
		{"Title", `'Titel'`, "qualification:1:1: unknown field 'Titel'\n'Titel'\n^"},
		{"Title", `$TIMESTAMP$`, "qualification:1:1: cannot set character field 'Title' to keyword $TIMESTAMP$\n$TIMESTAMP$\n^"},
		{"Count", `1.5`, "qualification:1:1: cannot set integer field 'Count' to number 1.5\n1.5\n^"},
		{"Count", `"many"`, "qualification:1:1: cannot set integer field 'Count' to string \"many\"\n\"many\"\n^"},
		{"Count", `'Title'`, "qualification:1:1: cannot set integer field 'Count' to character field 'Title'\n'Title'\n^"},
		{"Count", `'Title' * 2`, "qualification:1:9: cannot apply \"*\" to character field 'Title' and number 2\n'Title' * 2\n        ^"},
		{"Count", `1 / 0`, "qualification:1:3: division by zero\n1 / 0\n  ^"},
		{"Due", `"tomorrow"`, "qualification:1:1: cannot set datetime field 'Due' to string \"tomorrow\" (want " + DateFormats + ", or epoch seconds)\n\"tomorrow\"\n^"},
		{"Status", `"Open"`, "qualification:1:1: unknown option \"Open\" for selection field 'Status' (options: New, Closed)\n\"Open\"\n^"},
		{"Status", `5`, "qualification:1:1: selection index 5 out of range for field 'Status' (0 to 1)\n5\n^"},
		{"Flag", `"maybe"`, "qualification:1:1: cannot set bool field 'Flag' to string \"maybe\"\n\"maybe\"\n^"},
		{"File", `"x.png"`, "qualification:1:1: cannot set attachment field 'File' to string \"x.png\"\n\"x.png\"\n^"},
	}
	for _, tc := range tests {
		f, _ := s.Field(tc.field)
		_, err := CompileValue(tc.src, f, Options{Schema: s})
		if err == nil {
			t.Errorf("%s = %s: no error, want %q", tc.field, tc.src, tc.wantErr)
			continue
		}
		if err.Error() != tc.wantErr {
			t.Errorf("%s = %s:\n got %q\nwant %q", tc.field, tc.src, err.Error(), tc.wantErr)
		}
	}
}

func TestCompileValueDynamic(t *testing.T) {
	x, err := CompileValue(`'a' + 'b'`, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := x.Eval(NewEnv(&Input{Operation: "create", After: map[string]any{"a": "x", "b": "y"}}))
	if err != nil || got != "xy" {
		t.Errorf("got %v, %v; want xy", got, err)
	}
	if fs := x.Fields(); len(fs) != 2 || fs[0] != "a" || fs[1] != "b" {
		t.Errorf("Fields = %q", fs)
	}
}

func FuzzCompileValue(f *testing.F) {
	for _, s := range []string{`"x"`, `'Title' + "y"`, `$TIMESTAMP$ + 4*60*60`, `-(1)`, `('a' = 1)`, `$NULL$`} {
		f.Add(s)
	}
	s, _ := NewSchema("T", []Field{{Name: "Title", Type: Character}, {Name: "Count", Type: Integer}})
	title, _ := s.Field("Title")
	f.Fuzz(func(t *testing.T, src string) {
		x, err := CompileValue(src, title, Options{Schema: s})
		if err != nil {
			return
		}
		x.Eval(NewEnv(&Input{Operation: "create", After: map[string]any{"Title": "t", "Count": int64(3)}}))
	})
}

func TestCompileValueSelectionValues(t *testing.T) {
	s := mustSchema(t, "Ticket",
		Field{Name: "Status", Type: Selection, Options: []string{"New", "Assigned", "Closed"}, Values: []int64{0, 1000, 5000}},
		fld("Notes", 2, Diary),
	)
	status, _ := s.Field("Status")
	env := NewEnv(&Input{Operation: "create"})
	for src, want := range map[string]any{`1000`: "Assigned", `"Closed"`: "Closed", `$NULL$`: nil} {
		x, err := CompileValue(src, status, Options{Schema: s})
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got, _ := x.Eval(env); got != want {
			t.Errorf("%s: got %v, want %v", src, got, want)
		}
	}
	for src, want := range map[string]string{
		`1`: "qualification:1:1: selection value 1 is not an option of field 'Status' (options: New (0), Assigned (1000), Closed (5000))\n1\n^",
	} {
		if _, err := CompileValue(src, status, Options{Schema: s}); err == nil || err.Error() != want {
			t.Errorf("%s: err %v, want %q", src, err, want)
		}
	}
	notes, _ := s.Field("Notes")
	if _, err := CompileValue(`"x"`, notes, Options{Schema: s}); err == nil || err.Error() != "qualification:1:1: set cannot assign diary field 'Notes' (not supported)\n\"x\"\n^" {
		t.Errorf("diary: %v", err)
	}
}
