#include "common/metrics.h"

#include <sstream>

#include "common/process_metrics.h"
#include "prometheus/family.h"
#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"

namespace kam {
namespace {

prometheus::ClientMetric Sample(const MetricLabels& labels, MetricKind kind, double value) {
  prometheus::ClientMetric metric;
  for (const auto& [name, label_value] : labels) metric.label.push_back({name, label_value});
  if (kind == MetricKind::kCounter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return metric;
}

}  // namespace

// The families read at scrape time, in the order they were added. Several single-value callbacks
// of one name (a gauge per task state) form one family.
class MetricsRegistry::Callbacks {
 public:
  void Add(const std::string& name, const std::string& help, MetricKind kind,
           std::function<std::vector<MetricSample>()> read) {
    MutexLock lock(&mutex_);
    families_.push_back({name, help, kind, std::move(read)});
  }

  void CollectInto(std::vector<prometheus::MetricFamily>* out) const {
    MutexLock lock(&mutex_);
    std::map<std::string, size_t> index;
    for (const Family& family : families_) {
      auto [it, added] = index.emplace(family.name, out->size());
      if (added) {
        out->push_back({family.name,
                        family.help,
                        family.kind == MetricKind::kCounter ? prometheus::MetricType::Counter
                                                            : prometheus::MetricType::Gauge,
                        {}});
      }
      for (const MetricSample& sample : family.read()) {
        (*out)[it->second].metric.push_back(Sample(sample.labels, family.kind, sample.value));
      }
    }
  }

 private:
  struct Family {
    std::string name;
    std::string help;
    MetricKind kind;
    std::function<std::vector<MetricSample>()> read;
  };
  mutable Mutex mutex_;
  std::vector<Family> families_ ABSL_GUARDED_BY(mutex_);
};

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

MetricsRegistry::MetricsRegistry()
    : registry_(std::make_shared<prometheus::Registry>()),
      callbacks_(std::make_unique<Callbacks>()) {}

MetricsRegistry::~MetricsRegistry() = default;

Counter* MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                     const MetricLabels& labels) {
  return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry_).Add(labels);
}

Gauge* MetricsRegistry::AddGauge(const std::string& name, const std::string& help,
                                 const MetricLabels& labels) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_).Add(labels);
}

Histogram* MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                         std::vector<double> bounds, const MetricLabels& labels) {
  return &prometheus::BuildHistogram()
              .Name(name)
              .Help(help)
              .Register(*registry_)
              .Add(labels, std::move(bounds));
}

void MetricsRegistry::AddCallbackCounter(const std::string& name, const std::string& help,
                                         std::function<double()> read, const MetricLabels& labels) {
  callbacks_->Add(name, help, MetricKind::kCounter,
                  [read = std::move(read), labels]() -> std::vector<MetricSample> {
                    return {{labels, read()}};
                  });
}

void MetricsRegistry::AddCallbackGauge(const std::string& name, const std::string& help,
                                       std::function<double()> read, const MetricLabels& labels) {
  callbacks_->Add(name, help, MetricKind::kGauge,
                  [read = std::move(read), labels]() -> std::vector<MetricSample> {
                    return {{labels, read()}};
                  });
}

void MetricsRegistry::AddCallbackFamily(const std::string& name, const std::string& help,
                                        MetricKind kind,
                                        std::function<std::vector<MetricSample>()> read) {
  callbacks_->Add(name, help, kind, std::move(read));
}

std::string MetricsRegistry::Render() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  callbacks_->CollectInto(&families);
  CollectProcessMetrics(&families);
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace kam
