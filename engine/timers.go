package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// Time-based rules (events: [time], issue 12). Every create or update of a record
// of a form with time rules stores the record's values (its snapshot) and arms one
// timer per time rule, due at the anchor field's value plus the rule's offset, in
// the transaction that stores the save's deliveries (store.EnqueueArming). A delete
// forgets the record's timers and snapshot. The timer loop claims due timers under
// a lease, evaluates each rule against the snapshot (or the host's Lookup) with
// $TIMESTAMP$ = the due time, and records the firing with its deliveries and its
// event history record (timerhistory.go) in one transaction (store.FireTimers):
// each (rule, record, anchor value, repetition) fires exactly once, across kill -9
// and several nodes.

// RecordLookup is implemented by a host that prefers to give the engine the fresh
// values of a record when one of its timers falls due, instead of the snapshot the
// engine kept from the record's last save. Lookup returns ErrRecordNotFound (or an
// error wrapping it) when the record no longer exists: its timer then ends without
// firing. Any other error leaves the timer due; it is tried again when its lease
// (Options.Lease) ends.
type RecordLookup interface {
	Lookup(ctx context.Context, form, entryID string) (rules.Record, error)
}

// LookupEnabler is the optional second method of a RecordLookup whose lookups can
// be switched off (by a configuration reload, say); while LookupEnabled reports
// false the snapshot is used.
type LookupEnabler interface {
	LookupEnabled() bool
}

func lookupEnabled(lk RecordLookup) bool {
	le, ok := lk.(LookupEnabler)
	return !ok || le.LookupEnabled()
}

// ErrRecordNotFound is what a RecordLookup returns for a record that is gone.
var ErrRecordNotFound = errors.New("record not found")

// LateAfter is how far behind its due time a firing is logged with late=true.
const LateAfter = time.Second

// timerClaimBatch is the most timers one claim takes, and so one transaction
// records: a backlog (after a stall of the disk, say) is caught up in few commits.
const timerClaimBatch = 512

// timerCoalesce is the least time between two rounds of the timer loop (each
// round claims and fires everything due, in batches of up to timerClaimBatch per
// transaction): timers falling due in a steady stream are fired ≈ 20 batches a
// second instead of one transaction each, at the price of up to this much lag.
const timerCoalesce = 50 * time.Millisecond

// armedGaugeEvery is how many poll intervals pass between two recounts of the
// armed timers for the ruleflow_timers_armed gauge (a COUNT over the timers' index):
// every 10 s by default.
const armedGaugeEvery = 10

// CheckRunnable reports what this engine refuses to run in a configuration that
// rules.Load accepted, so that `ruleflow check` judges a file exactly as Open and
// Reload do. Time-based rules need a form schema (rules.Load checks that), and run
// with or without a store: without one (a dry run) they arm nothing.
func CheckRunnable(cfg *rules.Config) error { return nil }

// armBatch returns what the handled events change about timers: nil when the
// engine has no store or none of the events' forms has time rules.
func (e *Engine) armBatch(state *configState, results []*Result) *store.Arming {
	if e.store == nil {
		return nil
	}
	var a *store.Arming
	for _, res := range results {
		if res.final == nil {
			continue
		}
		a = e.armingFor(state, res.final, a)
	}
	return a
}

