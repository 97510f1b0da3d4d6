package store

import (
	"context"
	"log/slog"
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
// op cannot fail its neighbours and every caller gets its own error.
type committer struct {
	db       backend
	log      *slog.Logger
	maxBatch int
	ops      chan *op

	commits atomic.Int64 // transactions committed, for tests and metrics

	mu       sync.RWMutex // guards closed against sends on a closed channel
	closed   bool
	finished chan struct{}
}

func newCommitter(db backend, maxBatch int, log *slog.Logger) *committer {
	c := &committer{
		db:       db,
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
// taken, do waits for the commit and returns its result, so an error from do always
// means nothing was written.
func (c *committer) do(ctx context.Context, weight int, fn func(context.Context, tx) (error, error)) error {
	o := &op{ctx: ctx, weight: weight, fn: fn, done: make(chan error, 1)}
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
		results, err := c.runTx(live)
		if err == nil {
			for i, o := range live {
				o.done <- results[i]
			}
			return
		}
		c.log.Debug("group commit failed; retrying its writes one by one", "writes", len(live), "err", err)
	}
	for _, o := range live {
		results, err := c.runTx([]*op{o})
		if err != nil {
			o.done <- err
		} else {
			o.done <- results[0]
		}
	}
}

// runTx runs ops in one write transaction. The transaction's context is detached from
// the callers' so one caller giving up cannot abort the others' commit.
func (c *committer) runTx(ops []*op) ([]error, error) {
	ctx := context.WithoutCancel(ops[0].ctx)
	results := make([]error, len(ops))
	defer c.commits.Add(1)
	err := writeTx(ctx, c.db, func(t tx) error {
		for i, o := range ops {
			res, err := o.fn(ctx, t)
			if err != nil {
				return err
			}
			results[i] = res
		}
		return nil
	})
	return results, err
}
