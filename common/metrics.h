#pragma once

// A small Prometheus registry rendering the text exposition format (version 0.0.4). Debian 12 has
// no prometheus-cpp package; this covers counters, gauges, callback gauges and histograms, which
// is all the services export. Metric objects live as long as the registry; updates are lock-free.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kam {

class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  // Cumulative counts per bound (then +Inf), sum and count, as Prometheus wants them.
  void Snapshot(std::vector<uint64_t>* cumulative, double* sum, uint64_t* count) const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds, 100us to 10s.
std::vector<double> LatencyBuckets();

class MetricsRegistry {
 public:
  // `labels` is the label set without braces, e.g. `method="GetAccount",code="OK"`.
  Counter* AddCounter(const std::string& name, const std::string& help,
                      const std::string& labels = "");
  Gauge* AddGauge(const std::string& name, const std::string& help, const std::string& labels = "");
  void AddCallbackGauge(const std::string& name, const std::string& help,
                        std::function<double()> read, const std::string& labels = "");
  Histogram* AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> bounds, const std::string& labels = "");

  std::string Render() const;

 private:
  struct Series {
    std::string name;
    std::string help;
    std::string type;
    std::string labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::function<double()> read;
    std::unique_ptr<Histogram> histogram;
  };
  Series& Add(const std::string& name, const std::string& help, const std::string& type,
              const std::string& labels);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Series>> series_;
};

}  // namespace kam