// armingFor adds what event ev (with the rules' values applied) changes about
// timers to a, allocating it on first use, and returns it. A create or update keeps
// the record's snapshot and arms each time rule of the form whose anchor is not
// NULL (disarming those whose anchor is); a delete forgets the record.
func (e *Engine) armingFor(state *configState, ev *rules.Event, a *store.Arming) *store.Arming {
	trs := state.cfg.TimeRules(ev.Form)
	if len(trs) == 0 {
		return a
	}
	if a == nil {
		a = newArming()
	}
	// The store applies an Arming's forgets, then its snapshots, disarms and arms;
	// within a batch a later event about the same record replaces what an earlier
	// one asked for, so that order gives each record its last event's outcome.
	rec := func(form, id string) bool { return form == ev.Form && id == ev.EntryID }
	switch ev.Kind {
	case rules.KindDelete:
		a.Arm = slices.DeleteFunc(a.Arm, func(t store.Timer) bool { return rec(t.Form, t.EntryID) })
		a.Disarm = slices.DeleteFunc(a.Disarm, func(k store.TimerKey) bool { return rec(k.Form, k.EntryID) })
		a.Snapshots = slices.DeleteFunc(a.Snapshots, func(sn store.Snapshot) bool { return rec(sn.Form, sn.EntryID) })
		a.Forget = append(a.Forget, store.RecordKey{Form: ev.Form, EntryID: ev.EntryID})
		return a
	case rules.KindCreate, rules.KindUpdate:
	default:
		return a
	}
	data, err := encodeSnapshot(make([]byte, 0, snapshotSize(ev.After)), ev.After)
	if err != nil {
		e.log.Error("engine: record not kept for its time rules; its timers are not armed", "form", ev.Form, "entry_id", ev.EntryID, "error", err)
		return a
	}
	a.Snapshots = append(a.Snapshots, store.Snapshot{Form: ev.Form, EntryID: ev.EntryID, Data: data})
	batched := len(a.Arm) > 0 || len(a.Disarm) > 0 // an earlier event of the batch may concern this record
	for _, r := range trs {
		key := store.TimerKey{Rule: r.Name, Form: ev.Form, EntryID: ev.EntryID}
		if batched {
			a.Arm = slices.DeleteFunc(a.Arm, func(t store.Timer) bool { return t.Rule == key.Rule && rec(t.Form, t.EntryID) })
			a.Disarm = slices.DeleteFunc(a.Disarm, func(k store.TimerKey) bool { return k == key })
		}
		anchor, due, ok := state.cfg.TimeDue(r, ev.After)
		if !ok {
			a.Disarm = append(a.Disarm, key)
			continue
		}
		t := store.Timer{Rule: r.Name, Form: ev.Form, EntryID: ev.EntryID, Anchor: anchor, Offset: r.At.Offset.Std(),
			Repetitions: r.Repetitions(), DueAt: due, ArmedBy: string(ev.Kind), ArmedAt: ev.Time}
		if r.Repeat != nil {
			t.Every = r.Repeat.Every.Std()
		}
		a.Arm = append(a.Arm, t)
	}
	return a
}

// armingAlloc is an Arming with room for the common case of one event arming
// one timer, allocated at once: Handle pays for one allocation instead of three.
type armingAlloc struct {
	a     store.Arming
	timer [1]store.Timer
	snap  [1]store.Snapshot
}

func newArming() *store.Arming {
	x := &armingAlloc{}
	x.a.Arm, x.a.Snapshots = x.timer[:0], x.snap[:0]
	return &x.a
}

// timerDecision is what one due timer comes to.
type timerDecision struct {
	res   *Result // nil when the condition did not hold (or the rule is gone)
	jobs  []store.Job
	next  time.Time // zero: the timer is done
	rep   int       // the repetition armed at next
	cause string    // why it did not fire: "condition false", "rule removed", ...
	// evalErr is why the condition could not be evaluated ("" if it was).
	evalErr string
}

