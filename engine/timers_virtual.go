package engine

import (
	"fmt"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// VirtualClock runs the time-based rules of handled events on a virtual clock, in
// memory, as `ruleflow replay` does: events arm timers exactly as Handle arms them
// in the store (same anchors, re-arming, cancelling and snapshots), and Advance
// fires the timers due before a time in due order, evaluated and rendered as the
// timer loop does, without storing or delivering anything. It is not safe for
// concurrent use.
type VirtualClock struct {
	e       *Engine
	timers  map[store.TimerKey]*virtualTimer
	records map[store.RecordKey][]byte
	now     time.Time // the latest event or due time the clock has seen
}

type virtualTimer struct {
	store.Timer
	tag string // what armed it, as Observe was told
}

// VirtualFiring is one timer that fell due on a VirtualClock.
type VirtualFiring struct {
	Rule, Form, EntryID string
	Due                 time.Time // the due time, which is also $TIMESTAMP$
	Repetition          int       // 0 for the first firing
	ArmedBy             string    // the tag Observe was given when the timer was armed
	// Result is what the rule fired (one match, its callouts rendered), or nil when
	// it did not fire; Cause then says why ("condition false", "record not found").
	Result *Result
	Cause  string
	// Event is the time event the rule was evaluated on.
	Event *rules.Event
}

// NewVirtualClock returns an empty virtual clock for the engine's rules.
func (e *Engine) NewVirtualClock() *VirtualClock {
	return &VirtualClock{e: e, timers: map[store.TimerKey]*virtualTimer{}, records: map[store.RecordKey][]byte{}}
}

// Observe arms, re-arms or cancels the timers of an event that Handle returned res
// for; tag names what armed them (the fixture's file:line, for replay). A rejected
// event changes nothing.
func (v *VirtualClock) Observe(res *Result, tag string) {
	if res == nil || res.final == nil || res.Rejected != nil {
		return
	}
	if res.final.Time.After(v.now) {
		v.now = res.final.Time
	}
	a := v.e.armingFor(v.e.cfg.Load(), res.final, nil)
	if a == nil {
		return
	}
	for _, k := range a.Forget {
		delete(v.records, k)
		for tk := range v.timers {
			if tk.Form == k.Form && tk.EntryID == k.EntryID {
				delete(v.timers, tk)
			}
		}
	}
	for _, s := range a.Snapshots {
		v.records[store.RecordKey{Form: s.Form, EntryID: s.EntryID}] = s.Data
	}
	for _, k := range a.Disarm {
		delete(v.timers, k)
	}
	for _, t := range a.Arm {
		k := store.TimerKey{Rule: t.Rule, Form: t.Form, EntryID: t.EntryID}
		if old, ok := v.timers[k]; ok && old.Anchor.Equal(t.Anchor) && old.Offset == t.Offset {
			continue // the same anchor: left as it is, as in the store
		}
		t.State, t.Repetition = store.TimerArmed, 0
		v.timers[k] = &virtualTimer{Timer: t, tag: tag}
	}
}

// Advance fires, in due order, every armed timer due before until (or at until too,
// when inclusive), calling fn for each; the clock reads the due time of each firing
// while it is made (or the last event's time, for a timer armed already due), so a
// repeating timer's later repetitions fire in order too. It stops at fn's first
// error.
func (v *VirtualClock) Advance(until time.Time, inclusive bool, fn func(VirtualFiring) error) error {
	for {
		var next *virtualTimer
		for _, t := range v.timers {
			if t.State != store.TimerArmed {
				continue
			}
			if next == nil || t.Timer.Before(&next.Timer) {
				next = t
			}
		}
		if next == nil || next.DueAt.After(until) || !inclusive && next.DueAt.Equal(until) {
			return nil
		}
		f, err := v.fire(next)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
	}
}

func (v *VirtualClock) fire(t *virtualTimer) (VirtualFiring, error) {
	f := VirtualFiring{Rule: t.Rule, Form: t.Form, EntryID: t.EntryID, Due: t.DueAt, Repetition: t.Repetition, ArmedBy: t.tag}
	var d timerDecision
	data, ok := v.records[store.RecordKey{Form: t.Form, EntryID: t.EntryID}]
	if !ok {
		d.cause = "record not found"
	} else {
		rec, err := decodeSnapshot(data)
		if err != nil {
			return f, fmt.Errorf("engine: virtual clock: %w", err)
		}
		if t.DueAt.After(v.now) {
			v.now = t.DueAt
		}
		// A timer armed already due fires once, at the clock's time, and its series
		// resumes after it, as the timer loop does.
		if d, err = v.e.decideTimer(v.e.cfg.Load(), t.Timer, rec, v.now); err != nil {
			return f, err
		}
	}
	f.Result, f.Cause = d.res, d.cause
	if d.res != nil {
		f.Event = d.res.final
		t.Fired++
	}
	if d.next.IsZero() {
		t.State = store.TimerDone
	} else {
		t.DueAt, t.Repetition = d.next, d.rep
	}
	return f, nil
}
