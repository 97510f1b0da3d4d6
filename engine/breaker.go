package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// How the circuit breakers, 410 Gone and the rate limits work.
//
// Every callout endpoint (the scheme, host and port of its URL, rules.Endpoint) has
// a breaker, stored in the outbox (store.Breaker) and so shared by every node.
// Each attempt outcome carries a store.BreakerReport that Settle applies in the
// outcome's own transaction: breaker.failures consecutive failed sends open it for
// breaker.cooldown, and then a worker that finds the cool-down over becomes its one
// probe (store.AcquireProbe); the probe's success closes the breaker, its failure
// re-opens it with the cool-down doubled, up to an hour. An open or closed
// transition queues one e-mail to the callout's notify recipients in the same
// transaction. A delivery claimed while its endpoint's breaker is open (or its
// probe is under way), or while its callout's rate is used up, is not attempted: it
// is given back with a later due time and its attempt count unchanged
// (store.Postpone), so waiting costs no retries. A 410 Gone answer ends the
// delivery at once, failed, with the reason in its attempt log.
//
// This node keeps a copy of the breakers, refreshed from the store every poll
// interval and at once on its own transitions, to decide without a store read per
// attempt; another node's opening is seen here within a poll interval.

// storeCallTimeout bounds each store call the checks before an attempt make.
const storeCallTimeout = 10 * time.Second

// probeKey marks the context of a probe attempt.
type probeKey struct{}

// limits is this node's view of the circuit breakers and its rate-limit permits.
type limits struct {
	e     *Engine
	every time.Duration // how often the breaker copy is refreshed

	mu         sync.Mutex
	breakers   map[string]store.Breaker // by endpoint
	refreshed  time.Time                // on the monotonic clock
	refreshing bool
	rates      map[string]*permits // by callout name

	transitions *prometheus.CounterVec
	postponed   *prometheus.CounterVec
}

// permits are the rate-limit permits this node holds for one callout's window.
type permits struct {
	mu        sync.Mutex
	left      int
	end       time.Time // the window's end, on the engine's clock
	exhausted bool      // the store had none left for this window
}

func newLimits(e *Engine, reg prometheus.Registerer) *limits {
	every := e.opts.PollInterval
	if every <= 0 {
		every = time.Second
	}
	l := &limits{e: e, every: every, breakers: map[string]store.Breaker{}, rates: map[string]*permits{}}
	if reg != nil {
		l.transitions = prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ruleflow", Name: "breaker_transitions_total", Help: "Circuit-breaker state changes this node recorded, by endpoint and new state.",
		}, []string{"endpoint", "state"})
		l.postponed = prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ruleflow", Name: "deliveries_postponed_total", Help: "Claimed deliveries given back unattempted, by callout and reason (breaker, rate, order).",
		}, []string{"callout", "reason"})
		reg.MustRegister(l.transitions, l.postponed, &breakerCollector{e: e,
			open:     prometheus.NewDesc("ruleflow_breaker_open", "1 while the circuit breaker of a callout's endpoint is open or half open, else 0.", []string{"callout", "endpoint"}, nil),
			failures: prometheus.NewDesc("ruleflow_breaker_failures", "Consecutive failed attempts recorded for a callout's endpoint.", []string{"callout", "endpoint"}, nil),
		})
	}
	return l
}

