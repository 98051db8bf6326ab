package mirror

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the mirror's Prometheus metrics.
type Metrics struct {
	lag     prometheus.Gauge
	applied prometheus.Gauge
	errors  *prometheus.CounterVec
	graphs  *prometheus.CounterVec
}

// NewMetrics registers the mirror's metrics with reg:
//
//	annals_mirror_lag_changes            change-log entries committed but not yet in the store (by sequence number, an upper bound)
//	annals_mirror_last_applied_sequence  the sequence number the store is known to hold every change up to
//	annals_mirror_errors_total{kind}     failed attempts, by kind (unreachable, server, auth, rejected, archive, render)
//	annals_mirror_graphs_written_total{op}  graphs replaced (put) or removed (delete)
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "annals_mirror_lag_changes",
			Help: "Change-log entries committed to the archive but not yet applied to the SPARQL store (the difference of sequence numbers: an upper bound).",
		}),
		applied: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "annals_mirror_last_applied_sequence",
			Help: "The sequence number up to which every change is in the SPARQL store (as its state graph records).",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "annals_mirror_errors_total",
			Help: "Failed attempts of the mirror, by kind: unreachable, server, auth, rejected (the SPARQL store), archive, render.",
		}, []string{"kind"}),
		graphs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "annals_mirror_graphs_written_total",
			Help: "Named graphs the mirror replaced (op=put) or removed (op=delete) in the SPARQL store.",
		}, []string{"op"}),
	}
	for _, k := range []string{KindUnreachable, KindServer, KindAuth, KindRejected, KindArchive, KindRender} {
		m.errors.WithLabelValues(k)
	}
	for _, c := range []prometheus.Collector{m.lag, m.applied, m.errors, m.graphs} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) setApplied(seq, last int64) {
	if m == nil {
		return
	}
	m.applied.Set(float64(seq))
	m.lag.Set(float64(max(0, last-seq)))
}

func (m *Metrics) error(kind string) {
	if m != nil {
		m.errors.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) wrote(op string) {
	if m != nil {
		m.graphs.WithLabelValues(op).Inc()
	}
}
