package engine

import (
	"context"
	"errors"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/notify"
)

// How leases work. A job is claimed for the longest callout timeout of the
// configuration in force at the claim, plus a margin (Options.Lease, 30 s by
// default). Before an attempt starts, its own time limit is taken from the
// configuration in force then (the callout's timeout, the SMTP connect + send
// timeouts for an e-mail, noteTimeout for a note): if the lease left cannot hold
// that limit plus the reserve kept for recording the outcome, the lease is extended
// first, and a job whose lease cannot be extended (another node holds it now) is
// given back unsent. The attempt then runs under a deadline that ends the reserve
// before the lease does, so it never outlives its lease and no two attempts of one
// job overlap, whatever a reload changed and however long the job waited in the
// queue. The local deadline is measured on this node's monotonic clock from before
// the claim (or extension) was asked for, and on PostgreSQL the lease itself on the
// database's clock, so a skewed node clock changes neither.

// defaultLeaseMargin is a lease's slack beyond the attempt it covers when
// Options.Lease is zero: the time a crashed node's jobs wait, beyond their attempt's
// limit, before another node takes them over.
const defaultLeaseMargin = 30 * time.Second

// noteTimeout bounds one AddNote call of the host.
const noteTimeout = 30 * time.Second

// claimed is a job this node holds, with the local time its lease ends.
type claimed struct {
	job   store.Job
	until time.Time // on the monotonic clock: from before the claim or extension
	// payload is the callout's payload as rendered, for a job handed over by the
	// fast path; nil means decode job.Payload.
	payload *DeliveryPayload
	fast    bool // handed over by the fast path (it holds a fastSlots slot)
}

// claimLease is the lease a claim asks for under state: enough for any callout's
// attempt, plus the margin. Longer attempts (e-mails, a timeout raised later) are
// extended one by one before they start.
func (d *dispatcher) claimLease(state *configState) time.Duration {
	return state.maxTimeout + d.margin
}

// reserve is the part of a lease kept free at its end for recording the outcome.
func (d *dispatcher) reserve() time.Duration { return min(d.margin/2, 10*time.Second) }

// attemptLimit is the longest one attempt of job may take under state.
func attemptLimit(state *configState, job store.Job) time.Duration {
	switch job.Kind {
	case store.KindCallout:
		if store.IsTargetCall(job) {
			return targetCallLimit(state, job)
		}
		if c := state.callout(job.Callout); c != nil {
			return timeoutOf(c)
		}
		return time.Second // nothing is sent: the job fails at once
	case store.KindEmail:
		return state.mailLimit
	case store.KindNote:
		return noteTimeout
	}
	return time.Second
}

// run makes one attempt of c inside its lease: extended first if the lease left is
// too short for the attempt's limit, given back unsent if that fails.
func (d *dispatcher) run(c claimed) settled {
	state := d.e.cfg.Load()
	held, probe, wait := d.hold(state, c)
	if wait {
		return held
	}
	limit := attemptLimit(state, c.job)
	if time.Until(c.until) < limit+d.reserve() {
		until, err := d.extend(c.job, limit+d.margin)
		if err != nil {
			if !errors.Is(err, store.ErrLeaseLost) && !errors.Is(err, store.ErrNotFound) && d.sendCtx.Err() == nil {
				d.e.log.Error("engine: extend lease", "job", c.job.ID, "error", err)
			}
			// Another node may hold the job now, or will once the lease ends:
			// sending could overlap with its attempt. Give it back untouched.
			return settled{job: c.job, skip: true, fast: c.fast}
		}
		c.until = until
	}
	deadline := c.until.Add(-d.reserve())
	if c.job.Kind == store.KindCallout && !store.IsTargetCall(c.job) {
		// A callout's attempt is bounded by its timeout (limit) too: one context
		// carries both deadlines, so Send adds no context and timer of its own.
		if byLimit := time.Now().Add(limit); byLimit.Before(deadline) {
			deadline = byLimit
		}
	}
	ctx, cancel := context.WithDeadline(d.sendCtx, deadline)
	defer cancel()
	out := d.e.attempt(asProbe(ctx, probe), state, d.sender, c.job, c.payload, limit)
	if d.sendCtx.Err() != nil && out.Status != store.StatusDelivered {
		out = d.cutOff(out)
	}
	return settled{job: c.job, out: out, fast: c.fast}
}

// extend renews job's lease to lease from now and returns the local time it ends.
func (d *dispatcher) extend(job store.Job, lease time.Duration) (time.Time, error) {
	asked := time.Now()
	ctx, cancel := context.WithTimeout(d.sendCtx, 10*time.Second)
	defer cancel()
	if err := d.e.store.Extend(ctx, job.ID, d.owner, lease, d.e.now()); err != nil {
		return time.Time{}, err
	}
	return asked.Add(lease), nil
}

// cutOff turns the outcome of an attempt that shutdown cut short into a record of
// it: the attempt is logged with the reason, and the job stays pending, due at once,
// so the next node (or this one, restarted) attempts it again without waiting for a
// retry interval. No notification goes out for it: the delivery has not ended.
func (d *dispatcher) cutOff(out store.Outcome) store.Outcome {
	reason := "attempt cut off by shutdown"
	if out.Attempt.Error != "" {
		reason += ": " + out.Attempt.Error
	}
	out.Attempt.Error = reason
	if out.Attempt.Duration == 0 {
		out.Attempt.Duration = max(d.e.clockSince(out.Attempt.StartedAt), 0)
	}
	out.Status, out.NextAt, out.Follow, out.Breaker = store.StatusPending, d.e.now(), nil, nil
	return out
}

// mailLimit is the longest one notification e-mail may take under the smtp block:
// its connect timeout plus its send timeout (the Mailer's defaults where unset).
func mailLimit(state *configState) time.Duration {
	connect, send := notify.DefaultConnectTimeout, notify.DefaultSendTimeout
	if smtp := state.cfg.SMTP; smtp != nil {
		if t := smtp.ConnectTimeout.Std(); t > 0 {
			connect = t
		}
		if t := smtp.SendTimeout.Std(); t > 0 {
			send = t
		}
	}
	return connect + send
}