// breakerChanged is store.Options.OnBreaker: a transition this node committed.
func (e *Engine) breakerChanged(tr store.BreakerTransition) {
	l := e.limits
	if l == nil {
		return
	}
	l.mu.Lock()
	l.breakers[tr.Breaker.Endpoint] = tr.Breaker
	l.mu.Unlock()
	if l.transitions != nil {
		l.transitions.WithLabelValues(tr.Breaker.Endpoint, string(tr.Breaker.State)).Inc()
	}
	switch tr.Breaker.State {
	case store.BreakerOpen:
		if tr.From == store.BreakerClosed {
			e.log.Warn("engine: circuit breaker opened; deliveries to the endpoint wait", "endpoint", tr.Breaker.Endpoint,
				"callout", tr.Breaker.Callout, "failures", tr.Breaker.Failures, "cooldown", tr.Breaker.Cooldown)
		} else {
			e.log.Warn("engine: circuit breaker probe failed; open again", "endpoint", tr.Breaker.Endpoint, "cooldown", tr.Breaker.Cooldown)
		}
	case store.BreakerClosed:
		e.log.Info("engine: circuit breaker closed; deliveries to the endpoint resume", "endpoint", tr.Breaker.Endpoint, "callout", tr.Breaker.Callout)
		e.Wake()
	}
}

// breaker returns this node's copy of endpoint's breaker, refreshing the copy
// from the store when it is older than the poll interval.
func (l *limits) breaker(ctx context.Context, endpoint string) store.Breaker {
	l.mu.Lock()
	// Until the first read has returned every caller reads: an empty copy would
	// let deliveries through an open breaker.
	stale := time.Since(l.refreshed) >= l.every && (!l.refreshing || l.refreshed.IsZero())
	if stale {
		l.refreshing = true
	}
	l.mu.Unlock()
	if stale {
		sctx, cancel := context.WithTimeout(ctx, storeCallTimeout)
		bs, err := l.e.store.Breakers(sctx)
		cancel()
		l.mu.Lock()
		l.refreshing, l.refreshed = false, time.Now()
		if err == nil {
			fresh := make(map[string]store.Breaker, len(bs))
			for _, b := range bs {
				if old, ok := l.breakers[b.Endpoint]; ok && old.UpdatedAt.After(b.UpdatedAt) {
					b = old // a transition committed here after the read
				}
				fresh[b.Endpoint] = b
			}
			l.breakers = fresh
		}
		l.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			l.e.log.Error("engine: read circuit breakers", "error", err)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.breakers[endpoint]; ok {
		return b
	}
	return store.Breaker{Endpoint: endpoint, State: store.BreakerClosed}
}

func (l *limits) remember(b store.Breaker) {
	if b.Endpoint == "" {
		return
	}
	l.mu.Lock()
	l.breakers[b.Endpoint] = b
	l.mu.Unlock()
}

// permit takes one rate-limit permit of callout name (n per window per) at now, or
// reports when to ask again. Permits are taken from the store in small batches.
func (l *limits) permit(ctx context.Context, name string, n int, per time.Duration, now time.Time) (bool, time.Time) {
	l.mu.Lock()
	p := l.rates[name]
	if p == nil {
		p = &permits{}
		l.rates[name] = p
	}
	l.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Before(p.end) {
		if p.left > 0 {
			p.left--
			return true, time.Time{}
		}
		if p.exhausted {
			return false, p.end
		}
	}
	want := min(max(n/16, 1), 64)
	sctx, cancel := context.WithTimeout(ctx, storeCallTimeout)
	got, end, err := l.e.store.TakePermits(sctx, name, n, per, want, now)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			l.e.log.Error("engine: take rate-limit permits", "callout", name, "error", err)
		}
		return false, now.Add(min(per, time.Second))
	}
	p.end, p.left, p.exhausted = end, max(got-1, 0), got == 0
	return got > 0, end
}

