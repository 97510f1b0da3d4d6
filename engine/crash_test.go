package engine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// The crash test runs an engine in a child process (this test binary re-executed
// with -test.run=^TestCrashChild$) and kills it with SIGKILL in the middle of
// delivering; these variables tell the child what to do.
const (
	crashEnvChild  = "RULEFLOW_CRASH_CHILD"  // "1" in the child
	crashEnvDSN    = "RULEFLOW_CRASH_DSN"    // the outbox
	crashEnvURL    = "RULEFLOW_CRASH_URL"    // the parent's receiver
	crashEnvEvents = "RULEFLOW_CRASH_EVENTS" // how many events to handle
)

// crashCallouts is how many callouts each crash-test event fires.
const crashCallouts = 10

// crashLease is the lease margin of every engine in the crash tests: a killed
// node's claims are taken over this long after it died, plus the callouts' 2 s
// timeout.
const crashLease = 2 * time.Second

// crashConfig fires crashCallouts callouts for every update of a ticket.
func crashConfig(t testing.TB, url string) *rules.Config {
	var b strings.Builder
	b.WriteString("callouts:\n")
	names := make([]string, crashCallouts)
	for i := range names {
		names[i] = fmt.Sprintf("C%d", i)
		fmt.Fprintf(&b, "  - {name: %s, url: \"{{URL}}/hook/%d\", format: name-value, timeout: 2s, retry: {interval: 1s, max: 5}}\n", names[i], i)
	}
	fmt.Fprintf(&b, "rules:\n  - {name: fan out, form: Ticket, events: [update], callouts: [%s]}\n", strings.Join(names, ", "))
	return parseConfig(t, url, b.String())
}

// TestCrashChild is the child process of the crash tests; run on its own it skips.
// It handles the events, printing each delivery ID and then "HANDLED n" once every
// Handle call has returned, and keeps delivering until it is killed (or its stdin,
// the parent's pipe, closes).
func TestCrashChild(t *testing.T) {
	if os.Getenv(crashEnvChild) != "1" {
		t.Skip("helper process of TestCrash*: runs only when re-executed by them")
	}
	events, err := strconv.Atoi(os.Getenv(crashEnvEvents))
	if err != nil {
		t.Fatalf("%s: %v", crashEnvEvents, err)
	}
	e := openEngine(t, Options{Config: crashConfig(t, os.Getenv(crashEnvURL)), Store: os.Getenv(crashEnvDSN),
		Lease: crashLease, Workers: 16, NodeID: "crash-child"})
	out := bufio.NewWriter(os.Stdout)
	n := 0
	for i := range events {
		res, err := e.Handle(context.Background(), completeEvent(i+1))
		if err != nil {
			t.Fatalf("Handle: %v", err)
		}
		for _, f := range res.Fired {
			fmt.Fprintf(out, "ID %s\n", f.DeliveryID)
			n++
		}
	}
	fmt.Fprintf(out, "HANDLED %d\n", n)
	out.Flush()
	io.Copy(io.Discard, os.Stdin) // until the parent kills us or goes away
	os.Exit(3)
}

// slowReceiver counts every Idempotency-Key it sees; each request takes delay.
type slowReceiver struct {
	rc    *receiver
	delay atomic.Int64 // nanoseconds
}

func newSlowReceiver(t testing.TB, delay time.Duration) *slowReceiver {
	s := &slowReceiver{}
	s.delay.Store(int64(delay))
	s.rc = newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(time.Duration(s.delay.Load())):
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "ok")
	})
	return s
}

// keyCounts returns how many requests arrived per Idempotency-Key.
func (s *slowReceiver) keyCounts() map[string]int {
	s.rc.mu.Lock()
	defer s.rc.mu.Unlock()
	out := make(map[string]int, len(s.rc.keys))
	for k, v := range s.rc.keys {
		out[k] = v
	}
	return out
}

// crashChild is a running child engine.
type crashChild struct {
	cmd    *exec.Cmd
	ids    []string // delivery IDs it reported
	stderr *bytes.Buffer
}

// startCrashChild runs the child on dsn against url and returns once it has
// reported that every Handle returned.
func startCrashChild(t *testing.T, dsn, url string, events int) *crashChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvChild+"=1", crashEnvDSN+"="+dsn, crashEnvURL+"="+url, crashEnvEvents+"="+strconv.Itoa(events))
	c := &crashChild{cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = c.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill := func() {
		once.Do(func() {
			cmd.Process.Kill() // SIGKILL: no deferred functions, no Close
			cmd.Wait()
			stdin.Close()
		})
	}
	t.Cleanup(kill)
	handled := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if id, ok := strings.CutPrefix(line, "ID "); ok {
				c.ids = append(c.ids, id)
			} else if n, ok := strings.CutPrefix(line, "HANDLED "); ok {
				v, _ := strconv.Atoi(n)
				handled <- v
				return
			}
		}
		handled <- -1
	}()
	select {
	case n := <-handled:
		if n != len(c.ids) || n != events*crashCallouts {
			kill()
			t.Fatalf("child handled %d deliveries, reported %d IDs, want %d; stderr:\n%s", n, len(c.ids), events*crashCallouts, c.stderr)
		}
	case <-time.After(60 * time.Second):
		kill()
		t.Fatalf("child did not finish handling; stderr:\n%s", c.stderr)
	}
	return c
}

// kill sends SIGKILL and waits for the child to die.
func (c *crashChild) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	err := c.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Success() {
		t.Fatalf("child exited with %v, want killed", err)
	}
}

