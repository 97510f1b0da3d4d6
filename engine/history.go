package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// This file holds the event history: for every event handled with a store (and
// history not turned off by `history: {keep: 0}`), one record saying which rules
// were evaluated and how (true, false, error), which callouts fired (with their
// delivery IDs) or were skipped and why, what the rules set and whether the save was
// rejected. An event that enqueues jobs has its record written in the same
// transaction as its jobs; an event that enqueues nothing (no rule fired, or the
// save was rejected) has its record queued for the next group commit without
// Handle waiting for it, so such a Handle still does no I/O of its own.

// HistoryEntry is the history of one handled event, as GET /v1/history and
// `ruleflow history` show it.
type HistoryEntry struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"` // when the engine handled the event
	Kind    string    `json:"kind"`
	Form    string    `json:"form"`
	EntryID string    `json:"entry_id"`
	// Rules are the rules the event was run through, in execution order. For a
	// rejected event only the rule that rejected it (and any whose condition could
	// not be evaluated) are listed: the rejection ends the run.
	Rules []HistoryRule `json:"rules"`
	// Callouts are the callouts of those rules, in rule order: fired with their
	// delivery ID, or skipped with the reason.
	Callouts []HistoryCallout `json:"callouts"`
	// Set holds the values the rules set, field → final value (as SetJSON).
	Set json.RawMessage `json:"set"`
	// Rejected is the rule that refused the save, or nil.
	Rejected *rules.Rejection `json:"rejected"`
	// Limited lists the changes the cascade limits stopped.
	Limited []rules.Limit `json:"limited,omitempty"`
	// Timer is the timer of an entry of kind "time" (a time-based rule's firing
	// decision), nil for other kinds.
	Timer *HistoryTimer `json:"timer,omitempty"`
}

// The outcomes of a rule in a HistoryRule.
const (
	OutcomeTrue  = "true"
	OutcomeFalse = "false"
	OutcomeError = "error"
)

// HistoryRule is how one rule came out for an event.
type HistoryRule struct {
	Name    string `json:"name"`
	Outcome string `json:"outcome"`         // true, false or error
	Error   string `json:"error,omitempty"` // for outcome error: why it could not be evaluated
	// Reason is "inactive" for a rule switched off, "rule removed" or "record not
	// found" for a timer's rule that was not evaluated (the outcome is false).
	Reason string `json:"reason,omitempty"`
}

// HistoryCallout is one callout of a rule, fired or skipped.
type HistoryCallout struct {
	Name       string `json:"name"`
	Rule       string `json:"rule"`
	DeliveryID string `json:"delivery_id,omitempty"`
	Skipped    bool   `json:"skipped"`
	// Reason says why it was skipped: "rule false", "rule error", "rule inactive",
	// "inactive" (the callout), "udf NAME empty", "event rejected", "batch rejected"
	// (another event of the batch was), or "render error: …" (a delivery that fails
	// unsent; DeliveryID names it).
	Reason string `json:"reason,omitempty"`
}

// historyDoc is the record stored in the history table's doc column, written by
// appendJSON (historydoc.go) in a compact JSON form.
type historyDoc struct {
	// D marks a record relative to a rule list (store.HistoryRecord.RulesID): R
	// then holds only the rules that held or failed, by index (docRule.I), and
	// every other rule of the list did not hold.
	D bool
	R []docRule        // every rule listed, in order
	C []docCallout     // the callouts of the rules that held
	S json.RawMessage  // values set
	X *rules.Rejection // the rejection
	L []rules.Limit    // the changes the cascade limits stopped
	B bool             // another event of the batch was rejected: nothing fired
	T *docTimer        // the timer of a time firing (timerhistory.go)
}

// docRule is a rule: O is t (true), f (false), e (error, with E), i (inactive)
// or n (not evaluated, E saying why: a timer's rule removed or record gone);
// C are the callouts of a rule that did not hold (those of one that held are in
// historyDoc.C).
type docRule struct {
	N, O, E string
	C       []string
	I       int // in a record relative to a rule list: the rule's index in it
}

// ruleList is the list of rules (with their callouts) that events of one form
// and kind are run through under one configuration, stored once
// (store.PutHistoryRules) so each record names only the rules that held.
type ruleList struct {
	id     string
	doc    []byte
	stored atomic.Bool
}

// minRuleList is the fewest rules for which records refer to a stored rule list;
// below it a record lists every rule itself.
const minRuleList = 4