// hold decides whether a claimed callout delivery may be attempted now. held means
// no: s gives it back, due again when its breaker or rate limit allows. probe means
// the attempt is its endpoint's probe.
func (d *dispatcher) hold(state *configState, c claimed) (s settled, probe, held bool) {
	l := d.e.limits
	if c.job.Kind != store.KindCallout || l == nil {
		return settled{}, false, false
	}
	co := state.callout(c.job.Callout)
	if co == nil {
		return settled{}, false, false // fails at once, unsent
	}
	// Most deliveries pass without a store call (the breaker copy is fresh, the
	// permits are in hand): the context bounding a store call is made for that call
	// only, not per delivery.
	ctx := d.sendCtx
	now := d.e.now()
	wait := func(until time.Time, reason string) (settled, bool, bool) {
		if l.postponed != nil {
			l.postponed.WithLabelValues(co.Name, reason).Inc()
		}
		return settled{job: c.job, skip: true, postpone: until, fast: c.fast}, false, true
	}
	if co.Ordering == rules.OrderingPerEntry && c.job.EntryID != "" {
		sctx, cancel := context.WithTimeout(ctx, storeCallTimeout)
		next, earlier, err := d.e.store.EarlierPending(sctx, c.job)
		cancel()
		switch {
		case err != nil:
			if d.sendCtx.Err() == nil {
				d.e.log.Error("engine: ordering", "job", c.job.ID, "error", err)
			}
			return wait(now.Add(d.poll), "order")
		case earlier:
			until := now.Add(d.poll)
			if next.After(until) {
				until = next // it waits for its own retry: so does this one
			}
			return wait(until, "order")
		}
	}
	pol := rules.BreakerFor(state.cfg, co)
	ep := state.endpoint(co)
	wantProbe := false
	if pol.Failures > 0 && ep != "" {
		switch b := l.breaker(ctx, ep); {
		case b.State == store.BreakerOpen && now.Before(b.OpenUntil):
			return wait(b.OpenUntil, "breaker")
		case b.State == store.BreakerHalfOpen && now.Before(b.ProbeUntil):
			return wait(now.Add(d.poll), "breaker")
		case b.State != store.BreakerClosed:
			wantProbe = true
		}
	}
	if n, per, _ := co.Rate.Parse(); n > 0 {
		if ok, until := l.permit(ctx, co.Name, n, per, now); !ok {
			return wait(until, "rate")
		}
	}
	if wantProbe {
		lease := attemptLimit(state, c.job) + d.margin
		sctx, cancel := context.WithTimeout(ctx, storeCallTimeout)
		b, ok, err := d.e.store.AcquireProbe(sctx, ep, d.owner, lease, now)
		cancel()
		if err != nil {
			if d.sendCtx.Err() == nil {
				d.e.log.Error("engine: circuit breaker probe", "endpoint", ep, "error", err)
			}
			return wait(now.Add(d.poll), "breaker")
		}
		l.remember(b)
		if !ok {
			if b.State == store.BreakerOpen && now.Before(b.OpenUntil) {
				return wait(b.OpenUntil, "breaker")
			}
			if b.State != store.BreakerClosed {
				return wait(now.Add(d.poll), "breaker")
			}
			return settled{}, false, false // closed meanwhile
		}
		d.e.log.Info("engine: circuit breaker half open; sending one probe", "endpoint", ep, "callout", co.Name, "job", c.job.ID)
		return settled{}, true, false
	}
	return settled{}, false, false
}

// asProbe marks ctx as the context of a probe attempt.
func asProbe(ctx context.Context, probe bool) context.Context {
	if !probe {
		return ctx
	}
	return context.WithValue(ctx, probeKey{}, true)
}

// postponeHeld gives back the deliveries of batch that hold postponed.
func (d *dispatcher) postponeHeld(batch []settled) {
	var ps []store.Postponement
	for _, s := range batch {
		if !s.postpone.IsZero() {
			ps = append(ps, store.Postponement{ID: s.job.ID, NextAt: s.postpone})
		}
	}
	if len(ps) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := d.e.store.Postpone(ctx, d.owner, ps)
	if err != nil {
		// The leases expire and the jobs are claimed again.
		d.e.log.Error("engine: postpone deliveries", "jobs", len(ps), "error", err)
		return
	}
	for i, r := range res {
		if r != nil && !errors.Is(r, store.ErrLeaseLost) {
			d.e.log.Error("engine: postpone delivery", "job", ps[i].ID, "error", r)
		}
	}
}

