package engine

import (
	"context"
	"time"
)

// runEvery calls tick in a goroutine of its own, first after first and then
// interval after each call returns, until stop is called. stop cancels the context
// tick runs with and returns once the goroutine has ended. The engine's periodic
// work (the registry watch, the fire-count flusher, the history purge) runs this
// way.
func runEvery(first, interval time.Duration, tick func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTimer(first)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			tick(ctx)
			t.Reset(interval)
		}
	}()
	return func() { cancel(); <-done }
}
