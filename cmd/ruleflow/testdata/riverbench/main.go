// Command riverbench is the River anchor of `ruleflow bench`: the same workload —
// N events from --concurrency goroutines, each inserting one job (one durable
// insert per event, as a save hook would), each job posting the same name-value
// body to a loopback receiver — on River v0.51.2 with riverpgxv5 and its default
// fetch settings. It is a separate module so that ruleflow does not depend on
// River. Run it beside `ruleflow bench --store postgres://…` in the same session:
//
//	cd cmd/ruleflow/testdata/riverbench
//	go run . --store 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable' --n 5000
//
// It creates (and first drops) the schema riverbench in that database.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// deliverArgs is one delivery: the event number and the rendered body.
type deliverArgs struct {
	N    int    `json:"n"`
	Body string `json:"body"`
}

func (deliverArgs) Kind() string { return "deliver" }

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	client *http.Client
	url    string
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader([]byte(job.Args.Body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Idempotency-Key", fmt.Sprint(job.Args.N))
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

func main() {
	dsn := flag.String("store", "", "PostgreSQL DSN")
	n := flag.Int("n", 5000, "events (one job each)")
	concurrency := flag.Int("concurrency", 64, "goroutines inserting")
	workers := flag.Int("workers", 32, "River MaxWorkers of the queue (ruleflow's default worker count)")
	flag.Parse()
	if err := run(*dsn, *n, *concurrency, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "riverbench:", err)
		os.Exit(1)
	}
}

func run(dsn string, n, concurrency, workers int) error {
	ctx := context.Background()
	if dsn == "" {
		return errors.New("--store postgres://… is required")
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS riverbench CASCADE; CREATE SCHEMA riverbench"); err != nil {
		return err
	}
	driver := riverpgxv5.New(pool)
	mig, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: "riverbench"})
	if err != nil {
		return err
	}
	if _, err := mig.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return err
	}

	var (
		mu    sync.Mutex
		first = make(map[string]time.Time, n)
		done  = make(chan struct{})
		reqs  atomic.Int64
	)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		now := time.Now()
		reqs.Add(1)
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		if _, ok := first[key]; !ok {
			first[key] = now
			if len(first) == n {
				close(done)
			}
		}
		mu.Unlock()
		io.WriteString(w, "ok")
	})}
	go srv.Serve(ln)
	defer srv.Close()

	ws := river.NewWorkers()
	river.AddWorker(ws, &deliverWorker{client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}, url: "http://" + ln.Addr().String() + "/bench"})
	client, err := river.NewClient(driver, &river.Config{
		Schema:  "riverbench",
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}},
		Workers: ws,
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	defer client.Stop(ctx)

	body := "id=1&number=T20261202.000001&status=Complete&created_datetime=2026-12-02T01:00:00.0000000%2B00:00&last_activity_datetime=2026-12-02T01:00:00.0000000%2B00:00&domain=BENCH.EXAMPLE.COM&udf="
	started := make([]time.Time, n+1)
	var next atomic.Int64
	var wg sync.WaitGroup
	var insertErr atomic.Value
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				started[i] = time.Now()
				if _, err := client.Insert(ctx, deliverArgs{N: i, Body: body}, nil); err != nil {
					insertErr.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := insertErr.Load().(error); err != nil {
		return err
	}
	handled := time.Since(start)
	select {
	case <-done:
	case <-time.After(10 * time.Minute):
		return fmt.Errorf("%d of %d deliveries received", len(first), n)
	}
	delivered := time.Since(start)
	lat := make([]time.Duration, 0, n)
	mu.Lock()
	for i := 1; i <= n; i++ {
		lat = append(lat, first[fmt.Sprint(i)].Sub(started[i]))
	}
	mu.Unlock()
	slices.Sort(lat)
	fmt.Printf("river bench: %d events, one job each, %d concurrent inserters, River v0.51.2 riverpgxv5, %d workers\n", n, concurrency, workers)
	fmt.Printf("inserted:   %d in %s (%.0f events/s)\n", n, handled.Round(time.Millisecond), float64(n)/handled.Seconds())
	fmt.Printf("delivered:  %d in %s: %.0f deliveries/s (%d requests)\n", n, delivered.Round(time.Millisecond), float64(n)/delivered.Seconds(), reqs.Load())
	fmt.Printf("latency:    p50 %s, p99 %s (from Insert to receipt)\n", lat[n/2].Round(10*time.Microsecond), lat[n*99/100].Round(10*time.Microsecond))
	return nil
}
