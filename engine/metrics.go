package engine

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ruleflow/ruleflow/callouts"
	"github.com/ruleflow/ruleflow/engine/store"
	"github.com/ruleflow/ruleflow/rules"
)

// metrics are the engine's Prometheus metrics. A nil *metrics (no Registerer given)
// records nothing.
type metrics struct {
	events     *prometheus.CounterVec
	rulesFired prometheus.Counter
	enqueuedN  prometheus.Counter
	outcomes   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	emails     *prometheus.CounterVec
	orphaned   prometheus.Gauge
	actions    *actionMetrics
	timers     *timerMetrics

	// Every attempt and settled job records into one of a few series: each is
	// looked up once, on first use (so /metrics lists only the series that have
	// happened, as before), instead of hashing its labels per delivery.
	latencyBy [2]lazySeries[prometheus.Observer]   // delivered false, true
	outcomeBy [3][3]lazySeries[prometheus.Counter] // by jobKindIndex, outcomeIndex
}

// lazySeries is one labelled series of a vector, looked up on first use.
type lazySeries[T any] struct {
	once sync.Once
	s    T
}

func (l *lazySeries[T]) get(lookup func() T) T {
	l.once.Do(func() { l.s = lookup() })
	return l.s
}

// jobKindIndex is kind's index in metrics.outcomeBy, -1 for another kind.
func jobKindIndex(kind store.Kind) int {
	switch kind {
	case store.KindCallout:
		return 0
	case store.KindEmail:
		return 1
	case store.KindNote:
		return 2
	}
	return -1
}

// outcomeIndex is outcome's index in metrics.outcomeBy, -1 for another outcome.
func outcomeIndex(outcome string) int {
	switch outcome {
	case string(store.StatusDelivered):
		return 0
	case "retry":
		return 1
	case string(store.StatusFailed):
		return 2
	}
	return -1
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ruleflow", Name: "events_handled_total", Help: "Events handled, by kind.",
		}, []string{"kind"}),
		rulesFired: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "ruleflow", Name: "rules_fired_total", Help: "Rules whose condition held.",
		}),
		enqueuedN: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "ruleflow", Name: "deliveries_enqueued_total", Help: "Callout deliveries stored in the outbox.",
		}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ruleflow", Name: "deliveries_total", Help: "Settled outbox jobs, by kind and outcome (delivered, retry, failed).",
		}, []string{"kind", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "ruleflow", Name: "attempt_duration_seconds", Help: "Duration of callout attempts.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"delivered"}),
		emails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ruleflow", Name: "emails_total", Help: "Notification e-mails, by result (sent, failed).",
		}, []string{"result"}),
		orphaned: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "ruleflow", Name: "webhooks_orphaned", Help: "Registered webhooks whose form the configuration does not declare (they do not fire).",
		}),
	}
	reg.MustRegister(m.events, m.rulesFired, m.enqueuedN, m.outcomes, m.latency, m.emails, m.orphaned)
	m.actions = newActionMetrics(reg)
	m.timers = newTimerMetrics(reg)
	return m
}

func (m *metrics) eventHandled(kind rules.Kind, matched int) {
	if m == nil {
		return
	}
	m.events.WithLabelValues(string(kind)).Inc()
	m.rulesFired.Add(float64(matched))
}

func (m *metrics) enqueued(n int) {
	if m != nil {
		m.enqueuedN.Add(float64(n))
	}
}

func (m *metrics) attempted(_ string, res callouts.Result, delivered bool) {
	if m == nil {
		return
	}
	i, label := 0, "false"
	if delivered {
		i, label = 1, "true"
	}
	m.latencyBy[i].get(func() prometheus.Observer { return m.latency.WithLabelValues(label) }).Observe(res.Duration.Seconds())
}

func (m *metrics) settled(kind store.Kind, out store.Outcome) {
	if m == nil {
		return
	}
	outcome := string(out.Status)
	if out.Status == store.StatusPending {
		outcome = "retry"
	}
	k, o := jobKindIndex(kind), outcomeIndex(outcome)
	if k < 0 || o < 0 {
		m.outcomes.WithLabelValues(string(kind), outcome).Inc()
		return
	}
	m.outcomeBy[k][o].get(func() prometheus.Counter { return m.outcomes.WithLabelValues(string(kind), outcome) }).Inc()
}

func (m *metrics) email(sent bool) {
	if m == nil {
		return
	}
	if sent {
		m.emails.WithLabelValues("sent").Inc()
	} else {
		m.emails.WithLabelValues("failed").Inc()
	}
}

// queueCollector reports the outbox depth and the age of its oldest pending job,
// read from the store at scrape time.
type queueCollector struct {
	st     *store.Store
	now    func() time.Time
	depth  *prometheus.Desc
	oldest *prometheus.Desc
}

// NewQueueCollector returns a Prometheus collector of the engine's outbox: queue
// depth by status and the oldest pending job's age.
func (e *Engine) NewQueueCollector() prometheus.Collector {
	return &queueCollector{
		st:     e.store,
		now:    e.now,
		depth:  prometheus.NewDesc("ruleflow_queue_depth", "Outbox jobs by status.", []string{"status"}, nil),
		oldest: prometheus.NewDesc("ruleflow_oldest_pending_age_seconds", "Age of the oldest pending outbox job.", nil, nil),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.depth; ch <- c.oldest }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	if c.st == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.st.Stats(ctx, c.now())
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Pending), "pending")
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Delivered), "delivered")
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Failed), "failed")
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, s.OldestPendingAge.Seconds())
}
