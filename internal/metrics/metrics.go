// Package metrics holds Limelight's Prometheus metrics and the hooks other
// packages call to feed them. Everything is registered on one registry,
// served by Handler at /metrics.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds every Limelight metric plus the Go and process collectors.
var Registry = prometheus.NewRegistry()

var (
	requestSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "limelight_graphql_request_seconds",
		Help:    "GraphQL request latency by operation name (\"anonymous\" when unnamed).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"operation"})
	errorsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "limelight_graphql_errors_total",
		Help: "GraphQL errors returned to callers, by extensions.code.",
	}, []string{"code"})
	rateLimited = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "limelight_rate_limited_total",
		Help: "Requests refused by the per-key rate limit.",
	})
	ledgerPostings = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "limelight_ledger_postings_total",
		Help: "Ledger transactions posted, by kind (replays not counted).",
	}, []string{"kind"})
	interactions = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "limelight_interactions_ingested_total",
		Help: "Interactions stored (duplicates and rejected items not counted).",
	})
	rankerSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "limelight_ranker_call_seconds",
		Help:    "Ranker plugin call latency by ranker and method.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 5, 30},
	}, []string{"ranker", "method"})
	rankerErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "limelight_ranker_call_errors_total",
		Help: "Failed ranker plugin calls (timeouts included) by ranker and method.",
	}, []string{"ranker", "method"})
	rankerRestarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "limelight_ranker_restarts_total",
		Help: "Ranker plugin restarts by ranker.",
	}, []string{"ranker"})
)

func init() {
	Registry.MustRegister(requestSeconds, errorsTotal, rateLimited, ledgerPostings, interactions,
		rankerSeconds, rankerErrors, rankerRestarts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// Handler serves the metrics in the Prometheus text format.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{Registry: Registry})
}

// maxOperations bounds the operation label: clients choose operation names,
// and each new one would otherwise be a new time series.
const maxOperations = 200

var (
	opsMu sync.Mutex
	ops   = map[string]bool{}
)

// operationLabel is name if it is a plausible GraphQL name among the first
// maxOperations seen, "anonymous" for none, and "other" otherwise.
func operationLabel(name string) string {
	if name == "" {
		return "anonymous"
	}
	if len(name) > 64 {
		return "other"
	}
	for _, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "other"
		}
	}
	opsMu.Lock()
	defer opsMu.Unlock()
	if !ops[name] {
		if len(ops) >= maxOperations {
			return "other"
		}
		ops[name] = true
	}
	return name
}

// ObserveRequest records one GraphQL operation's latency.
func ObserveRequest(operation string, d time.Duration) {
	requestSeconds.WithLabelValues(operationLabel(operation)).Observe(d.Seconds())
}

// CountError records an error returned to a caller with code.
func CountError(code string) { errorsTotal.WithLabelValues(code).Inc() }

// CountRateLimited records a request refused by the rate limit.
func CountRateLimited() { rateLimited.Inc() }

// LedgerPosted records a ledger transaction of kind (tip, ad_spend, ...).
// Call it once per new transaction, after commit; not for replays.
func LedgerPosted(kind string) { ledgerPostings.WithLabelValues(kind).Inc() }

// InteractionsIngested records n newly stored interactions.
func InteractionsIngested(n int) {
	if n > 0 {
		interactions.Add(float64(n))
	}
}

// RankerCall records one call to a ranker plugin: its latency, and an error
// if it failed or timed out.
func RankerCall(ranker, method string, d time.Duration, err error) {
	rankerSeconds.WithLabelValues(ranker, method).Observe(d.Seconds())
	if err != nil {
		rankerErrors.WithLabelValues(ranker, method).Inc()
	}
}

// RankerRestarted records a restart of a ranker plugin.
func RankerRestarted(ranker string) { rankerRestarts.WithLabelValues(ranker).Inc() }

// RankerStarted makes a ranker's error and restart series exist at zero, so
// alerts on them work before the first error or restart.
func RankerStarted(ranker string) {
	for _, method := range []string{"recommend", "similar"} {
		rankerErrors.WithLabelValues(ranker, method).Add(0)
	}
	rankerRestarts.WithLabelValues(ranker).Add(0)
}
