package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// timerMetrics are the metrics of time-based rules.
type timerMetrics struct {
	armed   prometheus.Gauge
	firings *prometheus.CounterVec
	lag     prometheus.Histogram
}

func newTimerMetrics(reg prometheus.Registerer) *timerMetrics {
	m := &timerMetrics{
		armed: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "ruleflow", Name: "timers_armed", Help: "Timers of time-based rules armed in the store (recounted every 10 poll intervals).",
		}),
		firings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ruleflow", Name: "timer_firings_total", Help: "Due timers settled by this node, by result (fired, not_fired: condition false or record gone).",
		}, []string{"result"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "ruleflow", Name: "timer_lag_seconds", Help: "How far behind its due time each timer was settled.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600},
		}),
	}
	reg.MustRegister(m.armed, m.firings, m.lag)
	return m
}

func (m *metrics) timerFired(result string, lag time.Duration) {
	if m == nil {
		return
	}
	m.timers.firings.WithLabelValues(result).Inc()
	m.timers.lag.Observe(lag.Seconds())
}

func (m *metrics) timersArmed(n int64) {
	if m != nil {
		m.timers.armed.Set(float64(n))
	}
}
