package engine

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/ruleflow/ruleflow/engine/store"
)

// fireFlushInterval is how often an engine writes the rule firings it counted to
// the store (rule_stats), in one small group-committed write.
const fireFlushInterval = time.Second

// fireCounter counts rule firings in memory and writes them to the store every
// fireFlushInterval and on Shutdown, so Handle pays a map update rather than a
// write. A process killed without Shutdown loses at most the last interval's
// counts (the deliveries themselves are never at risk: they are stored before
// Handle returns). Its zero value is ready; start and stop bracket its flusher.
type fireCounter struct {
	mu       sync.Mutex
	pending  map[string]store.RuleStat // by rule name: firings not yet written
	stopLoop func()                    // ends the flusher (runEvery)
}

// count adds the rules that fired for results. In a rejected batch only the
// rejecting rules count: the other events' rules show what would have fired,
// but nothing was done for them. AR webhooks' rules are not counted.
func (c *fireCounter) count(results []*Result, rejected bool) {
	now := time.Now()
	for _, res := range results {
		if rejected && res.Rejected == nil {
			continue
		}
		for _, m := range res.Matches {
			if m.Rule.Webhook != nil {
				continue
			}
			c.mu.Lock()
			if c.pending == nil {
				c.pending = map[string]store.RuleStat{}
			}
			st := c.pending[m.Rule.Name]
			st.Rule, st.FireCount, st.LastFired = m.Rule.Name, st.FireCount+1, now
			c.pending[m.Rule.Name] = st
			c.mu.Unlock()
		}
	}
}

// withPending returns stored with the counts not yet written added.
func (c *fireCounter) withPending(stored map[string]store.RuleStat) map[string]store.RuleStat {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		return stored
	}
	out := maps.Clone(stored)
	if out == nil {
		out = map[string]store.RuleStat{}
	}
	for name, p := range c.pending {
		st := out[name]
		st.Rule, st.FireCount = name, st.FireCount+p.FireCount
		if p.LastFired.After(st.LastFired) {
			st.LastFired = p.LastFired
		}
		out[name] = st
	}
	return out
}

// flush writes the pending counts; on failure they are kept for the next try.
func (c *fireCounter) flush(ctx context.Context, e *Engine) {
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	fires := make([]store.RuleFires, 0, len(pending))
	for _, name := range slices.Sorted(maps.Keys(pending)) {
		p := pending[name]
		fires = append(fires, store.RuleFires{Rule: name, N: p.FireCount, Last: p.LastFired})
	}
	if err := e.store.AddFires(ctx, fires); err != nil {
		e.log.Warn("engine: rule statistics not stored yet; retrying", "rules", len(fires), "error", err)
		for name, p := range pending { // put them back, merged with what came since
			c.mu.Lock()
			if c.pending == nil {
				c.pending = map[string]store.RuleStat{}
			}
			st := c.pending[name]
			st.Rule, st.FireCount = name, st.FireCount+p.FireCount
			if p.LastFired.After(st.LastFired) {
				st.LastFired = p.LastFired
			}
			c.pending[name] = st
			c.mu.Unlock()
		}
	}
}

// start runs the flusher of an engine with a store.
func (c *fireCounter) start(e *Engine) {
	c.stopLoop = runEvery(fireFlushInterval, fireFlushInterval, func(ctx context.Context) { c.flush(ctx, e) })
}

// stop ends the flusher and writes what is left (before the store closes).
func (c *fireCounter) stop(e *Engine) {
	if c.stopLoop == nil {
		return
	}
	c.stopLoop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.flush(ctx, e)
}
