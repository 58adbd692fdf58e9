#pragma once

// The key-account KPIs of a set of accounts over a period, from their KPI facts (kpi_facts.h), and
// the customer lifetime value of one account. Pure: no store, no clock, no locks; every figure and
// its source is explained in docs/KPIS.md and shown by example in tests/services/alerts/
// kpi_report_test.cc.

#include <cstdint>
#include <optional>
#include <vector>

#include "common/status.h"
#include "kam/internal/v1/storage.pb.h"
#include "kam/v1/kpis.pb.h"

namespace kam::kpis {

// The articles' benchmarks.
inline constexpr double kRetentionBenchmark = 0.85;      // at least
inline constexpr double kGrowthBenchmark = 0.15;         // at least, a year
inline constexpr double kHandlingBenchmarkDays = 2;      // at most
inline constexpr double kNpsBenchmark = 0;               // above
inline constexpr double kContactsPerMonthBenchmark = 1;  // at least
// An expected relationship derived from the retention rate is capped at this many years.
inline constexpr double kMaxRetentionYears = 20;

using Facts = kam::internal::v1::AccountKpiState;

// The figures of `accounts` over [from_millis, to_millis). Sets every figure of the report but
// scope, times, rolled-up ids and CLV.
kam::v1::KpiReport ComputeKpis(const std::vector<const Facts*>& accounts, int64_t from_millis,
                               int64_t to_millis);

// When an account was a customer: since its creation (or its earliest interaction, when older
// history was recorded) until its closing (0: open).
struct Lifetime {
  int64_t since = 0;
  int64_t closed = 0;
};
Lifetime LifetimeOf(const Facts& account);

// The retention rate over the period as a yearly rate (r ^ (1 year / period)); nullopt when no
// account was a customer at the period's start.
std::optional<double> YearlyRetention(const std::vector<Lifetime>& accounts, int64_t from_millis,
                                      int64_t to_millis);

// CLV of `account` as of `to_millis`. `book_yearly_retention` is used when the inputs give no
// expected retention. INVALID_ARGUMENT (naming the field) for costs in another currency than the
// account's revenue, negative costs or a negative expected retention.
absl::StatusOr<kam::v1::Clv> ComputeClv(const Facts& account, const kam::v1::ClvInputs& inputs,
                                        std::optional<double> book_yearly_retention,
                                        int64_t to_millis);

}  // namespace kam::kpis
