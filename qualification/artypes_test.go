package qualification

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// helpDeskSchema is a form with AR's typed fields: selections with AR values,
// currency, diary, date, time of day, and a character Request ID.
func helpDeskSchema(tb testing.TB) *Schema {
	return mustSchema(tb, "HPD:Help Desk",
		fld("Request ID", 1, Character),
		Field{Name: "Status", ID: 7, Type: Selection, Options: []string{"New", "Assigned", "In Progress", "Pending", "Resolved", "Closed", "Cancelled"}},
		Field{Name: "Impact", ID: 1000000163, Type: Selection,
			Options: []string{"1-Extensive/Widespread", "2-Significant/Large", "3-Moderate/Limited", "4-Minor/Localized"},
			Values:  []int64{1000, 2000, 3000, 4000}},
		Field{Name: "State", ID: 30, Type: Selection, Options: []string{"New", "Assigned", "Closed"}, Values: []int64{0, 1, 5}},
		fld("Cost", 40, Currency),
		fld("Work Log", 41, Diary),
		fld("Due", 42, Date),
		fld("Opens At", 43, Time),
		fld("Rate", 44, Decimal),
		fld("Qual", 45, Character),
		fld("Qual2", 46, Character),
		fld("Priority", 47, Integer),
	)
}

var (
	t2026 = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	cost  = &CurrencyValue{Value: 1250.5, Code: "EUR", ConversionDate: t2026,
		Functional: []FunctionalAmount{{"USD", 1330.25}, {"EUR", 1250.5}}}
)

// evalAR compiles src against helpDeskSchema (or no schema) and evaluates it
// against an update whose after record is rec.
func evalAR(t *testing.T, src string, schema bool, rec map[string]any, hist map[string]StatusEntry) (bool, error) {
	t.Helper()
	var s *Schema
	if schema {
		s = helpDeskSchema(t)
	}
	p, err := Compile(src, Options{Schema: s})
	if err != nil {
		t.Fatalf("Compile(%q): %v", src, err)
	}
	return p.Eval(NewEnv(&Input{Operation: "create", Form: "HPD:Help Desk", After: rec, Now: testNow, StatusHistory: hist}))
}

// arRecord is the record and status history the AR type tests evaluate against.
func arRecord() (map[string]any, map[string]StatusEntry) {
	rec := map[string]any{
		"Request ID": "000000000000123",
		"Status":     "Resolved",
		"Impact":     "1-Extensive/Widespread",
		"State":      "Closed",
		"Cost":       cost,
		"Work Log":   DiaryValue{{User: "Demo", Timestamp: t2026, Text: "called user"}, {User: "Bob", Text: "rebooted server"}},
		"Due":        time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		"Opens At":   int64(8 * 3600),
		"Rate":       12.75,
		"Qual":       `'Impact' = 1000 AND 'Cost.TYPE' = "EUR"`,
		"Qual2":      `EXTERNAL('Qual') AND 'State' = 5`,
		"Priority":   int64(2),
		"Qual3":      `'Priority' = 2 AND 'Cost.VALUE' > 1000`,
	}
	hist := map[string]StatusEntry{
		"New":      {User: "Demo", Time: t2026.Add(-48 * time.Hour)},
		"Resolved": {User: "Allen", Time: t2026},
	}
	return rec, hist
}

