package qualification

import (
	"bytes"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Input is one event as the evaluator sees it (design §3 semantics).
type Input struct {
	Operation string         // "create", "update", "delete" (also "callback", "external": treated like create)
	Form      string         // $SCHEMA$
	Before    map[string]any // database values (nil on create); rules.Record converts implicitly
	After     map[string]any // values after the transaction (nil on delete)
	Set       []string       // fields set in the transaction; nil → fields whose value differs Before/After
	User      string         // $USER$
	Groups    []string       // $GROUPS$
	Server    string         // $SERVER$
	Now       time.Time      // $TIMESTAMP$, $DATE$, $TIME$, $WEEKDAY$... (from the event time: deterministic replay)

	// StatusHistory is the record's status history, keyed by option name of the
	// 'Status' field: what 'Status-History.Resolved.USER' and '.TIME' read.
	StatusHistory map[string]StatusEntry
}

// Env is an Input prepared once per event and evaluated against many Programs
// (all rules of a form). NewEnv does constant work; the per-transaction views
// (which fields were set, keyword values) are computed on first use.
//
// An Env may be shared by goroutines evaluating Programs concurrently. The
// Input and the maps it refers to must not be modified while the Env is in use.
type Env struct {
	op      string         // $OPERATION$: CREATE, SET or DELETE
	deleted bool           // operation is delete: plain refs read Before, TR is NULL
	cur     map[string]any // what 'F' reads
	db      map[string]any // what 'DB.F' reads (nil on create)
	after   map[string]any // what 'TR.F' reads when F was set
	owned   bool           // after is the Env's copy, changed by Assign (assign.go)
	in      *Input

	setOnce sync.Once
	set     map[string]struct{}

	kwOnce sync.Once
	kw     [kwCount]any // pre-boxed keyword values independent of the zone

	zone atomic.Pointer[zoneValues] // keyword values that depend on Options.Location

	slots atomic.Pointer[slotTable] // field values by schema index, for programs compiled with a schema
}

// maxSlotFields is the largest schema whose values an Env copies into a slot
// table. Programs compiled against larger schemas look fields up by name.
const maxSlotFields = 64

// slotTable holds an event's field values indexed like a schema's fields, so
// that the many programs of a form read them without hashing field names.
type slotTable struct {
	schema  *Schema
	cur, db []any
	trOnce  sync.Once
	tr      []any
}

// table returns the slot table of schema s, building it on first use. Two
// goroutines may build it at once; each gets a complete table.
func (e *Env) table(s *Schema) *slotTable {
	if t := e.slots.Load(); t != nil && t.schema == s {
		return t
	}
	n := len(s.Fields)
	t := &slotTable{schema: s, cur: make([]any, n), db: make([]any, n)}
	for i := range s.Fields {
		name := s.Fields[i].Name
		if e.cur != nil {
			t.cur[i] = e.cur[name]
		}
		if e.db != nil {
			t.db[i] = e.db[name]
		}
	}
	e.slots.Store(t)
	return t
}

// trValues returns the TR. values of the table's fields: the value after the
// transaction if the field was set in it, else nil.
func (t *slotTable) trValues(e *Env) []any {
	t.trOnce.Do(func() {
		t.tr = make([]any, len(t.schema.Fields))
		for i := range t.schema.Fields {
			if name := t.schema.Fields[i].Name; e.isSet(name) {
				t.tr[i] = e.after[name]
			}
		}
	})
	return t.tr
}

// zoneValues caches the zone-dependent keyword values for one location.
type zoneValues struct {
	loc           *time.Location
	date, weekday any // time.Time at midnight; day name
	timeOfDay     any // int64 seconds since midnight
}

// Indexes of Env.kw.
const (
	kwUser = iota
	kwTimestamp
	kwSchema
	kwServer
	kwOperation
	kwGroups
	kwCount
)

// NewEnv prepares in for evaluation. It is cheap: no map is copied.
func NewEnv(in *Input) *Env {
	e := &Env{in: in, cur: in.After, after: in.After, db: in.Before}
	switch strings.ToLower(in.Operation) {
	case "delete":
		e.op, e.deleted, e.cur, e.after = "DELETE", true, in.Before, nil
	case "update", "set":
		e.op = "SET"
	default: // create, callback, external
		e.op, e.db = "CREATE", nil
	}
	return e
}

// isSet reports whether field name was set in the transaction.
func (e *Env) isSet(name string) bool {
	if e.deleted {
		return false
	}
	e.setOnce.Do(e.computeSet)
	_, ok := e.set[name]
	return ok
}

func (e *Env) computeSet() {
	if e.in.Set != nil {
		e.set = make(map[string]struct{}, len(e.in.Set))
		for _, f := range e.in.Set {
			e.set[f] = struct{}{}
		}
		return
	}
	e.set = make(map[string]struct{})
	for k, v := range e.after {
		if !sameValue(v, e.db[k]) {
			e.set[k] = struct{}{}
		}
	}
}

// sameValue reports whether two record values are equal; times compare as instants.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	}
	return reflect.DeepEqual(a, b)
}

// keyword returns the pre-boxed value of a zone-independent keyword.
func (e *Env) keyword(i int) any {
	e.kwOnce.Do(func() {
		e.kw[kwUser] = e.in.User
		e.kw[kwTimestamp] = e.in.Now
		e.kw[kwSchema] = e.in.Form
		e.kw[kwServer] = e.in.Server
		e.kw[kwOperation] = e.op
		if len(e.in.Groups) > 0 {
			e.kw[kwGroups] = ";" + strings.Join(e.in.Groups, ";") + ";"
		} else {
			e.kw[kwGroups] = ""
		}
	})
	return e.kw[i]
}

// zoned returns the keyword values that depend on the zone loc.
func (e *Env) zoned(loc *time.Location) *zoneValues {
	if z := e.zone.Load(); z != nil && z.loc == loc {
		return z
	}
	now := e.in.Now.In(loc)
	y, m, d := now.Date()
	z := &zoneValues{
		loc:       loc,
		date:      time.Date(y, m, d, 0, 0, 0, 0, loc),
		weekday:   now.Weekday().String(),
		timeOfDay: int64(now.Hour()*3600 + now.Minute()*60 + now.Second()),
	}
	e.zone.Store(z)
	return z
}
