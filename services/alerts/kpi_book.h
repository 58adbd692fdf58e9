#pragma once

// Every account's KPI facts, as every kam-alerts instance knows them: fed the changelog records of
// the tasks' `kpis` column family (like AlertsView is fed alerts), indexed by owner and by group,
// and answering GetKpis for an account (rolled up over its subsidiaries), a manager or the book.
// Logic only: no gRPC, no librdkafka.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "common/status.h"
#include "kam/internal/v1/storage.pb.h"
#include "kam/v1/kpis.pb.h"
#include "services/alerts/kpi_report.h"

namespace kam::kpis {

class KpiBook {
 public:
  // `now` gives the default end of a period (wall clock, milliseconds).
  explicit KpiBook(std::function<int64_t()> now) : now_(std::move(now)) {}

  // One changelog record of task `task`: key "<column family>\0<store key>", no value when the
  // key was deleted. Records of other column families are ignored.
  void Apply(int32_t task, std::string_view key, std::optional<std::string_view> value);

  absl::StatusOr<kam::v1::KpiReport> Get(const kam::v1::GetKpisRequest& request) const;

  size_t accounts() const;

 private:
  void Unindex(const kam::internal::v1::AccountKpiState& state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Index(const kam::internal::v1::AccountKpiState& state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The account and every account below it in its group, the account first.
  std::vector<std::string> Subtree(const std::string& id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  std::function<int64_t()> now_;
  mutable std::mutex mutex_;
  std::map<std::string, kam::internal::v1::AccountKpiState> accounts_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::set<std::string>> by_owner_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::set<std::string>> children_ ABSL_GUARDED_BY(mutex_);
  // Every known account's lifetime, packed: the book's retention (for CLV) in one cheap pass.
  std::vector<Lifetime> lifetimes_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::string> lifetime_ids_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, size_t> lifetime_slot_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace kam::kpis
