package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/engine/store"
)

// claimBatch is the most jobs one claim takes; settleBatch the most outcomes one
// settle transaction records.
const (
	claimBatch  = 256
	settleBatch = 256
)

// queuedPerWorker is how many claimed jobs may wait for each worker. Claiming
// ahead keeps the single SQLite writer busy with few, large transactions; a job
// that waited so long that its attempt could outlast its lease has its lease
// extended first, or is given back unsent (see leases.go), so claiming ahead never
// causes a second node to send it too.
const queuedPerWorker = 8

// dispatcher delivers the outbox: one goroutine claims due jobs under a lease,
// Workers goroutines attempt them, and one goroutine records the outcomes in
// batches. slots bounds the jobs claimed but not yet settled, so nothing waits on a
// lease it cannot use.
type dispatcher struct {
	e       *Engine
	owner   string
	sender  *callouts.Sender
	workers int
	margin  time.Duration // a lease's slack beyond the attempt it covers
	poll    time.Duration

	wakeCh chan struct{}
	slots  chan struct{}
	// fastSlots bounds the fast path's jobs handed over but not yet settled
	// (fastpath.go), apart from the claimer's, so a claim in progress never takes
	// the room Handle needs.
	fastSlots chan struct{}
	work      chan claimed
	outcomes  chan settled

	claimCtx    context.Context // cancelled when Close starts: no more claims
	stopClaims  context.CancelFunc
	sendCtx     context.Context // cancelled when the shutdown deadline passes
	abortSends  context.CancelFunc
	claimerDone chan struct{}
	workersWG   sync.WaitGroup
	settlerDone chan struct{}

	// The fast path (fastpath.go): stopping refuses new hand-offs, fastWG counts
	// the ones in flight, which stop waits for before it closes work.
	fastMu   sync.RWMutex
	stopping bool
	fastWG   sync.WaitGroup
	fastPath atomic.Int64 // jobs handed over from memory, for tests

	// settleOuts and settleKinds are settle's lists, kept between batches.
	settleOuts  []store.Outcome
	settleKinds []store.Kind
}

// settled is one attempt's outcome, or a job given back unattempted (skip).
type settled struct {
	job      store.Job
	out      store.Outcome
	skip     bool
	fast     bool      // the job came by the fast path: its slot is a fastSlots one
	postpone time.Time // with skip: due again then, unattempted (breaker.go)
}

func newDispatcher(e *Engine) *dispatcher {
	workers := e.opts.Workers
	if workers <= 0 {
		workers = 32
	}
	margin := e.opts.Lease
	if margin <= 0 {
		margin = defaultLeaseMargin
	}
	poll := e.opts.PollInterval
	if poll <= 0 {
		poll = time.Second
	}
	owner := e.opts.NodeID
	if owner == "" {
		var b [4]byte
		rand.Read(b[:])
		owner = fmt.Sprintf("%s-%d-%s", hostName(), os.Getpid(), hex.EncodeToString(b[:]))
	}
	sender := &callouts.Sender{Client: e.client, UserAgent: "ruleflow/" + Version(), Now: e.now}
	if e.opts.HTTPClient == nil && e.tr == nil {
		// The engine's own guarded client (egress.go), not wrapped for tracing: its
		// transport takes the requests directly, without the client's per-request
		// copies for redirects it never follows.
		sender.Transport = e.client.Transport
	}
	d := &dispatcher{
		e:           e,
		owner:       owner,
		sender:      sender,
		workers:     workers,
		margin:      margin,
		poll:        poll,
		wakeCh:      make(chan struct{}, 1),
		slots:       make(chan struct{}, queuedPerWorker*workers),
		fastSlots:   make(chan struct{}, queuedPerWorker*workers),
		work:        make(chan claimed, 2*queuedPerWorker*workers), // room for every slot of both kinds
		outcomes:    make(chan settled, queuedPerWorker*workers),
		claimerDone: make(chan struct{}),
		settlerDone: make(chan struct{}),
	}
	d.claimCtx, d.stopClaims = context.WithCancel(context.Background())
	d.sendCtx, d.abortSends = context.WithCancel(context.Background())
	return d
}

func (d *dispatcher) start() {
	go d.claimLoop()
	d.workersWG.Add(d.workers)
	for range d.workers {
		go d.workLoop()
	}
	go d.settleLoop()
}

// wake makes an idle claimer look for work now.
func (d *dispatcher) wake() {
	select {
	case d.wakeCh <- struct{}{}:
	default:
	}
}

