package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// This file holds the circuit breakers of callout endpoints and the postponement of
// jobs that wait for one (or for a rate limit, ratelimit.go). A breaker is one row
// per endpoint, shared by every node of the store, and changed only by Settle, in
// the transaction that records the attempt outcome that changes it, and by
// AcquireProbe.

// BreakerState is where an endpoint's circuit breaker is.
type BreakerState string

// The breaker states.
const (
	BreakerClosed   BreakerState = "closed"    // attempts go through
	BreakerOpen     BreakerState = "open"      // attempts wait until OpenUntil
	BreakerHalfOpen BreakerState = "half_open" // one probe attempt is under way
)

// Breaker is the stored state of one endpoint's circuit breaker.
type Breaker struct {
	Endpoint   string        // scheme://host:port
	Callout    string        // the callout whose attempt changed it last
	State      BreakerState  // closed, open or half_open
	Failures   int           // consecutive failed attempts
	Cooldown   time.Duration // the cool-down of the current opening (0 when closed)
	OpenedAt   time.Time     // when it opened (zero when closed)
	OpenUntil  time.Time     // when the cool-down ends and a probe may go (zero when closed)
	ProbeOwner string        // who makes the probe attempt (half_open)
	ProbeUntil time.Time     // when another node may take the probe over (half_open)
	UpdatedAt  time.Time
}

// BreakerReport is what an attempt outcome tells its endpoint's breaker. Settle
// applies it in the outcome's transaction: a success closes the breaker (and
// resets the count); a failure counts, opens a closed breaker once Threshold
// consecutive failures are reached (cool-down Cooldown), and re-opens a half-open
// one whose probe it was with the cool-down doubled, up to MaxCooldown.
type BreakerReport struct {
	Endpoint    string
	Callout     string
	Failed      bool
	Probe       bool // the attempt was the probe of a half-open breaker
	Threshold   int  // at least 1
	Cooldown    time.Duration
	MaxCooldown time.Duration
	// Notify, if set, returns the jobs to enqueue, in the same transaction, when this
	// report changes the breaker's state (the open and close e-mails). It may be
	// called again if the transaction is retried, so it must not have side effects.
	Notify func(BreakerTransition) []Job
}

// BreakerTransition is a change of a breaker's state, as Settle made it.
type BreakerTransition struct {
	From    BreakerState
	Breaker Breaker // the state after the change
}

const breakerColumns = `endpoint, callout, state, failures, cooldown_us, opened_at, open_until, probe_owner, probe_until, updated_at`

func scanBreaker(r rows) (Breaker, error) {
	var b Breaker
	var us int64
	err := r.Scan(&b.Endpoint, &b.Callout, &b.State, &b.Failures, &us, &b.OpenedAt, &b.OpenUntil, &b.ProbeOwner, &b.ProbeUntil, &b.UpdatedAt)
	b.Cooldown = time.Duration(us) * time.Microsecond
	return b, err
}