// decideTimer evaluates the rule of timer t for record rec at its due time and
// renders what it fires, as a save would, without storing anything. now is the
// engine clock (for the next repetition).
func (e *Engine) decideTimer(state *configState, t store.Timer, rec rules.Record, now time.Time) (timerDecision, error) {
	var d timerDecision
	d.next, d.rep = nextRepetition(t, now)
	r := state.cfg.TimeRule(t.Form, t.Rule)
	if r == nil {
		d.next, d.cause = time.Time{}, "rule removed"
		return d, nil
	}
	ev := &rules.Event{Kind: rules.KindTime, Form: t.Form, EntryID: t.EntryID, Time: t.DueAt, Before: rec, After: rec, Set: []string{}}
	m, err := state.cfg.FireTime(r, ev)
	if err != nil {
		e.log.Warn("engine: rule not evaluated", "form", ev.Form, "entry_id", ev.EntryID, "event", ev.Kind, "error", err)
		d.cause, d.evalErr = "condition not evaluated: "+err.Error(), err.Error()
		if inner := errors.Unwrap(err); inner != nil {
			d.evalErr = inner.Error() // without the rule's name, as a save's history has it
		}
		return d, nil
	}
	if m == nil {
		d.cause = "condition false"
		return d, nil
	}
	res := &Result{Matches: []rules.Match{*m}, final: ev}
	jobs, _, err := e.renderMatches(state, ev, res)
	if err != nil {
		return d, err
	}
	d.res, d.jobs = res, jobs
	return d, nil
}

// nextRepetition returns when timer t, firing its repetition now, is due again and
// as which repetition; zero when this was its last. Repetitions missed while no
// engine ran are not fired one after another: the series resumes with the first
// slot after now (or its last slot, if that is past too).
func nextRepetition(t store.Timer, now time.Time) (time.Time, int) {
	rep := t.Repetition + 1
	if rep >= t.Repetitions || t.Every <= 0 {
		return time.Time{}, 0
	}
	next := t.DueAt.Add(t.Every)
	for !next.After(now) && rep+1 < t.Repetitions {
		next, rep = next.Add(t.Every), rep+1
	}
	return next, rep
}

// FireDueTimers fires every timer due by the engine clock now, on this node, and
// returns how many timers it settled (fired or not). The timer loop calls it
// whenever a timer falls due; tests with an injected clock call it after moving the
// clock. It returns an error only when the store fails.
//
// Without a Lookup in force a batch of due timers is claimed, decided and recorded
// in one transaction (store.ClaimAndFireTimers); with one, the lookups run outside
// any transaction, between the claim (a lease) and the firing.
func (e *Engine) FireDueTimers(ctx context.Context) (int, error) {
	if e.store == nil {
		return 0, nil
	}
	owner := e.timerOwner()
	total := 0
	for {
		n, claimed, err := e.fireBatch(ctx, owner)
		total += n
		if err != nil || claimed < timerClaimBatch {
			return total, err
		}
	}
}

// fireBatch fires one batch of due timers; claimed is how many it claimed. Each
// batch that claimed any is logged at debug level with how long it took
// (claim, decisions and the commit), the lag of its timers being mostly that.
func (e *Engine) fireBatch(ctx context.Context, owner string) (settled, claimed int, err error) {
	start := time.Now()
	defer func() {
		if claimed > 0 {
			e.log.Debug("engine: timer batch", "claimed", claimed, "settled", settled, "took", time.Since(start))
		}
	}()
	now := e.now()
	if lk := e.opts.Lookup; lk == nil || !lookupEnabled(lk) {
		var decisions []timerDecision
		firings, results, err := e.store.ClaimAndFireTimers(ctx, owner, timerClaimBatch, e.timerLease(), now,
			func(due []store.DueTimer) []store.TimerFiring {
				claimed = len(due)
				var fs []store.TimerFiring
				fs, decisions = e.decideDue(ctx, e.cfg.Load(), due, e.now())
				return fs
			})
		if err != nil {
			return 0, 0, err
		}
		return e.recordFired(firings, decisions, results), claimed, nil
	}
	due, err := e.store.ClaimTimers(ctx, owner, timerClaimBatch, e.timerLease(), now)
	if err != nil || len(due) == 0 {
		return 0, 0, err
	}
	firings, decisions := e.decideDue(ctx, e.cfg.Load(), due, e.now())
	if len(firings) == 0 {
		return 0, len(due), nil
	}
	results, err := e.store.FireTimers(ctx, owner, firings)
	if err != nil {
		return 0, len(due), err
	}
	return e.recordFired(firings, decisions, results), len(due), nil
}

