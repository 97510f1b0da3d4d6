package qualification

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// sel is a selection field definition for test schemas.
func sel(name string, id int64, options ...string) Field {
	return Field{Name: name, ID: id, Type: Selection, Options: options}
}

func fld(name string, id int64, t FieldType) Field { return Field{Name: name, ID: id, Type: t} }

func mustSchema(tb testing.TB, name string, fields ...Field) *Schema {
	tb.Helper()
	s, err := NewSchema(name, fields)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// ticketSchema is the form most tests compile against.
func ticketSchema(tb testing.TB) *Schema {
	return mustSchema(tb, "Ticket",
		fld("Request ID", 1, Character),
		fld("Submitter", 2, Character),
		fld("Create-date", 3, DateTime),
		fld("Modified Date", 6, DateTime),
		sel("Status", 7, "New", "Assigned", "In Progress", "Pending", "Resolved", "Closed", "Cancelled"),
		fld("Short Description", 8, Character),
		fld("Priority", 9, Integer),
		fld("Cost", 10, Real),
		fld("Due Date", 11, Date),
		fld("Start Time", 12, Time),
		fld("Escalated", 13, Boolean),
		fld("Screenshot", 14, Attachment),
		fld("Cust. Remaining SLA", 15, Integer),
		fld("Assigned Group*+", 16, Character),
		sel("Urgency", 17, "1-Critical", "2-High", "3-Medium", "4-Low"),
		fld("Doug's Requests", 18, Character),
		fld("Create Date", 19, DateTime),
		fld("TR.Literal", 20, Character),
		fld("Assignee", 536870913, Character),
	)
}

// decodeRecord decodes a JSON object into record values: integers to int64,
// other numbers to float64, and RFC 3339 strings of date-time fields to time.Time.
func decodeRecord(tb testing.TB, s *Schema, js string) map[string]any {
	tb.Helper()
	if js == "" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(js)))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		tb.Fatalf("bad test record %s: %v", js, err)
	}
	rec := make(map[string]any, len(raw))
	for k, v := range raw {
		switch x := v.(type) {
		case json.Number:
			if i, err := x.Int64(); err == nil {
				rec[k] = i
			} else {
				f, _ := x.Float64()
				rec[k] = f
			}
		case string:
			rec[k] = x
			if s != nil {
				if f, ok := s.Field(k); ok && (f.Type == DateTime || f.Type == Date) {
					t, err := time.Parse(time.RFC3339, x)
					if err != nil {
						tb.Fatalf("bad date-time %q in test record", x)
					}
					rec[k] = t
				}
			}
		default:
			rec[k] = v
		}
	}
	return rec
}

var testNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) // a Sunday