// ruleListFor returns the stored rule list of (form, kind) under state, storing it
// first if this engine has not yet; nil when there are few rules, or when it could
// not be stored (the record then lists every rule itself).
func (e *Engine) ruleListFor(ctx context.Context, state *configState, ev *rules.Event, all []*rules.Rule) *ruleList {
	if len(all) < minRuleList {
		return nil
	}
	key := ev.Form + "\x00" + string(ev.Kind)
	v, ok := state.histRules.Load(key)
	if !ok {
		d := historyDoc{R: make([]docRule, len(all))}
		for i, r := range all {
			d.R[i] = docRule{N: r.Name, O: "f", C: r.Callouts}
			if !r.IsActive() {
				d.R[i].O = "i"
			}
		}
		doc, err := d.appendJSON(nil)
		if err != nil {
			e.log.Warn("engine: history rule list not encoded", "form", ev.Form, "event", ev.Kind, "error", err)
			return nil
		}
		sum := sha256.Sum256(doc)
		v, _ = state.histRules.LoadOrStore(key, &ruleList{id: "rl_" + hex.EncodeToString(sum[:16]), doc: doc})
	}
	rl := v.(*ruleList)
	if !rl.stored.Load() {
		if err := e.store.PutHistoryRules(ctx, rl.id, rl.doc, e.now()); err != nil {
			e.log.Warn("engine: history rule list not stored; the record lists every rule", "form", ev.Form, "event", ev.Kind, "error", err)
			return nil
		}
		rl.stored.Store(true)
	}
	return rl
}

// docCallout is a callout of a rule that held: D its delivery, S why it was
// skipped (inactive, udf empty, render error).
type docCallout struct {
	N, R, D, S string
}

// historyOn reports whether events handled under state get a history record.
func (e *Engine) historyOn(state *configState) bool {
	return e.store != nil && state.cfg.HistoryKeep() > 0
}

// historyRecord builds the history record of ev (with its time set), decided as
// res with jobs (their IDs assigned, callouts first in res.Fired order).
// batchRejected means another event of its batch was rejected, so nothing fired.
func (e *Engine) historyRecord(ctx context.Context, state *configState, ev *rules.Event, res *Result, jobs []store.Job, batchRejected bool, now time.Time) (store.HistoryRecord, error) {
	doc := historyDoc{X: res.Rejected, L: res.Limited, B: batchRejected && res.Rejected == nil}
	errs := rules.RuleErrors(res.RuleErrors)
	// The rules that held, each with the index of its first callout in res.Fired
	// and jobs (Matches are in firing order, which a cascade can make differ from
	// the execution order the rules are listed in).
	type heldRule struct {
		m     *rules.Match
		first int
	}
	held := make(map[*rules.Rule]heldRule, len(res.Matches))
	n := 0
	for i := range res.Matches {
		held[res.Matches[i].Rule] = heldRule{&res.Matches[i], n}
		n += len(res.Matches[i].Fire)
	}
	all := state.cfg.RulesFor(ev.Form, ev.Kind)
	rl := e.ruleListFor(ctx, state, ev, all)
	rulesID := ""
	if rl != nil {
		doc.D, rulesID = true, rl.id
		doc.R = make([]docRule, 0, len(res.Matches)+len(errs))
	} else {
		doc.R = make([]docRule, 0, len(all))
	}
	for i, r := range all {
		if h, ok := held[r]; ok {
			m, fired := h.m, h.first
			doc.R = append(doc.R, docRule{N: r.Name, O: "t", I: i})
			if res.Rejected != nil {
				for _, c := range r.Targets {
					doc.C = append(doc.C, docCallout{N: c.Name, R: r.Name, S: "event rejected"})
				}
				continue
			}
			for _, c := range m.Fire {
				dc := docCallout{N: c.Name, R: r.Name}
				if fired < len(res.Fired) {
					f := res.Fired[fired]
					if f.RenderError != "" {
						dc.S = "render error: " + f.RenderError
					}
					if fired < len(jobs) && !batchRejected {
						dc.D = jobs[fired].ID
					}
				}
				if batchRejected && res.Rejected == nil {
					dc.S = "batch rejected"
				}
				fired++
				doc.C = append(doc.C, dc)
			}
			for _, s := range m.Skipped {
				doc.C = append(doc.C, docCallout{N: s.Callout.Name, R: r.Name, S: s.Reason})
			}
			continue
		}
		dr := docRule{N: r.Name, O: "f", C: r.Callouts, I: i}
		switch re := errs[r.Name]; {
		case re != nil:
			dr.O, dr.E = "e", re.Err.Error()
		case doc.D:
			continue // did not hold: the rule list says so
		case res.Rejected != nil:
			continue // not run to the end: the rejection stopped it
		case !r.IsActive():
			dr.O = "i"
		}
		doc.R = append(doc.R, dr)
	}
	if len(res.Set) > 0 {
		doc.S = SetJSON(res.Set, state.cfg.Location)
	}
	b, err := doc.appendJSON(make([]byte, 0, 256+24*len(doc.R)+64*len(doc.C)))
	if err != nil {
		return store.HistoryRecord{}, fmt.Errorf("engine: encode history: %w", err)
	}
	return store.HistoryRecord{
		ID: store.NewID(store.HistoryIDPrefix, now), CreatedAt: now,
		Form: ev.Form, EntryID: ev.EntryID, EventKind: string(ev.Kind), Doc: b, RulesID: rulesID,
	}, nil
}

