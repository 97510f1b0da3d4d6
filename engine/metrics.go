package engine

import (
	"context"
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
	label := "false"
	if delivered {
		label = "true"
	}
	m.latency.WithLabelValues(label).Observe(res.Duration.Seconds())
}

func (m *metrics) settled(job store.Job, out store.Outcome) {
	if m == nil {
		return
	}
	outcome := string(out.Status)
	if out.Status == store.StatusPending {
		outcome = "retry"
	}
	m.outcomes.WithLabelValues(string(job.Kind), outcome).Inc()
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