// Breakers returns every endpoint's breaker that has recorded a failure, in endpoint
// order. An endpoint without a row is closed with no failures.
func (s *Store) Breakers(ctx context.Context) ([]Breaker, error) {
	if s.committer.isClosed() {
		return nil, ErrClosed
	}
	var out []Breaker
	err := readTx(ctx, s.db, func(t tx) error {
		var err error
		out, err = queryAll(ctx, t, scanBreaker, "SELECT "+breakerColumns+" FROM breakers ORDER BY endpoint")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: breakers: %w", err)
	}
	return out, nil
}

// AcquireProbe makes owner the one to send the probe of endpoint's breaker: it
// succeeds when the breaker is open and its cool-down has ended at now, or half open
// with a probe whose holder let ProbeUntil pass (it crashed). The breaker is then
// half open until now+lease. It reports false, with the breaker as stored, when
// someone else probes or the cool-down runs on.
func (s *Store) AcquireProbe(ctx context.Context, endpoint, owner string, lease time.Duration, now time.Time) (Breaker, bool, error) {
	if owner == "" || lease <= 0 {
		return Breaker{}, false, errors.New("store: acquire probe: empty owner or lease")
	}
	now = utc(now)
	var b Breaker
	var got bool
	err := s.committer.do(ctx, 1, func(ctx context.Context, t tx) (error, error) {
		var err error
		b, got, err = queryOne(ctx, t, scanBreaker, `UPDATE breakers SET state = 'half_open', probe_owner = ?, probe_until = ?, updated_at = ?
WHERE endpoint = ? AND ((state = 'open' AND open_until <= ?) OR (state = 'half_open' AND probe_until <= ?))
RETURNING `+breakerColumns, owner, utc(now.Add(lease)), now, endpoint, now, now)
		if err != nil || got {
			return nil, err
		}
		b, _, err = queryOne(ctx, t, scanBreaker, "SELECT "+breakerColumns+" FROM breakers WHERE endpoint = ?", endpoint)
		return nil, err
	})
	if err != nil {
		return Breaker{}, false, fmt.Errorf("store: acquire probe %s: %w", endpoint, err)
	}
	return b, got, nil
}

// nextBreaker applies report r, made at now, to b and reports whether b changed and
// whether its state did.
func nextBreaker(b Breaker, r *BreakerReport, now time.Time) (_ Breaker, changed, transition bool) {
	from := b.State
	if !r.Failed {
		if b.State == BreakerClosed && b.Failures == 0 {
			return b, false, false
		}
		b = Breaker{Endpoint: b.Endpoint, Callout: r.Callout, State: BreakerClosed, UpdatedAt: now}
		return b, true, from != BreakerClosed
	}
	b.Failures++
	b.Callout, b.UpdatedAt = r.Callout, now
	switch {
	case b.State == BreakerClosed && b.Failures >= max(r.Threshold, 1):
		b.State, b.Cooldown = BreakerOpen, min(r.Cooldown, r.MaxCooldown)
		b.OpenedAt, b.OpenUntil = now, now.Add(b.Cooldown)
	case b.State == BreakerHalfOpen && r.Probe:
		b.State, b.Cooldown = BreakerOpen, min(2*b.Cooldown, r.MaxCooldown)
		b.OpenUntil = now.Add(b.Cooldown)
		b.ProbeOwner, b.ProbeUntil = "", time.Time{}
	}
	return b, true, b.State != from
}

// breakerTx applies the breaker reports of one Settle call inside its transaction.
// transitions are what the last run of apply changed (the op may run twice).
type breakerTx struct {
	transitions []BreakerTransition
	// stored is the breakers read by prefetch, once fetched is set.
	stored  []Breaker
	fetched bool
}

// prefetch reads the breakers of the endpoints outs report on, for apply. On
// PostgreSQL the read goes to the server in one batch with the settle statement
// (queryLater) rather than in a round trip of its own after it: a Settle whose
// outcomes are all successes on healthy endpoints then costs no breaker round
// trip at all. It reads every reporting outcome's endpoint, recorded or not;
// apply uses those it needs.
func (bt *breakerTx) prefetch(ctx context.Context, t tx, outs []Outcome) error {
	bt.stored, bt.fetched = nil, false
	var eps []string
	for _, o := range outs {
		if o.Breaker != nil && o.Breaker.Endpoint != "" && !slices.Contains(eps, o.Breaker.Endpoint) {
			eps = append(eps, o.Breaker.Endpoint)
		}
	}
	if len(eps) == 0 {
		return nil
	}
	slices.Sort(eps)
	args := make([]any, len(eps))
	for i, ep := range eps {
		args[i] = ep
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(eps)), ", ")
	return queryLater(ctx, t, "SELECT "+breakerColumns+" FROM breakers WHERE endpoint IN ("+in+") ORDER BY endpoint", func(r rows) error {
		for r.Next() {
			b, err := scanBreaker(r)
			if err != nil {
				return err
			}
			bt.stored = append(bt.stored, b)
		}
		if err := r.Err(); err != nil {
			return err
		}
		bt.fetched = true
		return nil
	}, args...)
}