// decideDue decides the claimed timers: their firings for the store and, index for
// index, what each came to. A timer whose record lookup or rendering fails is left
// out: it stays leased and is tried again when its lease ends.
func (e *Engine) decideDue(ctx context.Context, state *configState, due []store.DueTimer, now time.Time) ([]store.TimerFiring, []timerDecision) {
	firings := make([]store.TimerFiring, 0, len(due))
	decisions := make([]timerDecision, 0, len(due))
	hist := e.historyOn(state)
	for _, dt := range due {
		rec, err := e.timerRecord(ctx, dt)
		var d timerDecision
		switch {
		case errors.Is(err, ErrRecordNotFound):
			d.cause = "record not found"
		case err != nil:
			e.log.Warn("engine: timer record lookup failed; the timer is tried again when its lease ends",
				"rule", dt.Rule, "form", dt.Form, "entry_id", dt.EntryID, "error", err)
			continue
		default:
			d, err = e.decideTimer(state, dt.Timer, rec, now)
			if err != nil {
				e.log.Error("engine: timer not fired", "rule", dt.Rule, "form", dt.Form, "entry_id", dt.EntryID, "error", err)
				continue
			}
		}
		f := store.TimerFiring{Timer: dt.Timer, Fired: d.res != nil, Next: d.next, NextRepetition: d.rep, Jobs: d.jobs, At: now}
		if hist {
			f.History = e.timerHistoryOf(state, dt.Timer, d, now)
		}
		firings = append(firings, f)
		decisions = append(decisions, d)
	}
	return firings, decisions
}

// recordFired logs and counts the firings the store recorded and wakes the
// dispatcher for their deliveries; it returns how many were recorded.
func (e *Engine) recordFired(firings []store.TimerFiring, decisions []timerDecision, results []error) int {
	n, enqueued := 0, 0
	for i, f := range firings {
		if results[i] != nil {
			e.log.Debug("engine: timer changed while firing; not fired", "rule", f.Timer.Rule, "form", f.Timer.Form, "entry_id", f.Timer.EntryID, "error", results[i])
			continue
		}
		n++
		enqueued += len(f.Jobs)
		e.logFiring(f, decisions[i], f.At)
	}
	if enqueued > 0 {
		e.metrics.enqueued(enqueued)
		if e.disp != nil {
			e.disp.wake()
		}
	}
	return n
}

// logFiring logs and counts one recorded firing.
func (e *Engine) logFiring(f store.TimerFiring, d timerDecision, now time.Time) {
	t := f.Timer
	lag := max(now.Sub(t.DueAt), 0)
	late := lag > LateAfter
	attrs := []any{"rule", t.Rule, "form", t.Form, "entry_id", t.EntryID, "due", t.DueAt.UTC().Format(time.RFC3339Nano),
		"repetition", t.Repetition, "lag", lag.Round(time.Millisecond).String(), "late", late}
	if !f.Next.IsZero() {
		attrs = append(attrs, "next", f.Next.UTC().Format(time.RFC3339Nano))
	}
	if d.res != nil {
		e.log.Info("engine: timer fired", append(attrs, "deliveries", len(f.Jobs))...)
		e.metrics.timerFired("fired", lag)
		return
	}
	e.log.Info("engine: timer not fired: "+d.cause, attrs...)
	e.metrics.timerFired("not_fired", lag)
}

// timerRecord returns the values a due timer's rule is evaluated on: the host's
// Lookup if it has one, else the snapshot.
func (e *Engine) timerRecord(ctx context.Context, dt store.DueTimer) (rules.Record, error) {
	if lk := e.opts.Lookup; lk != nil && lookupEnabled(lk) {
		rec, err := lk.Lookup(ctx, dt.Form, dt.EntryID)
		if err == nil && rec == nil {
			err = ErrRecordNotFound
		}
		return rec, err
	}
	if dt.Snapshot == nil {
		return nil, ErrRecordNotFound
	}
	rec, err := decodeSnapshot(dt.Snapshot)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", dt.Form, dt.EntryID, err)
	}
	return rec, nil
}