// checkAllDelivered waits until every ID is delivered and the receiver has seen each
// at least once, and reports how many were sent more than once.
func checkAllDelivered(t *testing.T, st *store.Store, recv *slowReceiver, ids []string, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, "every delivery", func() bool {
		s, err := st.Stats(context.Background(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return s.Pending == 0
	})
	s, err := st.Stats(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if s.Delivered != int64(len(ids)) || s.Failed != 0 {
		t.Errorf("outbox: %d delivered, %d failed; want %d delivered", s.Delivered, s.Failed, len(ids))
	}
	seen := recv.keyCounts()
	dups := 0
	for _, id := range ids {
		switch n := seen[id]; {
		case n == 0:
			t.Errorf("delivery %s was lost: the receiver never saw it", id)
		case n > 1:
			dups++
		}
		job, _, err := st.Get(context.Background(), id)
		if err != nil {
			t.Errorf("delivery %s is not in the outbox: %v", id, err)
		} else if job.Status != store.StatusDelivered {
			t.Errorf("delivery %s is %s", id, job.Status)
		}
	}
	if len(seen) != len(ids) {
		t.Errorf("receiver saw %d distinct keys, want %d", len(seen), len(ids))
	}
	t.Logf("%d deliveries, %d sent more than once (at least once: a request in flight when the node died is repeated)", len(ids), dups)
}

// TestCrashSQLite: a node killed with SIGKILL in the middle of delivering 1,000
// callouts loses nothing: a new engine on the same SQLite file delivers the rest
// once the dead node's leases expire.
func TestCrashSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	t.Parallel()
	recv := newSlowReceiver(t, 100*time.Millisecond)
	dsn := sqliteDSN(t)
	child := startCrashChild(t, dsn, recv.rc.URL, 100)
	waitFor(t, 30*time.Second, "deliveries to start", func() bool { return recv.rc.count() >= 100 })
	child.kill(t)

	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.Stats(context.Background(), time.Now())
	checkHistoryCovers(t, st, child.ids) // history_test.go
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s.Pending == 0 {
		t.Fatal("the child delivered everything before it was killed; the test proves nothing")
	}
	t.Logf("killed with %d delivered, %d pending (%d leased)", s.Delivered, s.Pending, s.Leased)

	recv.delay.Store(int64(time.Millisecond))
	e := openEngine(t, Options{Config: crashConfig(t, recv.rc.URL), Store: dsn, Lease: crashLease, NodeID: "survivor"})
	checkAllDelivered(t, e.Store(), recv, child.ids, 60*time.Second)
}

// TestCrashPostgres: two engines share a PostgreSQL outbox, one in a child process
// and one here; the child is killed mid-delivery and this engine takes over its
// claims when their leases expire. Nothing is lost.
func TestCrashPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	dsn := postgresDSN(t)
	t.Parallel()
	recv := newSlowReceiver(t, 100*time.Millisecond)
	// The parent's engine starts first so the schema exists before the child opens it.
	e := openEngine(t, Options{Config: crashConfig(t, recv.rc.URL), Store: dsn, Lease: crashLease, Workers: 4,
		NodeID: "parent", PollInterval: 200 * time.Millisecond})
	child := startCrashChild(t, dsn, recv.rc.URL, 100)
	waitFor(t, 30*time.Second, "deliveries to start", func() bool { return recv.rc.count() >= 100 })
	child.kill(t)
	s, err := e.Store().Stats(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if s.Pending == 0 {
		t.Fatal("everything was delivered before the child was killed; the test proves nothing")
	}
	t.Logf("killed with %d delivered, %d pending (%d leased)", s.Delivered, s.Pending, s.Leased)
	checkHistoryCovers(t, e.Store(), child.ids) // history_test.go
	recv.delay.Store(int64(time.Millisecond))
	checkAllDelivered(t, e.Store(), recv, child.ids, 60*time.Second)
}

// TestSharedPostgres: three engines in one process on one PostgreSQL schema share
// 2,000 deliveries in normal operation; none is delivered twice.
func TestSharedPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	t.Parallel()
	recv := newSlowReceiver(t, time.Millisecond)
	cfg := crashConfig(t, recv.rc.URL)
	var engines []*Engine
	for i := range 3 {
		engines = append(engines, openEngine(t, Options{Config: cfg, Store: dsn, Workers: 8, NodeID: fmt.Sprintf("node-%d", i),
			PollInterval: 100 * time.Millisecond, Registerer: prometheus.NewRegistry()}))
	}
	var (
		mu  sync.Mutex
		ids []string
		wg  sync.WaitGroup
	)
	start := time.Now()
	for i := range 200 { // 200 events × 10 callouts, spread over the three engines
		wg.Go(func() {
			res, err := engines[i%3].Handle(context.Background(), completeEvent(i+1))
			if err != nil {
				t.Errorf("Handle: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, f := range res.Fired {
				ids = append(ids, f.DeliveryID)
			}
		})
	}
	wg.Wait()
	if len(ids) != 2000 {
		t.Fatalf("fired %d deliveries, want 2000", len(ids))
	}
	t.Logf("handled in %s", time.Since(start))
	checkAllDelivered(t, engines[0].Store(), recv, ids, 60*time.Second)
	t.Logf("delivered in %s", time.Since(start))
	for k, n := range recv.keyCounts() {
		if n != 1 {
			t.Errorf("delivery %s was sent %d times, want exactly once", k, n)
		}
	}
	// Every node did part of the work, and the nodes' counters add up to 2,000
	// settled deliveries: none was recorded twice.
	total := 0.0
	for i, e := range engines {
		n := testutil.ToFloat64(e.metrics.outcomes.WithLabelValues("callout", "delivered"))
		if n == 0 {
			t.Errorf("node %d delivered nothing", i)
		}
		t.Logf("node %d delivered %.0f", i, n)
		total += n
	}
	if total != 2000 {
		t.Errorf("the nodes recorded %.0f deliveries, want 2000", total)
	}
}
