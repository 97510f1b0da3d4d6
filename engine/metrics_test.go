package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// TestMetrics: with a Registerer the counters move as events are handled and
// deliveries settle, and the queue collector reports the outbox.
func TestMetrics(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, failFirst(1))
	reg := prometheus.NewRegistry()
	e := openEngine(t, Options{Config: parseConfig(t, rc.URL, oneCallout), Store: sqliteDSN(t), Registerer: reg})
	reg.MustRegister(e.NewQueueCollector())

	id := handleOne(t, e, completeEvent(1))
	// An update that matches no rule, and a create no rule listens for.
	nomatch := completeEvent(2)
	nomatch.After["Status"] = "New"
	for _, ev := range []*rules.Event{nomatch, {Kind: rules.KindCreate, Form: "Ticket", EntryID: "3"}} {
		if _, err := e.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	waitSettled(t, e.Store(), id, 10*time.Second)
	// The settle that records the outcome runs after the store shows it; wait for the counter.
	waitFor(t, 5*time.Second, "the delivered counter", func() bool {
		return testutil.ToFloat64(e.metrics.outcomes.WithLabelValues(string(store.KindCallout), "delivered")) == 1
	})

	const want = `
# HELP ruleflow_deliveries_enqueued_total Callout deliveries stored in the outbox.
# TYPE ruleflow_deliveries_enqueued_total counter
ruleflow_deliveries_enqueued_total 1
# HELP ruleflow_deliveries_total Settled outbox jobs, by kind and outcome (delivered, retry, failed).
# TYPE ruleflow_deliveries_total counter
ruleflow_deliveries_total{kind="callout",outcome="delivered"} 1
ruleflow_deliveries_total{kind="callout",outcome="retry"} 1
# HELP ruleflow_events_handled_total Events handled, by kind.
# TYPE ruleflow_events_handled_total counter
ruleflow_events_handled_total{kind="create"} 1
ruleflow_events_handled_total{kind="update"} 2
# HELP ruleflow_rules_fired_total Rules whose condition held.
# TYPE ruleflow_rules_fired_total counter
ruleflow_rules_fired_total 1
# HELP ruleflow_queue_depth Outbox jobs by status.
# TYPE ruleflow_queue_depth gauge
ruleflow_queue_depth{status="delivered"} 1
ruleflow_queue_depth{status="failed"} 0
ruleflow_queue_depth{status="pending"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"ruleflow_deliveries_enqueued_total", "ruleflow_deliveries_total", "ruleflow_events_handled_total",
		"ruleflow_rules_fired_total", "ruleflow_queue_depth"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(e.metrics.latency); n != 2 {
		t.Errorf("attempt duration histogram has %d series, want 2 (delivered true and false)", n)
	}
	if n := testutil.CollectAndCount(reg, "ruleflow_attempt_duration_seconds"); n != 2 {
		t.Errorf("registry has %d attempt duration series, want 2", n)
	}
}

// TestMetricsWithoutRegisterer: an engine without a Registerer records nothing and
// registers nothing anywhere.
func TestMetricsWithoutRegisterer(t *testing.T) {
	e := openEngine(t, Options{Config: parseConfig(t, "http://127.0.0.1:9", oneCallout)})
	if e.metrics != nil {
		t.Fatal("metrics set up without a Registerer")
	}
	if _, err := e.Handle(context.Background(), completeEvent(1)); err != nil {
		t.Fatal(err)
	}
}