func (e *Engine) timerLease() time.Duration {
	if e.opts.Lease > 0 {
		return e.opts.Lease
	}
	return defaultLeaseMargin
}

// timerOwner names this engine as the holder of timer leases.
func (e *Engine) timerOwner() string {
	e.ownerOnce.Do(func() {
		e.owner = e.opts.NodeID
		if e.owner == "" {
			var b [4]byte
			rand.Read(b[:])
			e.owner = fmt.Sprintf("%s-%d-%s", hostName(), os.Getpid(), hex.EncodeToString(b[:]))
		}
	})
	return e.owner
}

// timerLoop fires timers as they fall due: it sleeps until the earliest armed
// timer is due (woken early when this node arms one), and at most PollInterval, so
// timers armed by other nodes are seen within it.
type timerLoop struct {
	e      *Engine
	wakeCh chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	poll   time.Duration
	// coalesce is the least time between the starts of two rounds of firing.
	coalesce time.Duration
}

// startTimers starts the timer loop (unless Options.NoTimers).
func (e *Engine) startTimers() {
	if e.store == nil || e.opts.NoTimers {
		return
	}
	poll := e.opts.PollInterval
	if poll <= 0 {
		poll = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &timerLoop{e: e, wakeCh: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{}), poll: poll,
		coalesce: min(timerCoalesce, poll)}
	e.timers = l
	go l.run(ctx)
}

// stopTimers stops the timer loop and gives back its leases.
func (e *Engine) stopTimers() {
	l := e.timers
	if l == nil {
		return
	}
	l.cancel()
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.store.ReleaseTimers(ctx, e.timerOwner()); err != nil && !errors.Is(err, store.ErrClosed) {
		e.log.Warn("engine: release timer leases", "error", err)
	}
}

// wakeTimers makes the timer loop look at the earliest due time again.
func (e *Engine) wakeTimers() {
	if l := e.timers; l != nil {
		select {
		case l.wakeCh <- struct{}{}:
		default:
		}
	}
}

func (l *timerLoop) run(ctx context.Context) {
	defer close(l.done)
	e := l.e
	sleep := time.NewTimer(0)
	defer sleep.Stop()
	var counted, started time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-sleep.C:
		case <-l.wakeCh:
		}
		// Timers falling due one after another (1,000 a second, say) are fired in
		// batches at most every timerCoalesce rather than one transaction — and one
		// fsync — each as they fall due: the batches share their pages, so the store
		// writes (and checkpoints) a fraction of the WAL, and the disk's stalls come
		// less often. A lone timer on a quiet engine still fires at once.
		if gap := l.coalesce - time.Since(started); gap > 0 && !started.IsZero() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(gap):
			}
		}
		started = time.Now()
		wait := l.poll
		if _, err := e.FireDueTimers(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			e.log.Error("engine: fire timers", "error", err)
		} else if next, ok, err := e.store.NextTimerDue(ctx, e.now()); err != nil {
			if ctx.Err() != nil {
				return
			}
			e.log.Error("engine: next timer due", "error", err)
		} else if ok {
			wait = min(wait, max(next.Sub(e.now()), 0))
		}
		if e.metrics != nil && time.Since(counted) >= armedGaugeEvery*l.poll {
			counted = time.Now()
			if n, err := e.store.CountArmedTimers(ctx); err == nil {
				e.metrics.timersArmed(n)
			}
		}
		if !sleep.Stop() {
			select {
			case <-sleep.C:
			default:
			}
		}
		sleep.Reset(wait)
	}
}

// timerState holds the engine's timer fields (embedded in Engine).
type timerState struct {
	timers    *timerLoop
	ownerOnce sync.Once
	owner     string
}
