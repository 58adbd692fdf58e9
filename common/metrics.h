#pragma once

// The services' Prometheus registry, on prometheus-cpp (Debian's prometheus-cpp-dev, core library
// only: the data model and the text exposition). Metrics whose values live elsewhere -- counts a
// logic class keeps, queue depths, consumer lag -- are read at scrape time through callbacks, so
// that the logic stays free of metrics code. Every /metrics page also carries the standard
// process_* metrics (common/process_metrics.h).

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace kam {

using Counter = prometheus::Counter;
using Gauge = prometheus::Gauge;
using Histogram = prometheus::Histogram;
using MetricLabels = std::map<std::string, std::string>;

// One series of a family read at scrape time.
struct MetricSample {
  MetricLabels labels;
  double value = 0;
};

enum class MetricKind { kCounter, kGauge };

// Latency buckets in seconds, 100us to 10s.
std::vector<double> LatencyBuckets();

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();

  // The metric objects live as long as the registry; updates are lock-free (histograms take a
  // short mutex). Adding the same name and labels twice returns the same series.
  Counter* AddCounter(const std::string& name, const std::string& help,
                      const MetricLabels& labels = {});
  Gauge* AddGauge(const std::string& name, const std::string& help,
                  const MetricLabels& labels = {});
  Histogram* AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> bounds, const MetricLabels& labels = {});

  // A value owned elsewhere, read at each scrape. A counter must never go down.
  void AddCallbackCounter(const std::string& name, const std::string& help,
                          std::function<double()> read, const MetricLabels& labels = {});
  void AddCallbackGauge(const std::string& name, const std::string& help,
                        std::function<double()> read, const MetricLabels& labels = {});
  // A family whose series are known only at scrape time (the partitions an instance owns now,
  // the rules that have fired so far).
  void AddCallbackFamily(const std::string& name, const std::string& help, MetricKind kind,
                         std::function<std::vector<MetricSample>()> read);

  // The text exposition format, version 0.0.4.
  std::string Render() const;

 private:
  class Callbacks;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Callbacks> callbacks_;
};

}  // namespace kam
