#include "common/rpc_metrics.h"

#include "absl/strings/str_cat.h"

namespace kam {

Counter* RpcMetrics::CounterFor(const std::string& method, absl::StatusCode code) {
  auto& slot = counters_[{method, static_cast<int>(code)}];
  if (slot == nullptr) {
    slot = registry_->AddCounter("kam_grpc_requests_total",
                                 "gRPC requests handled, by method and status code.",
                                 {{"method", method}, {"code", absl::StatusCodeToString(code)}});
  }
  return slot;
}

void RpcMetrics::Record(const std::string& method, absl::StatusCode code,
                        std::chrono::nanoseconds elapsed) {
  Counter* counter;
  Histogram* latency;
  {
    MutexLock lock(&mutex_);
    counter = CounterFor(method, code);
    auto& histogram = latencies_[method];
    if (histogram == nullptr) {
      histogram =
          registry_->AddHistogram("kam_grpc_request_seconds", "Time spent handling gRPC requests.",
                                  LatencyBuckets(), {{"method", method}});
    }
    latency = histogram;
  }
  counter->Increment();
  latency->Observe(std::chrono::duration<double>(elapsed).count());
}

void RpcMetrics::Count(const std::string& method, absl::StatusCode code) {
  Counter* counter;
  {
    MutexLock lock(&mutex_);
    counter = CounterFor(method, code);
  }
  counter->Increment();
}

}  // namespace kam
