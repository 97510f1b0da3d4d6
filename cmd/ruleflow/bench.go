package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/engine"
	"github.com/ruleflow/ruleflow/rules"
)

// benchOptions are the flags of `ruleflow bench`.
type benchOptions struct {
	store       string
	n           int
	concurrency int
	format      string
	workers     int
	nodes       int
	hooksOfNode bool // each node has --concurrency save hooks of its own
	timeout     time.Duration
	cpuProfile  string
}

func newBenchCommand() *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench [--store DSN] [--n 20000] [--concurrency 64] [--format name-value|soap|xmlrpc|json] [--nodes N]",
		Short: "Measure end-to-end delivery throughput and latency on this machine",
		Long: `Bench starts a loopback HTTP receiver, a configuration with one rule firing one
callout in the chosen format, and an engine on an outbox (a temporary SQLite file
unless --store names one). It handles N update events from --concurrency goroutines
(as that many save hooks would), waits until every delivery has been received and
recorded, and prints the throughput in deliveries per second and the p50 and p99
latency from the start of Handle to the receipt of the request.

It then posts the same request bodies to the same receiver with a plain net/http
client at the same concurrency, and prints that raw ceiling and the share of it the
engine reaches. With --store the deliveries are left in that outbox.

With --nodes N (above 1, and a PostgreSQL --store) it runs N engines on that one
database, as N ruleflow serve nodes would, and spreads the events over them in
turn; a run with one node comes first, and the report compares the two: the
throughput of N nodes against one, and the PostgreSQL write transactions
(commits) per delivery of each. The --concurrency save hooks are shared by the
nodes, so each node's group commits can hold at most 1/N of them; with
--hooks-per-node every node has --concurrency save hooks of its own (N times as
many in all), as when each node serves its own share of a host application's
servers.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBench(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.store, "store", "", "outbox DSN (sqlite:PATH or postgres://...); empty means a temporary SQLite file")
	f.IntVar(&o.n, "n", 20000, "number of events (one delivery each)")
	f.IntVar(&o.concurrency, "concurrency", 64, "goroutines calling Handle, and posting in the raw run")
	f.StringVar(&o.format, "format", "name-value", "callout format: name-value, soap, xmlrpc or json")
	f.IntVar(&o.workers, "workers", 0, "delivery workers of the engine; 0 means the engine's default")
	f.IntVar(&o.nodes, "nodes", 1, "engines (nodes) sharing the --store PostgreSQL outbox; above 1, a one-node run comes first for comparison")
	f.BoolVar(&o.hooksOfNode, "hooks-per-node", false, "with --nodes: give every node --concurrency save hooks of its own instead of sharing them")
	f.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up when the deliveries take longer than this")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the engine runs (not the raw run) to this file, for go tool pprof")
	return cmd
}

// benchCallouts holds the callout definition of each format, without its url.
var benchCallouts = map[string]string{
	"name-value": "format: name-value",
	"soap":       "format: soap\n    method_name: CloseAlarm\n    soap_action: http://tempuri.org/CloseAlarm",
	"xmlrpc":     "format: xmlrpc\n    method_name: closeAlarm",
	"json":       "format: json",
}

// benchConfig is the configuration bench runs: callout "bench" fired on every update
// of a Ticket.
func benchConfig(url, format string) (*rules.Config, error) {
	spec, ok := benchCallouts[format]
	if !ok {
		return nil, fmt.Errorf("--format %q: want name-value, soap, xmlrpc or json", format)
	}
	src := fmt.Sprintf(`version: 1
timezone: UTC
domain: BENCH.EXAMPLE.COM
forms:
  Ticket:
    fields:
      TicketID:         {id: 1, type: integer}
      TicketNumber:     {id: 2, type: character}
      Status:           {id: 7, type: selection, options: [New, In Progress, Complete]}
      CreateDate:       {id: 3, type: datetime}
      LastActivityDate: {id: 6, type: datetime}
    callout_fields: {id: TicketID, number: TicketNumber, status: Status, created_datetime: CreateDate, last_activity_datetime: LastActivityDate}
callouts:
  - name: bench
    url: %s/bench
    %s
    retry: {interval: 1s, max: 10}
rules:
  - name: bench
    form: Ticket
    events: [update]
    condition: "'Status' = \"Complete\""
    callouts: [bench]