// apply updates the breakers of the recorded outcomes (results[i] == nil) and
// returns the jobs their transitions' Notify functions ask for, prepared.
func (bt *breakerTx) apply(ctx context.Context, s *Store, t tx, outs []Outcome, results []error) ([]Job, error) {
	bt.transitions = bt.transitions[:0]
	var idx []int
	for i, o := range outs {
		if o.Breaker != nil && o.Breaker.Endpoint != "" && results[i] == nil {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, nil
	}
	// Endpoints in sorted order: several nodes lock their rows in one order.
	var eps, failing []string
	for _, i := range idx {
		r := outs[i].Breaker
		if !slices.Contains(eps, r.Endpoint) {
			eps = append(eps, r.Endpoint)
		}
		if r.Failed && !slices.Contains(failing, r.Endpoint) {
			failing = append(failing, r.Endpoint)
		}
	}
	slices.Sort(eps)
	slices.Sort(failing)
	pg := s.db.driver() == DriverPostgres
	now := utc(time.Now())
	if pg {
		// Rows to count failures in exist before they are locked, so two nodes'
		// first failures both count.
		for _, ep := range failing {
			if _, err := t.exec(ctx, `INSERT INTO breakers (endpoint, state, updated_at) VALUES (?, 'closed', ?) ON CONFLICT (endpoint) DO NOTHING`, ep, now); err != nil {
				return nil, err
			}
		}
	}
	stored := bt.stored
	if !bt.fetched { // not prefetched (or its batch not sent yet): read now
		in := strings.TrimSuffix(strings.Repeat("?, ", len(eps)), ", ")
		args := make([]any, len(eps))
		for i, ep := range eps {
			args[i] = ep
		}
		q := "SELECT " + breakerColumns + " FROM breakers WHERE endpoint IN (" + in + ") ORDER BY endpoint"
		var err error
		if stored, err = queryAll(ctx, t, scanBreaker, q, args...); err != nil {
			return nil, err
		}
	}
	cur := make(map[string]Breaker, len(eps))
	for _, b := range stored {
		cur[b.Endpoint] = b
	}
	if pg {
		// Lock (and re-read) only the rows this batch changes: successes on a
		// healthy endpoint take no lock.
		var lock []any
		for _, ep := range eps {
			b, ok := cur[ep]
			if slices.Contains(failing, ep) || ok && (b.State != BreakerClosed || b.Failures > 0) {
				lock = append(lock, ep)
			}
		}
		if len(lock) == 0 {
			return nil, nil
		}
		in := strings.TrimSuffix(strings.Repeat("?, ", len(lock)), ", ")
		locked, err := queryAll(ctx, t, scanBreaker, "SELECT "+breakerColumns+" FROM breakers WHERE endpoint IN ("+in+") ORDER BY endpoint FOR UPDATE", lock...)
		if err != nil {
			return nil, err
		}
		for _, b := range locked {
			cur[b.Endpoint] = b
		}
	}
	changed := map[string]bool{}
	var follow []Job
	for _, i := range idx {
		o := outs[i]
		r := o.Breaker
		b, ok := cur[r.Endpoint]
		if !ok {
			b = Breaker{Endpoint: r.Endpoint, State: BreakerClosed}
		}
		at := utc(o.Attempt.StartedAt.Add(o.Attempt.Duration))
		nb, ch, tr := nextBreaker(b, r, at)
		if !ch {
			continue
		}
		cur[r.Endpoint], changed[r.Endpoint] = nb, true
		if !tr {
			continue
		}
		trans := BreakerTransition{From: b.State, Breaker: nb}
		bt.transitions = append(bt.transitions, trans)
		if r.Notify != nil {
			jobs := r.Notify(trans)
			if err := prepareJobs(jobs, at); err != nil {
				return nil, err
			}
			follow = append(follow, jobs...)
		}
	}
	for _, ep := range eps {
		if !changed[ep] {
			continue
		}
		b := cur[ep]
		if _, err := t.exec(ctx, `INSERT INTO breakers (`+breakerColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (endpoint) DO UPDATE SET callout = excluded.callout, state = excluded.state, failures = excluded.failures,
	cooldown_us = excluded.cooldown_us, opened_at = excluded.opened_at, open_until = excluded.open_until,
	probe_owner = excluded.probe_owner, probe_until = excluded.probe_until, updated_at = excluded.updated_at`,
			b.Endpoint, b.Callout, string(b.State), b.Failures, b.Cooldown.Microseconds(), utc(b.OpenedAt), utc(b.OpenUntil),
			b.ProbeOwner, utc(b.ProbeUntil), utc(b.UpdatedAt)); err != nil {
			return nil, err
		}
	}
	return follow, nil
}

// Postponement moves a job this node holds to a later due time without an attempt:
// it waits for an open breaker or a rate limit. Its attempt count is unchanged.
type Postponement struct {
	ID     string
	NextAt time.Time
}

// Postpone releases the jobs of ps that owner holds, due again at their NextAt,
// without recording an attempt or touching their attempt counts, in one
// transaction. results[i] is nil, or wraps ErrLeaseLost or ErrNotFound.
func (s *Store) Postpone(ctx context.Context, owner string, ps []Postponement) (results []error, err error) {
	if owner == "" {
		return nil, errors.New("store: postpone: empty owner")
	}
	own := append([]Postponement(nil), ps...)
	results = make([]error, len(own))
	now := utc(time.Now())
	err = s.committer.do(ctx, len(own), func(ctx context.Context, t tx) (error, error) {
		for i, p := range own {
			n, err := t.exec(ctx, `UPDATE jobs SET next_at = ?, lease_owner = '', lease_until = NULL, updated_at = ?
WHERE id = ? AND status = 'pending' AND lease_owner = ?`, utc(p.NextAt), now, p.ID, owner)
			if err != nil {
				return nil, err
			}
			results[i] = nil
			if n == 0 {
				if results[i], err = unsettled(ctx, t, p.ID); err != nil {
					return nil, err
				}
			}
		}
		return nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: postpone: %w", err)
	}
	return results, nil
}

// breakerChanged reports committed transitions to Options.OnBreaker.
func (s *Store) breakerChanged(ts []BreakerTransition) {
	if s.onBreaker == nil {
		return
	}
	for _, t := range ts {
		s.onBreaker(t)
	}
}
