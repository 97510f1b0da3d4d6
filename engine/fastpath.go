package engine

import (
	"context"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
)

// The fast path. A job this engine enqueues is inserted already leased to its
// dispatcher (store.EnqueueLeased) and, once the commit returns, handed to a worker
// from memory with the payload as rendered: no claim query finds it and nothing is
// decoded again. The crash guarantees are those of a claimed job: the lease is in
// the row, committed with it, so if this node dies the lease expires and any node
// (or this one, restarted) claims the job. Claims remain for that recovery, for
// retries that fall due later, and for jobs other nodes enqueued without
// delivering them (NoDispatch).
//
// A job takes the fast path only when the dispatcher has a free fast-path slot for
// it (dispatcher.fastSlots, as many as the claimer has): the in-memory queue stays
// bounded as the claimed one is, so a job does not wait in memory on a lease it
// cannot use. Otherwise it is enqueued unleased and the claimer is woken, as
// before.

// enqueue stores jobs (dps[i] is jobs[i]'s rendered payload, nil for jobs that are
// not callouts) with the events' history in one transaction and, when the
// dispatcher can take the jobs at once, hands them to it.
func (e *Engine) enqueue(ctx context.Context, jobs []store.Job, dps []*DeliveryPayload, hist []store.HistoryRecord) error {
	d := e.disp
	if d == nil || !d.reserveFast(len(jobs)) {
		err := e.store.EnqueueHistory(ctx, jobs, hist)
		if err == nil && d != nil {
			d.wake()
		}
		return err
	}
	lease := d.claimLease(e.cfg.Load())
	asked := time.Now() // the local deadline is measured from before the insert, as for a claim
	err := e.store.EnqueueLeased(ctx, jobs, hist, d.owner, lease, e.now())
	d.handOff(jobs, dps, asked.Add(lease), err)
	return err
}

// reserveFast takes n slots for fast-path jobs if that many are free at once and
// the dispatcher is not stopping; each success must be followed by handOff.
func (d *dispatcher) reserveFast(n int) bool {
	d.fastMu.RLock()
	defer d.fastMu.RUnlock()
	if d.stopping {
		return false
	}
	for i := range n {
		select {
		case d.fastSlots <- struct{}{}:
		default:
			for range i {
				<-d.fastSlots
			}
			return false
		}
	}
	d.fastWG.Add(1)
	return true
}

// handOff queues the jobs reserveFast made room for, whose leased insert ended with
// err; on an error their slots are freed (if the insert did commit after all, its
// leases expire and a claim recovers the jobs).
func (d *dispatcher) handOff(jobs []store.Job, dps []*DeliveryPayload, until time.Time, err error) {
	defer d.fastWG.Done()
	if err != nil {
		for range jobs {
			<-d.fastSlots
		}
		return
	}
	d.fastPath.Add(int64(len(jobs)))
	for i, j := range jobs {
		// Never blocks: work has room for every slot.
		d.work <- claimed{job: j, until: until, payload: dps[i], fast: true}
	}
}
