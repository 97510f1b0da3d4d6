package store

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
)

// op is one caller's write, run by the committer inside a shared transaction.
//
// fn returns two errors. result is the caller's own outcome that leaves the
// transaction usable and wrote nothing (ErrLeaseLost, ErrNotFound, ErrDuplicate found
// by a read); err is a database failure that aborts the whole transaction.
type op struct {
	ctx    context.Context
	weight int
	fn     func(ctx context.Context, t tx) (result, err error)
	// idempotent means fn may run again after a commit whose outcome is unknown
	// (its reply was lost): told so by again, it compares with what it finds
	// instead of duplicating or failing.
	idempotent bool
	again      bool // set by the committer before such a second run
	// insert, when set, is the op's write as data (an Enqueue): in a group commit
	// the inserts of all such ops are merged into one multi-row INSERT (see
	// committer.merge) instead of running fn for each.
	insert *insertSpec
	done   chan error
	state  atomic.Int32 // opQueued, then opTaken by the committer or opAbandoned by the caller
}

// The states of an op. The committer and a caller whose context ends race to move
// an op out of opQueued; whoever wins decides, so a caller never reports failure for
// a write that commits, and the committer never runs a write nobody waits for.
const (
	opQueued int32 = iota
	opTaken
	opAbandoned
)

// committer group-commits writes. One goroutine takes every op that is queued when
// it becomes free (up to maxBatch in weight), runs them in one write transaction and
// commits once, so a burst of writes costs one commit and one fsync instead of one
// each. No op waits for company: an idle store commits a lone op at once; batches
// form from the ops that arrive while the previous commit is in flight.
//
// If the shared transaction fails, each op of the batch is retried alone, so a bad
// op cannot fail its neighbours and every caller gets its own error. When a COMMIT
// fails its outcome is unknown (the reply may have been lost after the database
// committed): an idempotent op (Enqueue) is then run again, up to commitRetries
// times, and finds its rows rather than failing or duplicating them. On
// PostgreSQL the transaction pipelines (pgWriteTx): BEGIN and the merged inserts
// go to the server with the next statement or with the COMMIT, so a group of
// inserts alone is one round trip; a failure of a statement sent with the COMMIT
// is known not to have committed (errNotCommitted), any other failure there is
// the COMMIT's, of unknown outcome.
type committer struct {
	db       backend
	log      *slog.Logger
	maxBatch int
	ops      chan *op
	// merge writes the inserts of several ops with as few statements as it can,
	// inside the group's transaction; an error aborts the transaction (each op is
	// then run alone, by its fn). Nil means every op runs its fn.
	merge func(ctx context.Context, t tx, inserts []*insertSpec) error

	commits atomic.Int64 // transactions committed, for tests and metrics

	mu       sync.RWMutex // guards closed against sends on a closed channel
	closed   bool
	finished chan struct{}
}

func newCommitter(db backend, maxBatch int, log *slog.Logger, merge func(context.Context, tx, []*insertSpec) error) *committer {
	c := &committer{
		db:       db,
		merge:    merge,
		log:      log,
		maxBatch: maxBatch,
		ops:      make(chan *op, 4*maxBatch),
		finished: make(chan struct{}),
	}
	go c.run()
	return c
}

// do queues fn and waits for its commit. If ctx ends before the committer takes
// the write into a transaction, the write is dropped and do returns ctx.Err(); once
// taken, do waits for the commit and returns its result, so an error from do means
// nothing was written — except when the COMMIT itself failed (the connection broke
// during it) and its outcome is unknown; an idempotent op (Store.enqueue) is then run
// again.
func (c *committer) do(ctx context.Context, weight int, fn func(context.Context, tx) (error, error)) error {
	return c.submit(&op{ctx: ctx, weight: weight, fn: fn, done: make(chan error, 1)})
}

func (c *committer) submit(o *op) error {
	ctx := o.ctx
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	select {
	case c.ops <- o:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		if o.state.CompareAndSwap(opQueued, opAbandoned) {
			return ctx.Err()
		}
		return <-o.done // taken: its transaction runs on a detached context
	}
}

func (c *committer) isClosed() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.closed
}

// close stops accepting ops, commits those already queued and waits for the
// committer goroutine to end.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.ops)
	}
	c.mu.Unlock()
	<-c.finished
}

