#pragma once

// An account's satisfaction picture, as pure functions over AccountHealthState: the state is
// updated once per accepted interaction (ApplyInteraction) and read by GetAccountHealth
// (BuildHealth), so health never scans the interaction history.

#include <cstdint>
#include <vector>

#include "common/interaction_kinds.h"
#include "kam/internal/v1/storage.pb.h"
#include "kam/v1/interactions.pb.h"

namespace kam::interactions {

struct HealthPolicy {
  int64_t nps_window_millis = 90LL * 24 * 3600 * 1000;  // NPS and CSAT over the last 90 days
  int trend_answers = 6;                                // slope over the last 6 answers
  int recent_answers = 10;                              // shown in AccountHealth
  int max_answers = 200;                                // kept per account
  int max_handling_samples = 500;                       // closed requests kept for percentiles
  int max_early_resolutions = 100;  // resolutions waiting for their request, per account
  int64_t handling_benchmark_millis = 2LL * 24 * 3600 * 1000;  // the domain's 2-day benchmark
};

// Folds one accepted interaction into the state. Answers are kept sorted by event time, so
// out-of-order arrivals land where they belong.
void ApplyInteraction(const kam::v1::Interaction& interaction,
                      kam::internal::v1::AccountHealthState* state, const HealthPolicy& policy);

// The open request `resolves_interaction_id` names, or null.
const kam::internal::v1::OpenRequestState* FindOpenRequest(
    const kam::internal::v1::AccountHealthState& state, const std::string& interaction_id);
// A resolution waiting for request `request_id` to arrive, if any.
const kam::internal::v1::EarlyResolution* FindEarlyResolution(
    const kam::internal::v1::AccountHealthState& state, const std::string& request_id);

// The API view at `now_millis`.
kam::v1::AccountHealth BuildHealth(const kam::internal::v1::AccountHealthState& state,
                                   int64_t now_millis, const HealthPolicy& policy);

// Least-squares slope of `values` against their index (points per answer); 0 for < 2 values.
double Slope(const std::vector<double>& values);
// Nearest-rank percentile (q in 0..1) of `values`; 0 when empty.
int64_t Percentile(std::vector<int64_t> values, double q);

}  // namespace kam::interactions