func TestARTypesEval(t *testing.T) {
	rec, hist := arRecord()
	tests := []struct {
		src    string
		schema bool
		want   bool
	}{
		// Selections compare and order by their AR values.
		{`'Impact' = 1000`, true, true},
		{`'Impact' = "1-Extensive/Widespread"`, true, true},
		{`'Impact' <= "2-Significant/Large"`, true, true},
		{`'Impact' > 1000`, true, false},
		{`'Impact' < 2000 AND 'Impact' != 2000`, true, true},
		{`'State' = 5`, true, true},
		{`'State' = "Closed"`, true, true},
		{`'State' > "Assigned"`, true, true},
		{`'State' LIKE "Clo%"`, true, true},
		{`'Status' = 4`, true, true},
		// Currency parts.
		{`'Cost.VALUE' > 1000`, true, true},
		{`'Cost.VALUE' = 1250.5`, true, true},
		{`'Cost.TYPE' = "EUR"`, true, true},
		{`'Cost.DATE' > "2026-11-01"`, true, true},
		{`'Cost.USD' < 1330`, true, false},
		{`'Cost.USD' >= 1330.25`, true, true},
		{`'Cost.GBP' = $NULL$`, true, true},
		{`'Cost' != $NULL$`, true, true},
		{`'40.VALUE' > 1000`, true, true},
		{`'Cost.VALUE' > 1000`, false, true}, // no schema: the part of the record's currency value
		{`'Cost.TYPE' = "EUR"`, false, true},
		// Diary: the entries' text.
		{`'Work Log' LIKE "%rebooted%"`, true, true},
		{`'Work Log' = "called user"`, true, false},
		{`'Work Log' != $NULL$`, true, true},
		// Date, time of day, decimal.
		{`'Due' = "2026-12-01"`, true, true},
		{`'Opens At' < "09:00:00"`, true, true},
		{`'Rate' > 12.5`, true, true},
		// Status history.
		{`'Status-History.Resolved.USER' = "Allen"`, true, true},
		{`'Status-History.Resolved.TIME' >= "2026-11-20"`, true, true},
		{`'Status-History.4.USER' = "Allen"`, true, true},
		{`'Status-History.New.TIME' < 'Status-History.Resolved.TIME'`, true, true},
		{`'Status-History.Closed.TIME' = $NULL$`, true, true},
		{`'Status-History.Resolved.USER' = "Allen"`, false, true},
		// A number compared with a character field is compared as text (reference §3).
		{`'1' > 0`, true, true},
		{`'Request ID' = 123`, true, false},
		{`'Request ID' = "000000000000123"`, true, true},
		// EXTERNAL: the field's value is a qualification.
		{`EXTERNAL('Qual')`, true, true},
		{`EXTERNAL($Qual$)`, true, true},
		{`NOT EXTERNAL('Qual')`, true, false},
		{`EXTERNAL('Qual2') AND 'Priority' = 2`, true, true},
		{`EXTERNAL('Qual3')`, false, true},
		{`EXTERNAL('Qual')`, false, false}, // no schema: "1-Extensive/Widespread" is not 1000
	}
	for _, tt := range tests {
		got, err := evalAR(t, tt.src, tt.schema, rec, hist)
		if err != nil {
			t.Errorf("Eval(%q, schema=%v): %v", tt.src, tt.schema, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Eval(%q, schema=%v) = %v, want %v", tt.src, tt.schema, got, tt.want)
		}
	}
}

func TestARTypesCompileErrors(t *testing.T) {
	tests := []struct{ src, wantErr string }{
		{`'Impact' = 1`, "qualification:1:12: selection value 1 is not an option of field 'Impact' (options: 1-Extensive/Widespread (1000), 2-Significant/Large (2000), 3-Moderate/Limited (3000), 4-Minor/Localized (4000))\n'Impact' = 1\n           ^"},
		{`'Impact' = "5-None"`, "qualification:1:12: unknown option \"5-None\" for selection field 'Impact' (options: 1-Extensive/Widespread, 2-Significant/Large, 3-Moderate/Limited, 4-Minor/Localized)\n'Impact' = \"5-None\"\n           ^"},
		{`'Cost' > 5`, "qualification:1:1: currency field 'Cost' can only be compared with $NULL$; compare its parts 'Cost.VALUE', 'Cost.TYPE', 'Cost.DATE' or a functional amount such as 'Cost.USD'\n'Cost' > 5\n^"},
		{`'Cost' = 'Rate'`, "qualification:1:1: currency field 'Cost' can only be compared with $NULL$; compare its parts 'Cost.VALUE', 'Cost.TYPE', 'Cost.DATE' or a functional amount such as 'Cost.USD'\n'Cost' = 'Rate'\n^"},
		{`'Cost.VALUE' = "EUR"`, "qualification:1:16: cannot compare real field 'Cost.VALUE' with string \"EUR\"\n'Cost.VALUE' = \"EUR\"\n               ^"},
		{`'Cost.usd' = 1`, "qualification:1:1: unknown field 'Cost.usd'\n'Cost.usd' = 1\n^"},
		{`'Rate.VALUE' = 1`, "qualification:1:1: unknown field 'Rate.VALUE' ('Rate' is a decimal field; only currency fields have the parts VALUE, TYPE, DATE and functional currency codes)\n'Rate.VALUE' = 1\n^"},
		{`'Status-History.Resolved' = 1`, "qualification:1:1: status-history reference 'Status-History.Resolved' must be 'Status-History.<status>.TIME' or '.USER'\n'Status-History.Resolved' = 1\n^"},
		{`'Status-History.Done.USER' = "x"`, "qualification:1:1: status-history reference 'Status-History.Done.USER': \"Done\" is not an option of selection field 'Status' (options: New, Assigned, In Progress, Pending, Resolved, Closed, Cancelled)\n'Status-History.Done.USER' = \"x\"\n^"},
		{`'Status-History.Resolved.TIME' = "soon"`, "qualification:1:34: invalid date-time \"soon\" (want " + DateFormats + ", or epoch seconds)\n'Status-History.Resolved.TIME' = \"soon\"\n                                 ^"},
		{`EXTERNAL('Priority')`, "qualification:1:10: EXTERNAL needs a character field holding a qualification, found integer field 'Priority'\nEXTERNAL('Priority')\n         ^"},
		{`EXTERNAL('Nope')`, "qualification:1:10: unknown field 'Nope'\nEXTERNAL('Nope')\n         ^"},
		{`'Work Log' > 5 AND 'Request ID' = $TIMESTAMP$`, "qualification:1:35: cannot compare character field 'Request ID' with keyword $TIMESTAMP$\n'Work Log' > 5 AND 'Request ID' = $TIMESTAMP$\n                                  ^"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.src, Options{Schema: helpDeskSchema(t)})
		if err == nil {
			t.Errorf("Compile(%q): no error, want %q", tt.src, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
			t.Errorf("Compile(%q) mismatch (-want +got):\n%s", tt.src, diff)
		}
	}
	// A status-history reference needs a selection field 'Status'.
	_, err := Compile(`'Status-History.New.TIME' = $NULL$`, Options{Schema: ticketSchemaWithout(t, "Status")})
	want := "qualification:1:1: status-history reference 'Status-History.New.TIME' needs a selection field 'Status' (field ID 7) on form \"Ticket\"\n'Status-History.New.TIME' = $NULL$\n^"
	if err == nil || err.Error() != want {
		t.Errorf("Status-History without Status: got %v, want %q", err, want)
	}
}

func ticketSchemaWithout(tb testing.TB, name string) *Schema {
	var fields []Field
	for _, f := range ticketSchema(tb).Fields {
		if f.Name != name {
			fields = append(fields, f)
		}
	}
	return mustSchema(tb, "Ticket", fields...)
}

func TestExternalErrors(t *testing.T) {
	nest := func(n int) map[string]any {
		// Qual holds EXTERNAL('Qual') itself: a cycle that the depth limit ends.
		return map[string]any{"Qual": `EXTERNAL('Qual')`}
	}
	tests := []struct {
		src     string
		rec     map[string]any
		want    bool
		wantErr string
	}{
		{`EXTERNAL('Qual')`, map[string]any{"Qual": `'Stauts' = 1`}, false,
			"qualification:1:1: EXTERNAL('Qual'): the field's value is not a valid qualification: at column 1 of \"'Stauts' = 1\": unknown field 'Stauts'\nEXTERNAL('Qual')\n^"},
		{`'Priority' = 1 AND EXTERNAL('Qual')`, map[string]any{"Qual": `'Priority' = `}, false,
			"qualification:1:20: EXTERNAL('Qual'): the field's value is not a valid qualification: at column 14 of \"'Priority' = \": missing operand after \"=\"\n'Priority' = 1 AND EXTERNAL('Qual')\n                   ^"},
		{`EXTERNAL('Qual')`, nest(5), false,
			"qualification:1:1: EXTERNAL('Qual'): EXTERNAL('Qual'): EXTERNAL('Qual'): EXTERNAL('Qual'): the field's value is not a valid qualification: at column 1 of \"EXTERNAL('Qual')\": EXTERNAL nested more than 4 levels deep\nEXTERNAL('Qual')\n^"},
		{`EXTERNAL('Qual')`, map[string]any{"Qual": `'Priority' / ('Priority' - 1) = 1`}, false,
			"qualification:1:1: EXTERNAL('Qual'): at column 12 of \"'Priority' / ('Priority' - 1) = 1\": division by zero\nEXTERNAL('Qual')\n^"},
		{`EXTERNAL('Qual')`, map[string]any{}, false, ""}, // NULL: no qualification to meet
	}
	for _, tt := range tests {
		tt.rec["Priority"] = int64(1)
		got, err := evalAR(t, tt.src, true, tt.rec, nil)
		if tt.wantErr == "" {
			if err != nil || got != tt.want {
				t.Errorf("Eval(%q) = %v, %v; want %v", tt.src, got, err, tt.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("Eval(%q) = %v, want error %q", tt.src, got, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
			t.Errorf("Eval(%q) mismatch (-want +got):\n%s", tt.src, diff)
		}
	}
}

// TestExternalCache checks that EXTERNAL compiles each text once and that the
// cache is safe for concurrent evaluation.
func TestExternalCache(t *testing.T) {
	p, err := Compile(`EXTERNAL('Qual')`, Options{Schema: helpDeskSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				want := i%2 == 0
				q := `'Priority' = 1`
				if !want {
					q = `'Priority' = 2`
				}
				got, err := p.Eval(NewEnv(&Input{Operation: "create", After: map[string]any{"Qual": q, "Priority": int64(1)}}))
				if err != nil || got != want {
					t.Errorf("Eval with Qual %q = %v, %v", q, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	ext := findExternalCache(t, p)
	if n := len(ext.m); n != 2 {
		t.Errorf("cache holds %d compiled texts, want 2", n)
	}
}

// findExternalCache returns the cache of a program compiled with EXTERNAL: it is
// reached through compiling again with the same state, so tests compile through
// compile directly.
func findExternalCache(t *testing.T, p *Program) *externalCache {
	t.Helper()
	if p.ext == nil {
		t.Fatal("program has no EXTERNAL state")
	}
	return p.ext.cache
}

func TestDiaryText(t *testing.T) {
	d := DiaryValue{{Text: "a"}, {Text: "b"}}
	if got := d.Text(); got != "a\nb" {
		t.Errorf("Text() = %q", got)
	}
	if !strings.Contains(DiaryValue{{Text: "x"}}.Text(), "x") || (DiaryValue{}).Text() != "" {
		t.Error("Text of one or no entries")
	}
}

// arErrorCases are bad qualifications using AR's enumerations and types, compiled
// against helpDeskSchema, whose messages are pinned in testdata/artypes_errors.golden.
var arErrorCases = []string{
	`'Impact' = 1`,
	`'Impact' <= "2-Significant"`,
	`'State' = 2`,
	`'Cost' > 5`,
	`'Cost' LIKE "%EUR"`,
	`'Cost' + 1 = 2`,
	`'Cost.VALUE' = "EUR"`,
	`'Cost.TYPE' > 5 AND 'Cost.DATE' = "someday"`,
	`'Cost.usd' = 1`,
	`'Rate.VALUE' = 1`,
	`'Status-History.Resolved' = 1`,
	`'Status-History.Done.USER' = "x"`,
	`'Status-History.Resolved.TIME' = "soon"`,
	`'Status-History.Resolved.USER' LIKE 5`,
	`'Work Log' > $TIMESTAMP$`,
	`'Opens At' = "25:00"`,
	`'Due' < "2026-13-01"`,
	`EXTERNAL('Priority')`,
	`EXTERNAL('Nope')`,
	`EXTERNAL 'Qual'`,
	`EXTERNAL($USER$)`,
	`EXTERNAL('Qual'`,
	`EXTERNAL('Qual') = 1`,
	"'Impact' = 1000 AND\n  EXTERNAL('Qual') AND\n  'Cost.XYZ' > \"a\"",
}

func TestARErrorsGolden(t *testing.T) {
	compareGolden(t, "testdata/artypes_errors.golden", errorsReport(t, helpDeskSchema(t), arErrorCases))
}