func (c *committer) run() {
	defer close(c.finished)
	batch := make([]*op, 0, c.maxBatch)
	for first := range c.ops {
		batch = append(batch[:0], first)
		weight := first.weight
	fill:
		for weight < c.maxBatch {
			select {
			case o, ok := <-c.ops:
				if !ok {
					break fill
				}
				batch = append(batch, o)
				weight += o.weight
			default:
				break fill
			}
		}
		c.commit(batch)
		// Yield after handing out results: the callers just woken sit on this
		// P's run queue, and the next transaction (CPU-bound SQLite) would keep
		// them there until the scheduler preempts it or the other P steals them,
		// so the next group would hold only the writes that were already
		// waiting. Letting them run first lets them come back with their next
		// writes: on `ruleflow bench` (64 save hooks, SQLite) groups grew from
		// 18 to 34 inserts and throughput rose 13–20 % (README, session 5).
		runtime.Gosched()
	}
}

// commit runs batch in one transaction; on failure it runs each op alone.
func (c *committer) commit(batch []*op) {
	// Ops whose caller gave up before the batch started are dropped unrun.
	live := batch[:0]
	for _, o := range batch {
		if o.ctx.Err() != nil && o.state.CompareAndSwap(opQueued, opAbandoned) {
			o.done <- o.ctx.Err()
			continue
		}
		if !o.state.CompareAndSwap(opQueued, opTaken) && o.state.Load() == opAbandoned {
			continue
		}
		live = append(live, o)
	}
	if len(live) == 0 {
		return
	}
	if len(live) > 1 {
		results, atCommit, err := c.runTx(live)
		if err == nil {
			for i, o := range live {
				o.done <- results[i]
			}
			return
		}
		for _, o := range live {
			o.again = o.again || atCommit // the batch may have committed
		}
		c.log.Debug("group commit failed; retrying its writes one by one", "writes", len(live), "err", err)
	}
	for _, o := range live {
		results, atCommit, err := c.runTx([]*op{o})
		for retry := 0; err != nil && atCommit && o.idempotent && retry < commitRetries; retry++ {
			c.log.Warn("store: commit failed, outcome unknown; running the write again (it is idempotent)", "err", err)
			o.again = true
			results, atCommit, err = c.runTx([]*op{o})
		}
		if err != nil {
			o.done <- err
		} else {
			o.done <- results[0]
		}
	}
}

// mergedInserts is what mergeInserts did: the ops whose insert it wrote.
type mergedInserts struct {
	done map[*op]bool
	err  error
}

// mergeInserts writes, with one merged insert, the inserts of the ops of a group
// that carry one (first runs only: a run after an unknown commit outcome needs
// the op's own idempotent path). Fewer than two such ops are left to their fn.
func (c *committer) mergeInserts(ctx context.Context, t tx, ops []*op) mergedInserts {
	if c.merge == nil || len(ops) < 2 {
		return mergedInserts{}
	}
	n := 0
	for _, o := range ops {
		if o.insert != nil && !o.again {
			n++
		}
	}
	if n < 2 {
		return mergedInserts{}
	}
	specs := make([]*insertSpec, 0, n)
	done := make(map[*op]bool, n)
	for _, o := range ops {
		if o.insert != nil && !o.again {
			specs = append(specs, o.insert)
			done[o] = true
		}
	}
	if err := c.merge(ctx, t, specs); err != nil {
		return mergedInserts{err: err}
	}
	return mergedInserts{done: done}
}

// commitRetries is how many times an idempotent write is run again after a COMMIT
// that failed with an unknown outcome.
const commitRetries = 2

// runTx runs ops in one write transaction. The transaction's context is detached from
// the callers' so one caller giving up cannot abort the others' commit. atCommit
// reports that the ops ran and the COMMIT itself failed: its outcome is unknown.
func (c *committer) runTx(ops []*op) (results []error, atCommit bool, err error) {
	ctx := context.WithoutCancel(ops[0].ctx)
	results = make([]error, len(ops))
	defer c.commits.Add(1)
	t, err := c.db.begin(ctx, true)
	if err != nil {
		return nil, false, err
	}
	merged := c.mergeInserts(ctx, t, ops)
	if merged.err != nil {
		t.rollback(ctx)
		return nil, false, merged.err
	}
	for i, o := range ops {
		if merged.done[o] {
			continue // inserted by the merged statement: result nil
		}
		res, err := o.fn(ctx, t)
		if err != nil {
			t.rollback(ctx)
			return nil, false, err
		}
		results[i] = res
	}
	if err := t.commit(ctx); err != nil {
		// A statement pipelined with the COMMIT failed (pgWriteTx): the server
		// skipped the COMMIT, so the outcome is known.
		var nc *errNotCommitted
		return nil, !errors.As(err, &nc), err
	}
	return results, false, nil
}
