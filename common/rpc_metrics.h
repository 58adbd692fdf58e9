#pragma once

// Per-method request counts by status code and latency histograms, in the registry the service
// exports on /metrics. Series are created on first use.

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "common/metrics.h"
#include "common/status.h"

namespace kam {

class RpcMetrics {
 public:
  explicit RpcMetrics(MetricsRegistry* registry) : registry_(registry) {}

  void Record(const std::string& method, absl::StatusCode code, std::chrono::nanoseconds elapsed);

 private:
  MetricsRegistry* registry_;
  std::mutex mutex_;
  std::map<std::pair<std::string, int>, Counter*> counters_;
  std::map<std::string, Histogram*> latencies_;
};

}  // namespace kam
