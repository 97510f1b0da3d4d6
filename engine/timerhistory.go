package engine

import (
	"strconv"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
)

// The event history of time firings: every decision the timer loop records about
// a due timer (fired, with its delivery IDs, or not fired: condition false, error,
// rule inactive or removed, record not found) gets one history record of kind
// "time", stored in the transaction that marks the timer fired and enqueues its
// deliveries (store.TimerFiring.History). The record lists the timer's rule alone
// (a time firing runs no other rule) and its callouts, and says which timer: due
// time, anchor value, repetition, and the next due time of a repeating timer.

// HistoryTimer is the timer of a history entry of kind "time".
type HistoryTimer struct {
	Due        time.Time `json:"due"`        // when the timer fell due ($TIMESTAMP$ of the evaluation)
	Anchor     time.Time `json:"anchor"`     // the anchor field's value it was armed for
	Repetition int       `json:"repetition"` // which firing of the series, from 0
	Fired      bool      `json:"fired"`
	// Reason says why it did not fire: "condition false", "rule inactive",
	// "rule removed", "record not found" or "condition not evaluated: …".
	Reason string     `json:"reason,omitempty"`
	Next   *time.Time `json:"next,omitempty"` // the next repetition's due time, if one is armed
}

// docTimer is a HistoryTimer in a historyDoc.
type docTimer struct {
	Due, Anchor, Next time.Time
	Rep               int
	Why               string
}

// The reasons a timer rule was not evaluated, in HistoryRule.Reason (outcome
// false) and the callouts' skip reason.
const (
	reasonRuleRemoved    = "rule removed"
	reasonRecordNotFound = "record not found"
)

// timerHistory builds the history record of the decision d about timer t, taken
// at now under state.
func (e *Engine) timerHistory(state *configState, t store.Timer, d timerDecision, now time.Time) (store.HistoryRecord, error) {
	dt := &docTimer{Due: t.DueAt, Anchor: t.Anchor, Next: d.next, Rep: t.Repetition, Why: d.cause}
	doc := historyDoc{T: dt}
	r := state.cfg.TimeRule(t.Form, t.Rule)
	switch {
	case d.res != nil:
		m := &d.res.Matches[0]
		doc.R = []docRule{{N: t.Rule, O: "t"}}
		doc.C = make([]docCallout, 0, len(m.Fire)+len(m.Skipped))
		for k, c := range m.Fire {
			dc := docCallout{N: c.Name, R: t.Rule}
			if k < len(d.res.Fired) && d.res.Fired[k].RenderError != "" {
				dc.S = "render error: " + d.res.Fired[k].RenderError
			}
			if k < len(d.jobs) {
				dc.D = d.jobs[k].ID
			}
			doc.C = append(doc.C, dc)
		}
		for _, s := range m.Skipped {
			doc.C = append(doc.C, docCallout{N: s.Callout.Name, R: t.Rule, S: s.Reason})
		}
	case r == nil:
		dt.Why = reasonRuleRemoved
		doc.R = []docRule{{N: t.Rule, O: "n", E: reasonRuleRemoved}}
	case d.cause == reasonRecordNotFound:
		doc.R = []docRule{{N: t.Rule, O: "n", E: reasonRecordNotFound, C: r.Callouts}}
	case d.evalErr != "":
		doc.R = []docRule{{N: t.Rule, O: "e", E: d.evalErr, C: r.Callouts}}
	case !r.IsActive():
		dt.Why = "rule inactive"
		doc.R = []docRule{{N: t.Rule, O: "i", C: r.Callouts}}
	default:
		doc.R = []docRule{{N: t.Rule, O: "f", C: r.Callouts}}
	}
	b, err := doc.appendJSON(make([]byte, 0, 192+64*len(doc.C)))
	if err != nil {
		return store.HistoryRecord{}, err
	}
	return store.HistoryRecord{ID: store.NewID(store.HistoryIDPrefix, now), CreatedAt: now,
		Form: t.Form, EntryID: t.EntryID, EventKind: "time", Doc: b}, nil
}

// appendJSON appends the stored form of t: {"due":…,"anchor":…,"rep":N,"next":…,"why":…}.
func (t *docTimer) appendJSON(b []byte) []byte {
	b = append(b, `{"due":"`...)
	b = t.Due.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","anchor":"`...)
	b = t.Anchor.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","rep":`...)
	b = strconv.AppendInt(b, int64(t.Rep), 10)
	if !t.Next.IsZero() {
		b = append(b, `,"next":"`...)
		b = t.Next.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	if t.Why != "" {
		b = append(b, `,"why":`...)
		b = appendJSONString(b, t.Why)
	}
	return append(b, '}')
}

// storedTimer is the stored form of a docTimer as encoding/json reads it.
type storedTimer struct {
	Due    time.Time `json:"due"`
	Anchor time.Time `json:"anchor"`
	Rep    int       `json:"rep"`
	Next   time.Time `json:"next"`
	Why    string    `json:"why"`
}

// historyTimer is the HistoryTimer of a decoded doc timer (nil for none).
func historyTimer(t *docTimer, fired bool) *HistoryTimer {
	if t == nil {
		return nil
	}
	h := &HistoryTimer{Due: t.Due, Anchor: t.Anchor, Repetition: t.Rep, Fired: fired, Reason: t.Why}
	if !t.Next.IsZero() {
		next := t.Next
		h.Next = &next
	}
	return h
}

// timerHistoryOf is timerHistory for decideDue: a record that cannot be built is
// logged and left out (nil); the firing goes on without it.
func (e *Engine) timerHistoryOf(state *configState, t store.Timer, d timerDecision, now time.Time) *store.HistoryRecord {
	rec, err := e.timerHistory(state, t, d, now)
	if err != nil {
		e.log.Error("engine: event history not recorded", "form", t.Form, "entry_id", t.EntryID, "event", "time", "rule", t.Rule, "error", err)
		return nil
	}
	return &rec
}