// goneReason is appended to the reason of an attempt answered 410 Gone.
const goneReason = " (410 Gone: the receiver says the resource is gone for good; not retried)"

// gone reports whether an attempt's answer ends its delivery at once: 410 Gone.
func gone(res callouts.Result) bool { return res.StatusCode == http.StatusGone }

// breakerReport is what a callout attempt tells its endpoint's breaker, or nil when
// the callout has none or nothing was sent (not rendered, no credentials).
func (e *Engine) breakerReport(ctx context.Context, state *configState, c *rules.Callout, p *DeliveryPayload, job store.Job, res callouts.Result, sendErr error) *store.BreakerReport {
	if c == nil || p.RenderError != "" {
		return nil
	}
	if _, ok := errors.AsType[*callouts.SendError](sendErr); sendErr != nil && !ok {
		return nil // not an answer, nor a failure to reach the endpoint
	}
	pol := rules.BreakerFor(state.cfg, c)
	ep := state.endpoint(c)
	if pol.Failures <= 0 || ep == "" {
		return nil
	}
	r := &store.BreakerReport{
		Endpoint: ep, Callout: c.Name, Failed: sendErr != nil, Probe: ctx.Value(probeKey{}) != nil,
		Threshold: pol.Failures, Cooldown: pol.Cooldown, MaxCooldown: rules.MaxBreakerCooldown,
	}
	if n := withRecipients(state.cfg, c.Notify, p.Recipients); n != nil && len(n.To) > 0 {
		to := slices.Clone(n.To)
		lastErr := ""
		if sendErr != nil {
			lastErr = sendErr.Error()
		}
		// Copies, so that only a report with recipients moves the job and the
		// result to the heap, not every attempt's.
		job, code := job, res.StatusCode
		r.Notify = func(tr store.BreakerTransition) []store.Job {
			return e.breakerMail(state, c.Name, to, job, tr, code, lastErr)
		}
	}
	return r
}

// breakerMail is the e-mail job for a breaker that opened (from closed) or closed;
// a failed probe's re-opening sends none.
func (e *Engine) breakerMail(state *configState, callout string, to []string, job store.Job, tr store.BreakerTransition, code int, lastErr string) []store.Job {
	b := tr.Breaker
	loc := state.cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	var msg Message
	var body strings.Builder
	switch {
	case b.State == store.BreakerOpen && tr.From == store.BreakerClosed:
		msg.Subject = fmt.Sprintf("ruleflow: callout %s paused: %s is failing", callout, b.Endpoint)
		fmt.Fprintf(&body, "The circuit breaker of %s opened after %d consecutive failed attempts.\n\n", b.Endpoint, b.Failures)
		fmt.Fprintf(&body, "Callout:      %s\nLast status:  %d\nLast error:   %s\n", callout, code, rules.MaskURLsIn(lastErr))
		fmt.Fprintf(&body, "Opened at:    %s\nProbe after:  %s (cool-down %s, doubled after each failed probe, up to 1h)\n\n",
			b.OpenedAt.In(loc).Format(time.RFC3339), b.OpenUntil.In(loc).Format(time.RFC3339), b.Cooldown)
		body.WriteString("Deliveries to this endpoint wait without using up their retries. One probe attempt is made\nwhen the cool-down ends; when it succeeds the breaker closes and you get one more e-mail.\n")
	case b.State == store.BreakerClosed:
		msg.Subject = fmt.Sprintf("ruleflow: callout %s resumed: %s answers again", callout, b.Endpoint)
		fmt.Fprintf(&body, "The circuit breaker of %s closed: an attempt of callout %s succeeded at %s.\n\n", b.Endpoint, callout, b.UpdatedAt.In(loc).Format(time.RFC3339))
		body.WriteString("Deliveries to this endpoint are sent again, the waiting ones first.\n")
	default:
		return nil
	}
	msg.Text = body.String()
	msg.To = to
	payload, err := json.Marshal(emailPayload{Message: msg, NoNote: true})
	if err != nil {
		e.log.Error("engine: encode circuit-breaker notification", "callout", callout, "error", err)
		return nil
	}
	return []store.Job{{Kind: store.KindEmail, Callout: callout, Rule: job.Rule, EventKind: job.EventKind, ParentID: job.ID, Payload: payload, MaxAttempts: mailMaxAttempts}}
}

