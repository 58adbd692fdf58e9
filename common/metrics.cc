#include "common/metrics.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "absl/strings/str_cat.h"

namespace kam {
namespace {

std::string FormatValue(double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", value);
  return buf;
}

std::string WithLabels(const std::string& name, const std::string& labels,
                       const std::string& extra = "") {
  std::string all = labels;
  if (!extra.empty()) all = all.empty() ? extra : absl::StrCat(all, ",", extra);
  return all.empty() ? name : absl::StrCat(name, "{", all, "}");
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  size_t index = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double sum = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(sum, sum + value, std::memory_order_relaxed)) {
  }
}

void Histogram::Snapshot(std::vector<uint64_t>* cumulative, double* sum, uint64_t* count) const {
  cumulative->clear();
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    cumulative->push_back(running);
  }
  *sum = sum_.load(std::memory_order_relaxed);
  *count = running;
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

MetricsRegistry::Series& MetricsRegistry::Add(const std::string& name, const std::string& help,
                                              const std::string& type, const std::string& labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto series = std::make_unique<Series>();
  series->name = name;
  series->help = help;
  series->type = type;
  series->labels = labels;
  series_.push_back(std::move(series));
  return *series_.back();
}

Counter* MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                     const std::string& labels) {
  Series& series = Add(name, help, "counter", labels);
  series.counter = std::make_unique<Counter>();
  return series.counter.get();
}

Gauge* MetricsRegistry::AddGauge(const std::string& name, const std::string& help,
                                 const std::string& labels) {
  Series& series = Add(name, help, "gauge", labels);
  series.gauge = std::make_unique<Gauge>();
  return series.gauge.get();
}

void MetricsRegistry::AddCallbackGauge(const std::string& name, const std::string& help,
                                       std::function<double()> read, const std::string& labels) {
  Add(name, help, "gauge", labels).read = std::move(read);
}

Histogram* MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                         std::vector<double> bounds, const std::string& labels) {
  Series& series = Add(name, help, "histogram", labels);
  series.histogram = std::make_unique<Histogram>(std::move(bounds));
  return series.histogram.get();
}

std::string MetricsRegistry::Render() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  std::set<std::string> described;
  // Series of one family must be adjacent: render family by family in first-seen order.
  std::vector<std::string> families;
  for (const auto& series : series_) {
    if (std::find(families.begin(), families.end(), series->name) == families.end()) {
      families.push_back(series->name);
    }
  }
  for (const auto& family : families) {
    for (const auto& series : series_) {
      if (series->name != family) continue;
      if (described.insert(family).second) {
        absl::StrAppend(&out, "# HELP ", family, " ", series->help, "\n# TYPE ", family, " ",
                        series->type, "\n");
      }
      if (series->counter) {
        absl::StrAppend(&out, WithLabels(family, series->labels), " ", series->counter->value(),
                        "\n");
      } else if (series->gauge) {
        absl::StrAppend(&out, WithLabels(family, series->labels), " ",
                        FormatValue(series->gauge->value()), "\n");
      } else if (series->read) {
        absl::StrAppend(&out, WithLabels(family, series->labels), " ", FormatValue(series->read()),
                        "\n");
      } else if (series->histogram) {
        std::vector<uint64_t> cumulative;
        double sum = 0;
        uint64_t count = 0;
        series->histogram->Snapshot(&cumulative, &sum, &count);
        const auto& bounds = series->histogram->bounds();
        for (size_t i = 0; i < cumulative.size(); ++i) {
          std::string le = i < bounds.size() ? FormatValue(bounds[i]) : "+Inf";
          absl::StrAppend(
              &out, WithLabels(family + "_bucket", series->labels, absl::StrCat("le=\"", le, "\"")),
              " ", cumulative[i], "\n");
        }
        absl::StrAppend(&out, WithLabels(family + "_sum", series->labels), " ", FormatValue(sum),
                        "\n", WithLabels(family + "_count", series->labels), " ", count, "\n");
      }
    }
  }
  return out;
}

}  // namespace kam