// historyOf returns the history records of a batch's events (evs: nil when
// history is off). The history never fails an event: a record that cannot be
// built is logged and left out.
func (e *Engine) historyOf(ctx context.Context, state *configState, evs []*rules.Event, results []*Result, jobsOf [][]store.Job, rejected bool) []store.HistoryRecord {
	if evs == nil {
		return nil
	}
	now := e.now()
	out := make([]store.HistoryRecord, 0, len(evs))
	for i, ev := range evs {
		rec, err := e.historyRecord(ctx, state, ev, results[i], jobsOf[i], rejected, now)
		if err != nil {
			e.log.Error("engine: event history not recorded", "form", ev.Form, "entry_id", ev.EntryID, "event", ev.Kind, "error", err)
			continue
		}
		out = append(out, rec)
	}
	return out
}

// appendHistory queues the history of events that enqueued nothing. A failure
// loses only that history, never an event's work: it is logged.
func (e *Engine) appendHistory(ctx context.Context, hist []store.HistoryRecord) {
	if len(hist) == 0 {
		return
	}
	if err := e.store.AppendHistory(ctx, hist); err != nil {
		e.log.Warn("engine: event history not recorded", "events", len(hist), "error", err)
	}
}

// DecodeHistory turns a stored history record into the entry the API shows.
func DecodeHistory(rec store.HistoryRecord) (HistoryEntry, error) {
	doc, err := decodeHistoryDoc(rec.Doc)
	if err == nil && doc.D {
		err = doc.expand(rec)
	}
	if err != nil {
		return HistoryEntry{}, fmt.Errorf("engine: history %s: %w", rec.ID, err)
	}
	h := HistoryEntry{
		ID: rec.ID, Time: rec.CreatedAt, Kind: rec.EventKind, Form: rec.Form, EntryID: rec.EntryID,
		Rules: make([]HistoryRule, 0, len(doc.R)), Callouts: []HistoryCallout{},
		Set: doc.S, Rejected: doc.X, Limited: doc.L,
	}
	h.Timer = historyTimer(doc.T, len(doc.R) > 0 && doc.R[0].O == "t")
	if len(h.Set) == 0 {
		h.Set = json.RawMessage("{}")
	}
	next := 0 // into doc.C, which holds the held rules' callouts in rule order
	for _, r := range doc.R {
		hr := HistoryRule{Name: r.N, Outcome: OutcomeFalse}
		reason := "rule false"
		switch r.O {
		case "t":
			hr.Outcome = OutcomeTrue
			for next < len(doc.C) && doc.C[next].R == r.N {
				c := doc.C[next]
				h.Callouts = append(h.Callouts, HistoryCallout{Name: c.N, Rule: c.R, DeliveryID: c.D, Skipped: c.S != "", Reason: c.S})
				next++
			}
			h.Rules = append(h.Rules, hr)
			continue
		case "e":
			hr.Outcome, hr.Error, reason = OutcomeError, r.E, "rule error"
		case "i":
			hr.Reason, reason = "inactive", "rule inactive"
		case "n":
			hr.Reason, reason = r.E, r.E
		}
		h.Rules = append(h.Rules, hr)
		for _, c := range r.C {
			h.Callouts = append(h.Callouts, HistoryCallout{Name: c, Rule: r.N, Skipped: true, Reason: reason})
		}
	}
	return h, nil
}

// History returns the history entries f selects, newest first. It fails when the
// engine runs without a store.
func (e *Engine) History(ctx context.Context, f store.HistoryFilter) ([]HistoryEntry, error) {
	if e.store == nil {
		return nil, errors.New("engine: history: the engine runs without a store")
	}
	recs, err := e.store.History(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]HistoryEntry, 0, len(recs))
	for _, r := range recs {
		h, err := DecodeHistory(r)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// historyPurgeBatch bounds the records one purge transaction deletes.
const historyPurgeBatch = 1000

// The purge schedule: first shortly after Open, then at every interval.
const (
	historyPurgeFirst    = time.Minute
	historyPurgeInterval = 10 * time.Minute
)

// PurgeHistory deletes the history records older than the configuration's
// history keep (all of them when keep is 0), in transactions of at most 1,000
// records, and returns how many it deleted. The engine runs it in the background
// every 10 minutes; it is safe to run on several nodes at once.
func (e *Engine) PurgeHistory(ctx context.Context) (int64, error) {
	if e.store == nil {
		return 0, nil
	}
	cutoff := e.now().Add(-e.cfg.Load().cfg.HistoryKeep())
	var total int64
	for {
		n, err := e.store.PurgeHistory(ctx, cutoff, historyPurgeBatch)
		total += n
		if err != nil || n < historyPurgeBatch {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// startHistoryPurge runs PurgeHistory in the background until stop is called.
func (e *Engine) startHistoryPurge() (stop func()) {
	return e.startHistoryPurgeEvery(historyPurgeFirst, historyPurgeInterval)
}

// startHistoryPurgeEvery runs PurgeHistory after first, then at every interval.
func (e *Engine) startHistoryPurgeEvery(first, interval time.Duration) (stop func()) {
	return runEvery(first, interval, func(ctx context.Context) {
		if n, err := e.PurgeHistory(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("engine: history purge failed", "deleted", n, "error", err)
		} else if n > 0 {
			e.log.Debug("engine: history purged", "deleted", n)
		}
	})
}