// BreakerState is the state of one callout endpoint's circuit breaker, as
// Engine.Breakers reports it.
type BreakerState struct {
	// Endpoint is the scheme, host and port the breaker guards.
	Endpoint string `json:"endpoint"`
	// State is closed, open or half_open (one probe attempt under way).
	State string `json:"state"`
	// Failures counts the consecutive failed attempts.
	Failures int `json:"failures"`
	// Cooldown is the current opening's cool-down (0 when closed).
	Cooldown time.Duration `json:"cooldown"`
	// OpenedAt and OpenUntil are when it opened and when its probe may go (zero when closed).
	OpenedAt  time.Time `json:"opened_at,omitzero"`
	OpenUntil time.Time `json:"open_until,omitzero"`
	// LastCallout is the callout whose attempt changed it last.
	LastCallout string `json:"last_callout,omitempty"`
	// Callouts are the configured callouts whose URL is on this endpoint.
	Callouts []string `json:"callouts,omitempty"`
	// UpdatedAt is when it last changed.
	UpdatedAt time.Time `json:"updated_at"`
}

// Breakers returns the circuit breakers of every endpoint that has recorded a
// failure, in endpoint order, as the store holds them (shared by every node). An
// endpoint not listed is closed. It fails when the engine has no store.
func (e *Engine) Breakers(ctx context.Context) ([]BreakerState, error) {
	if e.store == nil {
		return nil, errors.New("engine: breakers: no store")
	}
	bs, err := e.store.Breakers(ctx)
	if err != nil {
		return nil, err
	}
	byEndpoint := map[string][]string{}
	for _, c := range e.cfg.Load().cfg.Callouts {
		if ep := rules.Endpoint(c.URL); ep != "" {
			byEndpoint[ep] = append(byEndpoint[ep], c.Name)
		}
	}
	out := make([]BreakerState, 0, len(bs))
	for _, b := range bs {
		out = append(out, BreakerState{
			Endpoint: b.Endpoint, State: string(b.State), Failures: b.Failures, Cooldown: b.Cooldown,
			OpenedAt: b.OpenedAt, OpenUntil: b.OpenUntil, LastCallout: b.Callout, Callouts: byEndpoint[b.Endpoint], UpdatedAt: b.UpdatedAt,
		})
	}
	return out, nil
}

// breakerCollector reports the breakers of the configured callouts at scrape time.
type breakerCollector struct {
	e              *Engine
	open, failures *prometheus.Desc
}

func (c *breakerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.open; ch <- c.failures }

func (c *breakerCollector) Collect(ch chan<- prometheus.Metric) {
	if c.e.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	bs, err := c.e.store.Breakers(ctx)
	if err != nil {
		return
	}
	byEndpoint := make(map[string]store.Breaker, len(bs))
	for _, b := range bs {
		byEndpoint[b.Endpoint] = b
	}
	state := c.e.cfg.Load()
	for _, co := range state.cfg.Callouts {
		ep := rules.Endpoint(co.URL)
		if ep == "" || rules.BreakerFor(state.cfg, co).Failures <= 0 {
			continue
		}
		b := byEndpoint[ep]
		open := 0.0
		if b.State == store.BreakerOpen || b.State == store.BreakerHalfOpen {
			open = 1
		}
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, open, co.Name, ep)
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.GaugeValue, float64(b.Failures), co.Name, ep)
	}
}