`, url, spec)
	return rules.Parse("bench.yaml", []byte(src))
}

// benchEvent is the i-th event of a run: ticket i completed.
func benchEvent(i int) *rules.Event {
	now := time.Now()
	number := fmt.Sprintf("T%s.%06d", now.Format("20060102"), i)
	return &rules.Event{
		Kind: rules.KindUpdate, Form: "Ticket", EntryID: fmt.Sprint(i), User: "bench", Time: now,
		Before: rules.Record{"TicketID": int64(i), "TicketNumber": number, "Status": "In Progress", "CreateDate": now},
		After:  rules.Record{"TicketID": int64(i), "TicketNumber": number, "Status": "Complete", "CreateDate": now, "LastActivityDate": now},
	}
}

// benchReceiver is the loopback receiver: it notes when each Idempotency-Key first
// arrives and counts every request.
type benchReceiver struct {
	srv      *http.Server
	url      string
	requests atomic.Int64

	mu    sync.Mutex
	first map[string]time.Time
	done  chan struct{} // closed when want distinct keys have arrived
	want  int
}

func startBenchReceiver(want int) (*benchReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &benchReceiver{url: "http://" + ln.Addr().String(), first: make(map[string]time.Time, want), done: make(chan struct{}), want: want}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *benchReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	io.Copy(io.Discard, req.Body)
	now := time.Now()
	r.requests.Add(1)
	if key := req.Header.Get("Idempotency-Key"); key != "" && key != "raw" {
		r.mu.Lock()
		if _, seen := r.first[key]; !seen {
			r.first[key] = now
			if len(r.first) == r.want {
				close(r.done)
			}
		}
		r.mu.Unlock()
	}
	io.WriteString(w, "ok")
}

func (r *benchReceiver) received() map[string]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.first
}

func (r *benchReceiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.srv.Shutdown(ctx)
}

// benchResult is what one run measured.
type benchResult struct {
	handled, delivered time.Duration
	p50, p99           time.Duration
	requests           int64
	commits            int64  // write transactions of the nodes' stores during the run
	perNode            string // the commits of each node
}

func runBench(ctx context.Context, stdout, stderr io.Writer, o benchOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.n <= 0 {
		return fmt.Errorf("--n %d: want at least 1 event", o.n)
	}
	if o.concurrency <= 0 {
		return fmt.Errorf("--concurrency %d: want at least 1", o.concurrency)
	}
	if o.workers < 0 {
		return fmt.Errorf("--workers %d: want 0 (the default) or more", o.workers)
	}
	switch {
	case o.nodes < 1:
		return fmt.Errorf("--nodes %d: want at least 1", o.nodes)
	case o.hooksOfNode && o.nodes < 2:
		return errors.New("--hooks-per-node: needs --nodes above 1")
	case o.nodes > 1 && !strings.HasPrefix(o.store, "postgres"):
		return fmt.Errorf("--nodes %d: several nodes need a shared PostgreSQL outbox (--store postgres://…)", o.nodes)
	}
	if _, err := benchConfig("http://127.0.0.1:9", o.format); err != nil { // --format, before anything starts
		return err
	}
	dsn, storeName := o.store, "the outbox "+o.store
	if dsn == "" {
		dir, err := os.MkdirTemp("", "ruleflow-bench-")
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(dir)
		dsn, storeName = "sqlite:"+filepath.Join(dir, "bench.db"), "a temporary SQLite outbox"
	}
	if strings.HasPrefix(dsn, "postgres") {
		storeName = "a PostgreSQL outbox" // the DSN may hold a password
	}
	var raw [32]byte
	rand.Read(raw[:])
	key, err := rules.ParseKey(hex.EncodeToString(raw[:]))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ruleflow bench: %d events, one %s callout each, %d concurrent save hooks, %s\n", o.n, o.format, o.concurrency, storeName)
	stopProfile, err := startCPUProfile(o.cpuProfile)
	if err != nil {
		return err
	}
	one, err := benchNodes(ctx, stderr, dsn, key, 1, o)
	if err != nil {
		stopProfile()
		return err
	}
	res := one
	var many benchResult
	if o.nodes > 1 {
		if many, err = benchNodes(ctx, stderr, dsn, key, o.nodes, o); err != nil {
			stopProfile()
			return err
		}
	}
	stopProfile()
	// The ceiling: the same request, posted by plain net/http to a receiver of its own.
	rawRecv, err := startBenchReceiver(o.n)
	if err != nil {
		return fmt.Errorf("bench: receiver: %w", err)
	}
	defer rawRecv.close()
	cfg, err := benchConfig(rawRecv.url, o.format)
	if err != nil {
		return err
	}
	req, err := callouts.Render(cfg, cfg.Callouts[0], benchEvent(1))
	if err != nil {
		return err
	}
	rawTime, err := benchRaw(ctx, req, o)
	if err != nil {
		return err
	}
	rate := float64(o.n) / res.delivered.Seconds()
	rawRate := float64(o.n) / rawTime.Seconds()
	if o.nodes > 1 {
		fmt.Fprintln(stdout, "one node:")
	}
	fmt.Fprintf(stdout, "handled:    %d events in %s (%.0f events/s)\n", o.n, res.handled.Round(time.Millisecond), float64(o.n)/res.handled.Seconds())
	fmt.Fprintf(stdout, "delivered:  %d in %s: %.0f deliveries/s (%d requests, %d repeated)\n", o.n, res.delivered.Round(time.Millisecond), rate, res.requests, res.requests-int64(o.n))
	fmt.Fprintf(stdout, "latency:    p50 %s, p99 %s (from Handle to receipt)\n", roundLatency(res.p50), roundLatency(res.p99))
	if o.nodes > 1 {
		fmt.Fprintf(stdout, "commits:    %.3f per delivery (%d write transactions)\n", float64(res.commits)/float64(o.n), res.commits)
		manyRate := float64(o.n) / many.delivered.Seconds()
		if o.hooksOfNode {
			fmt.Fprintf(stdout, "%d nodes, %d save hooks each:\n", o.nodes, o.concurrency)
		} else {
			fmt.Fprintf(stdout, "%d nodes, sharing the %d save hooks:\n", o.nodes, o.concurrency)
		}
		fmt.Fprintf(stdout, "handled:    %d events in %s (%.0f events/s)\n", o.n, many.handled.Round(time.Millisecond), float64(o.n)/many.handled.Seconds())
		fmt.Fprintf(stdout, "delivered:  %d in %s: %.0f deliveries/s (%d requests, %d repeated)\n", o.n, many.delivered.Round(time.Millisecond), manyRate, many.requests, many.requests-int64(o.n))
		fmt.Fprintf(stdout, "latency:    p50 %s, p99 %s (from Handle to receipt)\n", roundLatency(many.p50), roundLatency(many.p99))
		fmt.Fprintf(stdout, "commits:    %.3f per delivery (%d write transactions, %s)\n", float64(many.commits)/float64(o.n), many.commits, many.perNode)
		fmt.Fprintf(stdout, "nodes:      %d nodes deliver %.2f× one node\n", o.nodes, manyRate/rate)
	}
	fmt.Fprintf(stdout, "raw ceiling: %.0f requests/s (plain net/http, %d goroutines, same bodies)\n", rawRate, o.concurrency)
	fmt.Fprintf(stdout, "ratio:      %.2f of the raw ceiling\n", rate/rawRate)
	if o.nodes > 1 {
		fmt.Fprintf(stdout, "ratio:      %.2f of the raw ceiling with %d nodes\n", float64(o.n)/many.delivered.Seconds()/rawRate, o.nodes)
	}
	return nil
}

// benchNodes runs one measurement with nodes engines on dsn, each with its own
// lease owner, and a fresh receiver.
func benchNodes(ctx context.Context, stderr io.Writer, dsn string, key *rules.Key, nodes int, o benchOptions) (benchResult, error) {
	recv, err := startBenchReceiver(o.n)
	if err != nil {
		return benchResult{}, fmt.Errorf("bench: receiver: %w", err)
	}
	defer recv.close()
	cfg, err := benchConfig(recv.url, o.format)
	if err != nil {
		return benchResult{}, err
	}
	engs := make([]*engine.Engine, 0, nodes)
	defer func() {
		for _, e := range engs {
			e.Close()
		}
	}()
	for i := range nodes {
		eng, err := engine.Open(ctx, engine.Options{
			Config: cfg, Store: dsn, Key: key, Workers: o.workers, NodeID: fmt.Sprintf("bench-%d-%d-of-%d", os.Getpid(), i+1, nodes),
			Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		if err != nil {
			return benchResult{}, err
		}
		engs = append(engs, eng)
	}
	before := make([]int64, nodes)
	for i, e := range engs {
		before[i] = e.Store().Commits()
	}
	res, err := benchEngine(ctx, engs, recv, o)
	if err != nil {
		return res, err
	}
	per := make([]string, nodes)
	for i, e := range engs {
		c := e.Store().Commits() - before[i]
		res.commits += c
		per[i] = fmt.Sprint(c)
	}
	res.perNode = "per node " + strings.Join(per, " + ")
	return res, nil
}

// startCPUProfile starts a CPU profile into path (none when path is empty) and
// returns the function that stops it.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// roundLatency keeps three significant digits.
func roundLatency(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// benchEngine handles o.n events from o.concurrency goroutines, event i on engine
// i mod len(engs), and waits until every delivery has been received and settled in
// the outbox.
func benchEngine(ctx context.Context, engs []*engine.Engine, recv *benchReceiver, o benchOptions) (benchResult, error) {
	var (
		res     benchResult
		next    atomic.Int64
		wg      sync.WaitGroup
		mu      sync.Mutex
		started = make(map[string]time.Time, o.n)
		errOnce sync.Once
		runErr  error
	)
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	start := time.Now()
	hooks := o.concurrency
	if o.hooksOfNode {
		hooks *= len(engs)
	}
	for g := range hooks {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(o.n) || ctx.Err() != nil {
					return
				}
				eng := engs[int(i)%len(engs)] // events in turn over the nodes
				if o.hooksOfNode {
					eng = engs[g%len(engs)] // a hook calls its own node
				}
				t0 := time.Now()
				r, err := eng.Handle(ctx, benchEvent(int(i)))
				if err == nil && len(r.Fired) != 1 {
					err = fmt.Errorf("event %d fired %d callouts, want 1", i, len(r.Fired))
				}
				if err != nil {
					errOnce.Do(func() { runErr = err; cancel() })
					return
				}
				mu.Lock()
				started[r.Fired[0].DeliveryID] = t0
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if runErr != nil {
		return res, runErr
	}
	res.handled = time.Since(start)
	select {
	case <-recv.done:
	case <-ctx.Done():
		return res, fmt.Errorf("bench: %d of %d deliveries received before %s", len(recv.received()), o.n, o.timeout)
	}
	// Received is not yet recorded: wait for the outbox to settle too.
	for {
		s, err := engs[0].Store().Stats(ctx, time.Now())
		if err != nil {
			return res, err
		}
		if s.Pending == 0 {
			break
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
			return res, fmt.Errorf("bench: %d deliveries still pending after %s", s.Pending, o.timeout)
		}
	}
	res.delivered = time.Since(start)
	res.requests = recv.requests.Load()
	lat := make([]time.Duration, 0, o.n)
	for id, at := range recv.received() {
		if t0, ok := started[id]; ok {
			lat = append(lat, at.Sub(t0))
		}
	}
	if len(lat) != o.n {
		return res, fmt.Errorf("bench: received %d known deliveries, want %d", len(lat), o.n)
	}
	slices.Sort(lat)
	res.p50, res.p99 = percentile(lat, 0.50), percentile(lat, 0.99)
	return res, nil
}

// percentile returns the q-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// benchRaw posts req o.n times from o.concurrency goroutines with a plain net/http
// client and returns how long it took.
func benchRaw(ctx context.Context, req *callouts.Request, o benchOptions) (time.Duration, error) {
	client := callouts.NewClient()
	defer client.CloseIdleConnections()
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		runErr  error
	)
	start := time.Now()
	for range o.concurrency {
		wg.Go(func() {
			for next.Add(1) <= int64(o.n) {
				hreq, err := http.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
				if err == nil {
					for k, v := range req.Header {
						hreq.Header[k] = []string{v}
					}
					hreq.Header.Set("Idempotency-Key", "raw")
					var resp *http.Response
					if resp, err = client.Do(hreq); err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							err = errors.New(resp.Status)
						}
					}
				}
				if err != nil {
					errOnce.Do(func() { runErr = fmt.Errorf("bench: raw run: %w", err) })
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), runErr
}
