package engine

import (
	"context"
	"testing"
)

// BenchmarkHandleNoFsync is BenchmarkHandleDurable's serial case on a SQLite
// store with synchronous=normal (in WAL mode a commit does not wait for fsync):
// what Handle costs besides the disk flush, so that the price of the rule
// statistics, the callout counts and the management indexes can be measured on
// a machine whose disk is shared and noisy.
func BenchmarkHandleNoFsync(b *testing.B) {
	e := openEngine(b, Options{Config: benchConfig(b, "http://127.0.0.1:9"), Store: sqliteDSN(b) + "?synchronous=normal", NoDispatch: true})
	ctx := context.Background()
	b.ReportAllocs()
	ev := benchEvent()
	for b.Loop() {
		if _, err := e.Handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}
