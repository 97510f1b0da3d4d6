package engine

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// BenchmarkHandleNoFsync is BenchmarkHandleDurable's serial case on a SQLite
// store with synchronous=normal (in WAL mode a commit does not wait for fsync),
// reporting besides the wall time the process's CPU time per event (user +
// system, from getrusage): what Handle costs besides the disk flush, measurable
// on a machine whose disk and cores are shared and noisy. It prices the rule
// statistics, the callout counts and the management index against main.
func BenchmarkHandleNoFsync(b *testing.B) {
	e := openEngine(b, Options{Config: benchConfig(b, "http://127.0.0.1:9"), Store: sqliteDSN(b) + "?synchronous=normal", NoDispatch: true})
	ctx := context.Background()
	b.ReportAllocs()
	ev := benchEvent()
	before := cpuTime()
	for b.Loop() {
		if _, err := e.Handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