// stop drains the dispatcher: no new claims, in-flight attempts finish (or, once
// ctx is done, are aborted and given back), outcomes are recorded, and the leases
// still held are released. It reports whether attempts were cut off.
func (d *dispatcher) stop(ctx context.Context) (cutOff bool) {
	d.stopClaims()
	<-d.claimerDone
	d.fastMu.Lock()
	d.stopping = true
	d.fastMu.Unlock()
	d.fastWG.Wait()
	close(d.work)
	done := make(chan struct{})
	go func() { d.workersWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		d.e.log.Warn("engine: shutdown deadline passed; aborting deliveries in flight", "error", ctx.Err())
		d.abortSends()
		<-done
		cutOff = true
	}
	close(d.outcomes)
	<-d.settlerDone
	d.abortSends()
	rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n, err := d.e.store.Release(rctx, d.owner); err != nil {
		d.e.log.Error("engine: release leases", "owner", d.owner, "error", err)
	} else if n > 0 {
		d.e.log.Info("engine: released leases", "owner", d.owner, "jobs", n)
	}
	return cutOff
}

func (d *dispatcher) claimLoop() {
	defer close(d.claimerDone)
	for {
		// Wait for a free slot, then take as many as are free (up to a batch).
		select {
		case d.slots <- struct{}{}:
		case <-d.claimCtx.Done():
			return
		}
		n := 1
		for n < claimBatch {
			select {
			case d.slots <- struct{}{}:
				n++
				continue
			default:
			}
			break
		}
		lease := d.claimLease(d.e.cfg.Load())
		asked := time.Now() // the lease's local deadline is measured from before the claim
		jobs, err := d.e.store.Claim(d.claimCtx, d.owner, n, lease, d.e.now())
		for range n - len(jobs) {
			<-d.slots
		}
		if err != nil {
			if d.claimCtx.Err() != nil {
				return
			}
			d.e.log.Error("engine: claim", "error", err)
			if !d.sleep(d.poll) {
				return
			}
			continue
		}
		for _, j := range jobs {
			d.work <- claimed{job: j, until: asked.Add(lease)}
		}
		if len(jobs) < n && !d.idle() {
			return
		}
	}
}

// idle waits until work may be due: a wake-up, the poll interval, or the next due
// time the store knows of. It returns false when claiming stops.
func (d *dispatcher) idle() bool {
	wait := d.poll
	if next, ok, err := d.e.store.NextDue(d.claimCtx, d.e.now()); err == nil && ok {
		if until := next.Sub(d.e.now()); until < wait {
			wait = max(until, time.Millisecond)
		}
	}
	return d.sleep(wait)
}

func (d *dispatcher) sleep(wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-d.wakeCh:
		return true
	case <-t.C:
		return true
	case <-d.claimCtx.Done():
		return false
	}
}

func (d *dispatcher) workLoop() {
	defer d.workersWG.Done()
	for c := range d.work {
		d.outcomes <- d.run(c)
	}
}

// settleLoop records outcomes in batches: it takes what is ready (up to
// settleBatch) and writes it in one transaction.
func (d *dispatcher) settleLoop() {
	defer close(d.settlerDone)
	batch := make([]settled, 0, settleBatch)
	for first := range d.outcomes {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < settleBatch {
			select {
			case s, ok := <-d.outcomes:
				if !ok {
					break drain
				}
				batch = append(batch, s)
			default:
				break drain
			}
		}
		d.settle(batch)
		for _, s := range batch {
			if s.fast {
				<-d.fastSlots
			} else {
				<-d.slots
			}
		}
	}
}

// settle records batch. It runs on the settleLoop goroutine only, so the outcome
// and kind lists are the dispatcher's, reused batch after batch.
func (d *dispatcher) settle(batch []settled) {
	d.postponeHeld(batch)
	outs, kinds := d.settleOuts[:0], d.settleKinds[:0]
	defer func() {
		clear(outs) // drop the references to the outcomes' responses and follow-ups
		d.settleOuts, d.settleKinds = outs[:0], kinds[:0]
	}()
	followUps := false
	for i := range batch {
		s := &batch[i]
		if s.skip {
			continue
		}
		outs = append(outs, s.out)
		kinds = append(kinds, s.job.Kind)
		followUps = followUps || len(s.out.Follow) > 0
	}
	if len(outs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results, err := d.e.store.Settle(ctx, d.owner, outs)
	if err != nil {
		// Nothing was written: the leases expire and the jobs are attempted again
		// (at least once delivery), by this node or another.
		d.e.log.Error("engine: record outcomes", "jobs", len(outs), "error", err)
		return
	}
	for i, r := range results {
		switch {
		case errors.Is(r, store.ErrLeaseLost):
			d.e.log.Warn("engine: lease lost before the outcome was recorded; another node owns the job", "job", outs[i].ID)
		case r != nil:
			d.e.log.Error("engine: record outcome", "job", outs[i].ID, "error", r)
		default:
			d.e.metrics.settled(kinds[i], outs[i])
		}
	}
	if followUps {
		d.wake()
	}
}
