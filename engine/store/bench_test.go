package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// benchStores lists the backends a benchmark runs on: SQLite (synchronous FULL, the
// default, and NORMAL) and PostgreSQL when RULEFLOW_TEST_POSTGRES is set.
func benchStores(b *testing.B, fn func(b *testing.B, s *Store)) {
	for _, tc := range []struct{ name, opts string }{
		{"sqlite", ""},
		{"sqlite-normal", "?synchronous=normal"},
		{"postgres", ""},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dsn := "sqlite:" + filepath.Join(b.TempDir(), "bench.db") + tc.opts
			if tc.name == "postgres" {
				if os.Getenv(postgresEnv) == "" {
					b.Skip(postgresEnv + " is not set: skipping the PostgreSQL benchmark")
				}
				dsn = postgresDSN(b)
			}
			s, err := Open(context.Background(), dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			fn(b, s)
		})
	}
}

func benchJob() Job {
	return Job{Kind: KindCallout, Callout: "VSA close alert", Rule: "Close RMM alert", Form: "Ticket", EntryID: "8176",
		EventKind: "update", MaxAttempts: 11, NextAt: t0,
		Payload: []byte(`{"method":"POST","url":"https://rmm.example.com/ws/TicketService.asmx","headers":{"Content-Type":"text/xml; charset=utf-8"},"body":"PHNvYXA6RW52ZWxvcGU+PC9zb2FwOkVudmVsb3BlPg=="}`)}
}

func reportRate(b *testing.B, n int, unit string) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), unit)
}

// BenchmarkEnqueue: one job per Enqueue call, from one goroutine (one commit per
// job) and from 64 goroutines (group commit folds them together).
func BenchmarkEnqueue(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		b.Run("single", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Enqueue(ctx, []Job{benchJob()}); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, b.N, "jobs/s")
		})
		b.Run("parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(32) // 32 × GOMAXPROCS goroutines, like concurrent save hooks
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.Enqueue(ctx, []Job{benchJob()}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportRate(b, b.N, "jobs/s")
		})
	})
}

// BenchmarkClaimComplete: a dispatcher's store work per delivery. "batch" claims 64
// jobs and settles them with one Settle; "workers" claims 64 and completes each from
// its own goroutine with Complete (group commit joins the commits).
func BenchmarkClaimComplete(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		b.Run("batch", func(b *testing.B) {
			enqueueBench(b, s, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			done := 0
			for done < b.N {
				jobs, err := s.Claim(ctx, "bench", 64, time.Minute, t0)
				if err != nil {
					b.Fatal(err)
				}
				if len(jobs) == 0 {
					b.Fatalf("outbox empty after %d of %d", done, b.N)
				}
				outs := make([]Outcome, len(jobs))
				for i, j := range jobs {
					outs[i] = Outcome{ID: j.ID, Status: StatusDelivered, Attempt: Attempt{StartedAt: t0, Duration: time.Millisecond, StatusCode: 200, Response: []byte("OK")}}
				}
				res, err := s.Settle(ctx, "bench", outs)
				if err != nil {
					b.Fatal(err)
				}
				for _, e := range res {
					if e != nil {
						b.Fatal(e)
					}
				}
				done += len(jobs)
			}
			reportRate(b, done, "deliveries/s")
		})
		b.Run("workers", func(b *testing.B) {
			enqueueBench(b, s, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			done := 0
			for done < b.N {
				jobs, err := s.Claim(ctx, "bench", 64, time.Minute, t0)
				if err != nil {
					b.Fatal(err)
				}
				if len(jobs) == 0 {
					b.Fatalf("outbox empty after %d of %d", done, b.N)
				}
				var wg sync.WaitGroup
				for _, j := range jobs {
					wg.Go(func() {
						a := Attempt{StartedAt: t0, Duration: time.Millisecond, StatusCode: 200, Response: []byte("OK")}
						if err := s.Complete(ctx, j.ID, "bench", a, nil); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
				done += len(jobs)
			}
			reportRate(b, done, "deliveries/s")
		})
	})
}

// enqueueBench fills the outbox with n due jobs, outside the timer.
func enqueueBench(b *testing.B, s *Store, n int) {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	for n > 0 {
		batch := make([]Job, min(n, 1000))
		for i := range batch {
			batch[i] = benchJob()
		}
		if err := s.Enqueue(context.Background(), batch); err != nil {
			b.Fatal(fmt.Errorf("fill: %w", err))
		}
		n -= len(batch)
	}
}
