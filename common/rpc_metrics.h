#pragma once

// Per-method request counts by status code and latency histograms, in the registry the service
// exports on /metrics. Series are created on first use.

#include <chrono>
#include <map>
#include <string>
#include <utility>

#include "common/mutex.h"
#include "absl/base/thread_annotations.h"
#include "common/metrics.h"
#include "common/status.h"

namespace kam {

class RpcMetrics {
 public:
  explicit RpcMetrics(MetricsRegistry* registry) : registry_(registry) {}

  void Record(const std::string& method, absl::StatusCode code, std::chrono::nanoseconds elapsed);
  // A request answered without a handler (no latency worth recording): counted only.
  void Count(const std::string& method, absl::StatusCode code);

 private:
  Counter* CounterFor(const std::string& method, absl::StatusCode code)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  MetricsRegistry* registry_;
  Mutex mutex_;
  std::map<std::pair<std::string, int>, Counter*> counters_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, Histogram*> latencies_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace kam
