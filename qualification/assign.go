package qualification

import "maps"

// Assign applies one Set Fields value to the Env, as a rule's set action does
// between the evaluations of a save hook: field name's value after the
// transaction becomes v, and the field counts as set in the transaction (its
// 'TR.' value is v). The Env's views are updated in place, so that programs
// evaluated afterwards see the value without the record being read again.
//
// The first Assign copies the after-values (the Input's map is the caller's
// and is not modified); AfterValues returns the copy. Assign must not run
// while the Env is evaluated by another goroutine. On a delete event, which has
// no after-values, it does nothing.
func (e *Env) Assign(name string, v any) {
	if e.deleted {
		return
	}
	// The set fields and the TR. values are derived lazily from the values as
	// the Env was made: derive them now, before a value changes under them.
	e.setOnce.Do(e.computeSet)
	t := e.slots.Load()
	if t != nil {
		t.trValues(e)
	}
	if !e.owned {
		e.after = maps.Clone(e.after)
		if e.after == nil {
			e.after = map[string]any{}
		}
		e.cur, e.owned = e.after, true
	}
	e.after[name] = v
	e.set[name] = struct{}{}
	if t != nil {
		if i, ok := t.schema.byName[name]; ok {
			t.cur[i], t.tr[i] = v, v
		}
	}
}

// AfterValues returns the after-values the Env reads: the Input's, or the
// Env's own copy once Assign has changed a value. The map must not be modified.
func (e *Env) AfterValues() map[string]any { return e.after }
