package qualification

import (
	"fmt"
	"strconv"
	"strings"
)

// FieldType is the data type of a form field. It decides how literals compared with
// the field are converted (dates parsed, selection names mapped to indexes).
type FieldType int

// The field types a form may declare.
const (
	Character  FieldType = iota + 1 // text
	Integer                         // whole numbers (int64)
	Real                            // floating point (float64)
	Decimal                         // fixed point, held as float64
	DateTime                        // a point in time (time.Time)
	Date                            // a calendar date (time.Time at midnight in the config zone)
	Time                            // a time of day, in seconds since midnight (int64)
	Selection                       // an enumeration: option names with integer values
	Attachment                      // a file; only presence tests apply
	Boolean                         // true or false
	Currency                        // a *CurrencyValue: amount, currency code, conversion date, functional amounts
	Diary                           // a Diary: time-stamped text entries, compared as their joined text
)

var fieldTypeNames = map[FieldType]string{
	Character: "character", Integer: "integer", Real: "real", Decimal: "decimal",
	DateTime: "datetime", Date: "date", Time: "time", Selection: "selection",
	Attachment: "attachment", Boolean: "bool", Currency: "currency", Diary: "diary",
}

// String returns the configuration spelling of t, such as "datetime".
func (t FieldType) String() string {
	if s, ok := fieldTypeNames[t]; ok {
		return s
	}
	return "FieldType(" + strconv.Itoa(int(t)) + ")"
}

// ParseFieldType returns the field type spelled s in a configuration file.
// "boolean" is accepted as Boolean.
func ParseFieldType(s string) (FieldType, error) {
	switch strings.ToLower(s) {
	case "boolean":
		return Boolean, nil
	}
	for t, name := range fieldTypeNames {
		if strings.EqualFold(s, name) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown field type %q (want character, diary, integer, real, decimal, currency, datetime, date, time, selection, attachment or bool)", s)
}

// Field describes one field of a form.
type Field struct {
	Name    string    // database name, as written in qualifications: 'Short Description'
	ID      int64     // numeric field ID, as written in qualifications: '8'
	Type    FieldType // data type
	Options []string  // selection option names, in declaration order
	Values  []int64   // the options' AR values (Values[i] is Options[i]'s); nil: an option's value is its position
}

// OptionIndex returns the position in Options of the selection option named name, or -1.
func (f *Field) OptionIndex(name string) int {
	for i, o := range f.Options {
		if o == name {
			return i
		}
	}
	return -1
}

// OptionValue returns the value of the option at position i of Options: Values[i],
// or i when the field declares no values.
func (f *Field) OptionValue(i int) int64 {
	if f.Values != nil {
		return f.Values[i]
	}
	return int64(i)
}

// OptionByValue returns the position in Options of the option whose value is v, or -1.
func (f *Field) OptionByValue(v int64) int {
	if f.Values == nil {
		if v >= 0 && v < int64(len(f.Options)) {
			return int(v)
		}
		return -1
	}
	for i, x := range f.Values {
		if x == v {
			return i
		}
	}
	return -1
}

// OptionValuesText lists the options with their values for messages, such as
// "New (0), Assigned (1), Closed (5)".
func (f *Field) OptionValuesText() string {
	var b strings.Builder
	for i, o := range f.Options {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(o)
		b.WriteString(" (")
		b.WriteString(strconv.FormatInt(f.OptionValue(i), 10))
		b.WriteString(")")
	}
	return b.String()
}

// Schema is the field catalogue of one form. Its zero value is not usable; build one
// with NewSchema. A Schema is immutable after construction and safe for concurrent use.
type Schema struct {
	Name   string
	Fields []Field // in declaration order

	byName map[string]int
	byID   map[int64]int
}

// NewSchema returns the schema of the form named name with the given fields.
// Field names and IDs must be unique, and a field with Values has one per option; an ID of 0 means the field has no ID.
func NewSchema(name string, fields []Field) (*Schema, error) {
	s := &Schema{Name: name, Fields: fields, byName: make(map[string]int, len(fields)), byID: make(map[int64]int, len(fields))}
	for i, f := range fields {
		if f.Name == "" {
			return nil, fmt.Errorf("form %q: field %d has no name", name, i+1)
		}
		if f.Values != nil && len(f.Values) != len(f.Options) {
			return nil, fmt.Errorf("form %q: field %q has %d options but %d values", name, f.Name, len(f.Options), len(f.Values))
		}
		if _, dup := s.byName[f.Name]; dup {
			return nil, fmt.Errorf("form %q: duplicate field name %q", name, f.Name)
		}
		s.byName[f.Name] = i
		if f.ID != 0 {
			if j, dup := s.byID[f.ID]; dup {
				return nil, fmt.Errorf("form %q: fields %q and %q share ID %d", name, fields[j].Name, f.Name, f.ID)
			}
			s.byID[f.ID] = i
		}
	}
	return s, nil
}

// Field returns the field with the given database name.
func (s *Schema) Field(name string) (*Field, bool) {
	i, ok := s.byName[name]
	if !ok {
		return nil, false
	}
	return &s.Fields[i], true
}

// FieldByID returns the field with the given numeric ID.
func (s *Schema) FieldByID(id int64) (*Field, bool) {
	i, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	return &s.Fields[i], true
}

// NullMode selects how comparisons with NULL behave (design §3).
type NullMode int

// The NULL modes.
const (
	// Workflow treats NULL as "" or 0 in comparisons, except that = $NULL$ and
	// != $NULL$ test presence. It is the default.
	Workflow NullMode = iota
	// Search is three-valued: any comparison with NULL other than the presence
	// tests is false.
	Search
)

// ParseNullMode returns the mode spelled s ("workflow", "search"; "" is Workflow).
func ParseNullMode(s string) (NullMode, error) {
	switch strings.ToLower(s) {
	case "", "workflow":
		return Workflow, nil
	case "search":
		return Search, nil
	}
	return 0, fmt.Errorf("unknown nulls mode %q (want workflow or search)", s)
}

// String returns the configuration spelling of m.
func (m NullMode) String() string {
	if m == Search {
		return "search"
	}
	return "workflow"
}
