#pragma once

// Every account's KPI facts, as every kam-alerts instance knows them: fed the changelog records of
// the tasks' `kpis` column family (like AlertsView is fed alerts), indexed by owner and by group,
// and answering GetKpis for an account (rolled up over its subsidiaries), a manager or the book.
// Logic only: no gRPC, no librdkafka.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
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
  // key was deleted. Records of other column families are ignored. Only keeps the newest record
  // per account for the next call to take in: the changelog follower, which also feeds the alerts
  // view, never waits for a long whole-book call.
  void Apply(int32_t task, std::string_view key, std::optional<std::string_view> value)
      ABSL_LOCKS_EXCLUDED(pending_mutex_);

  absl::StatusOr<kam::v1::KpiReport> Get(const kam::v1::GetKpisRequest& request)
      ABSL_LOCKS_EXCLUDED(mutex_);

  size_t accounts() ABSL_LOCKS_EXCLUDED(mutex_);

 private:
  // Takes the records that arrived since the last call into the book.
  void TakePending() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) ABSL_LOCKS_EXCLUDED(pending_mutex_);
  void Put(const std::string& id, const std::optional<std::string>& value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Unindex(const kam::internal::v1::AccountKpiState& state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Index(const kam::internal::v1::AccountKpiState& state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The account and every account below it in its group, the account first.
  std::vector<std::string> Subtree(const std::string& id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  std::function<int64_t()> now_;
  Mutex pending_mutex_;
  std::map<std::string, std::optional<std::string>> pending_ ABSL_GUARDED_BY(pending_mutex_);
  mutable Mutex mutex_;
  std::map<std::string, kam::internal::v1::AccountKpiState> accounts_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::set<std::string>> by_owner_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::set<std::string>> children_ ABSL_GUARDED_BY(mutex_);
  // Every known account's lifetime, packed: the book's retention (for CLV) in one cheap pass.
  std::vector<Lifetime> lifetimes_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::string> lifetime_ids_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, size_t> lifetime_slot_ ABSL_GUARDED_BY(mutex_);
  // The current annual revenue of the open accounts, per currency: the scope's share of the book.
  std::map<std::string, int64_t> book_revenue_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace kam::kpis
