package engine

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ruleflow/ruleflow/engine/store"
)

// gatedReceiver answers 200 once its gate is opened.
func gatedReceiver(t *testing.T) (*receiver, func()) {
	gate := make(chan struct{})
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "ok")
	})
	opened := false
	open := func() {
		if !opened {
			opened = true
			close(gate)
		}
	}
	t.Cleanup(open)
	return rc, open
}

// TestFastPath: the job Handle stores is already leased to this node when Handle
// returns, and it is delivered without a claim: the claimer sleeps through the
// whole test (a poll interval of an hour, and the fast path does not wake it).
func TestFastPath(t *testing.T) {
	for _, backend := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", sqliteDSN}, {"postgres", postgresDSN}} {
		t.Run(backend.name, func(t *testing.T) {
			t.Parallel()
			rc, open := gatedReceiver(t)
			e := openEngine(t, Options{Config: parseConfig(t, rc.URL, oneCallout), Store: backend.dsn(t),
				NodeID: "fast", PollInterval: time.Hour, Registerer: prometheus.NewRegistry()})
			res, err := e.Handle(context.Background(), completeEvent(1))
			if err != nil {
				t.Fatal(err)
			}
			id := res.Fired[0].DeliveryID
			job, _, err := e.Store().Get(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if job.Status != store.StatusPending || job.LeaseOwner != "fast" || job.LeaseUntil.IsZero() {
				t.Errorf("stored job: status %s, lease %q until %v; want pending, leased to fast", job.Status, job.LeaseOwner, job.LeaseUntil)
			}
			waitFor(t, 10*time.Second, "the request to arrive", func() bool { return rc.count() == 1 })
			open()
			job, atts := waitSettled(t, e.Store(), id, 10*time.Second)
			if job.Status != store.StatusDelivered || len(atts) != 1 || atts[0].StatusCode != 200 {
				t.Errorf("job %s with %d attempts, want delivered after one 200", job.Status, len(atts))
			}
			if got := e.disp.fastPath.Load(); got != 1 {
				t.Errorf("%d jobs took the fast path, want 1", got)
			}
		})
	}
}

// TestFastPathFull: with every slot taken (one worker, its queue full), Handle
// still returns at once; the jobs beyond the slots are enqueued unleased and
// claimed when slots free up. Each is delivered exactly once.
func TestFastPathFull(t *testing.T) {
	t.Parallel()
	rc, open := gatedReceiver(t)
	e := openEngine(t, Options{Config: parseConfig(t, rc.URL, oneCallout), Store: sqliteDSN(t), Workers: 1,
		PollInterval: 50 * time.Millisecond, Registerer: prometheus.NewRegistry()})
	const n = 3 * queuedPerWorker
	ids := make([]string, 0, n)
	for i := range n {
		res, err := e.Handle(context.Background(), completeEvent(i+1))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Fired[0].DeliveryID)
	}
	if got := e.disp.fastPath.Load(); got != queuedPerWorker {
		t.Errorf("%d jobs took the fast path, want %d (the slots of one worker)", got, queuedPerWorker)
	}
	open()
	for _, id := range ids {
		if job, _ := waitSettled(t, e.Store(), id, 20*time.Second); job.Status != store.StatusDelivered {
			t.Errorf("job %s: %s, want delivered", id, job.Status)
		}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for k, c := range rc.keys {
		if c != 1 {
			t.Errorf("delivery %s sent %d times, want once", k, c)
		}
	}
}
