#include "services/alerts/kpi_book.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/error_details.h"
#include "common/time_util.h"
#include "services/alerts/alert_store.h"

namespace kam::kpis {

using kam::internal::v1::AccountKpiState;

namespace {

constexpr int64_t kYearMillis = 365LL * 24 * 3600 * 1000;
constexpr int64_t kMaxPeriodMillis = 10 * kYearMillis + 3LL * 24 * 3600 * 1000;

}  // namespace

void KpiBook::Apply(int32_t /*task*/, std::string_view key, std::optional<std::string_view> value) {
  const size_t separator = key.find('\0');
  if (separator == std::string_view::npos || key.substr(0, separator) != alerts::kKpisCf) return;
  const std::string_view store_key = key.substr(separator + 1);
  if (store_key.size() <= 4) return;
  MutexLock lock(&pending_mutex_);
  pending_[std::string(store_key.substr(4))] =
      value ? std::optional<std::string>(std::string(*value)) : std::nullopt;
}

void KpiBook::TakePending() {
  std::map<std::string, std::optional<std::string>> pending;
  {
    MutexLock lock(&pending_mutex_);
    pending.swap(pending_);
  }
  for (const auto& [id, value] : pending) Put(id, value);
}

void KpiBook::Put(const std::string& id, const std::optional<std::string>& value) {
  auto existing = accounts_.find(id);
  if (existing != accounts_.end()) Unindex(existing->second);
  if (!value) {
    accounts_.erase(id);
    return;
  }
  AccountKpiState state;
  if (!state.ParseFromString(*value)) {
    // Written by this service's tasks; a record that does not parse is not ours to guess at.
    if (existing != accounts_.end()) Index(existing->second);
    return;
  }
  AccountKpiState& stored = accounts_[id];
  stored = std::move(state);
  Index(stored);
}

namespace {

// The annual revenue an open account holds now; nullptr for a closed one or one without.
const kam::internal::v1::KpiRevenuePoint* RevenueNow(const AccountKpiState& state) {
  if (!state.known() || state.close_millis() != 0 || state.revenue_size() == 0) return nullptr;
  const auto& last = *state.revenue().rbegin();
  return last.currency().empty() ? nullptr : &last;
}

}  // namespace

void KpiBook::Unindex(const AccountKpiState& state) {
  if (const auto* revenue = RevenueNow(state)) {
    auto total = book_revenue_.find(revenue->currency());
    if (total != book_revenue_.end()) {
      total->second -= revenue->amount_minor();
      if (total->second == 0) book_revenue_.erase(total);
    }
  }
  auto slot = lifetime_slot_.find(state.account_id());
  if (slot != lifetime_slot_.end()) {
    const size_t index = slot->second;
    lifetime_slot_.erase(slot);
    if (index + 1 != lifetimes_.size()) {
      lifetimes_[index] = lifetimes_.back();
      lifetime_ids_[index] = std::move(lifetime_ids_.back());
      lifetime_slot_[lifetime_ids_[index]] = index;
    }
    lifetimes_.pop_back();
    lifetime_ids_.pop_back();
  }
  if (!state.owner_manager_id().empty()) {
    auto owned = by_owner_.find(state.owner_manager_id());
    if (owned != by_owner_.end()) {
      owned->second.erase(state.account_id());
      if (owned->second.empty()) by_owner_.erase(owned);
    }
  }
  if (!state.parent_account_id().empty()) {
    auto children = children_.find(state.parent_account_id());
    if (children != children_.end()) {
      children->second.erase(state.account_id());
      if (children->second.empty()) children_.erase(children);
    }
  }
}

void KpiBook::Index(const AccountKpiState& state) {
  if (const auto* revenue = RevenueNow(state)) {
    book_revenue_[revenue->currency()] += revenue->amount_minor();
  }
  if (state.known()) {
    lifetime_slot_[state.account_id()] = lifetimes_.size();
    lifetimes_.push_back(LifetimeOf(state));
    lifetime_ids_.push_back(state.account_id());
  }
  if (!state.owner_manager_id().empty())
    by_owner_[state.owner_manager_id()].insert(state.account_id());
  if (!state.parent_account_id().empty()) {
    children_[state.parent_account_id()].insert(state.account_id());
  }
}

std::vector<std::string> KpiBook::Subtree(const std::string& id) const {
  std::vector<std::string> ids = {id};
  std::set<std::string> seen = {id};  // kam-accounts refuses cycles; never loop on one anyway
  for (size_t next = 0; next < ids.size(); ++next) {
    auto children = children_.find(ids[next]);
    if (children == children_.end()) continue;
    for (const auto& child : children->second) {
      if (seen.insert(child).second) ids.push_back(child);
    }
  }
  return ids;
}

size_t KpiBook::accounts() {
  MutexLock lock(&mutex_);
  TakePending();
  return accounts_.size();
}

absl::StatusOr<kam::v1::KpiReport> KpiBook::Get(const kam::v1::GetKpisRequest& request) {
  const int64_t to = request.has_end_time() ? MillisFromTimestamp(request.end_time()) : now_();
  const int64_t from =
      request.has_start_time() ? MillisFromTimestamp(request.start_time()) : to - kYearMillis;
  if (to <= from) {
    return absl::InvalidArgumentError("end_time: must be after start_time");
  }
  if (to - from > kMaxPeriodMillis) {
    return absl::InvalidArgumentError("start_time: the period may be at most 10 years long");
  }
  MutexLock lock(&mutex_);
  TakePending();
  std::vector<const AccountKpiState*> scope;
  std::vector<std::string> rolled_up;
  std::string name;
  switch (request.scope_case()) {
    case kam::v1::GetKpisRequest::kAccountId: {
      if (request.account_id().empty()) return absl::InvalidArgumentError("account_id: empty");
      auto account = accounts_.find(request.account_id());
      if (account == accounts_.end() || !account->second.known()) {
        return absl::NotFoundError(
            absl::StrCat("account_id: no account \"", request.account_id(), "\""));
      }
      rolled_up = request.exclude_subsidiaries() ? std::vector<std::string>{request.account_id()}
                                                 : Subtree(request.account_id());
      for (const auto& id : rolled_up) {
        auto found = accounts_.find(id);
        if (found != accounts_.end()) scope.push_back(&found->second);
      }
      name = "account/" + request.account_id();
      break;
    }
    case kam::v1::GetKpisRequest::kManagerId: {
      if (request.manager_id().empty()) return absl::InvalidArgumentError("manager_id: empty");
      auto owned = by_owner_.find(request.manager_id());
      if (owned == by_owner_.end()) {
        // kam-alerts knows managers through their accounts: no account, nothing to report on.
        const std::string message =
            absl::StrCat("manager_id: no account owned by \"", request.manager_id(), "\"");
        return errors::WithReason(
            errors::WithResourceInfo(absl::NotFoundError(message), "kam.v1.Manager",
                                     request.manager_id(), message),
            "NO_ACCOUNTS_IN_SCOPE");
      }
      for (const auto& id : owned->second) scope.push_back(&accounts_.at(id));
      name = "manager/" + request.manager_id();
      break;
    }
    case kam::v1::GetKpisRequest::kBook:
      if (!request.book()) return absl::InvalidArgumentError("book: must be true when set");
      for (const auto& [id, state] : accounts_) scope.push_back(&state);
      name = "book";
      break;
    default:
      return absl::InvalidArgumentError("scope: one of account_id, manager_id or book is required");
  }
  kam::v1::KpiReport report = ComputeKpis(scope, from, to);
  report.set_scope(name);
  *report.mutable_start_time() = TimestampFromMillis(from);
  *report.mutable_end_time() = TimestampFromMillis(to);
  for (const auto& id : rolled_up) report.add_rolled_up_account_ids(id);
  // The share of the book's revenue now, from the revenue records themselves when the book is in
  // one currency (kam does not convert); else the shares kam-accounts last published stand.
  if (book_revenue_.size() == 1 && book_revenue_.begin()->second > 0) {
    int64_t scope_revenue = 0;
    for (const AccountKpiState* state : scope) {
      if (const auto* revenue = RevenueNow(*state)) scope_revenue += revenue->amount_minor();
    }
    report.set_revenue_share(static_cast<double>(scope_revenue) /
                             static_cast<double>(book_revenue_.begin()->second));
  }
  if (request.scope_case() == kam::v1::GetKpisRequest::kAccountId) {
    std::optional<double> book_retention;
    if (request.clv_inputs().expected_retention_years() == 0) {
      book_retention = YearlyRetention(lifetimes_, from, to);
    }
    auto clv =
        ComputeClv(accounts_.at(request.account_id()), request.clv_inputs(), book_retention, to);
    if (clv.ok()) {
      *report.mutable_clv() = std::move(*clv);
    } else if (clv.status().code() == absl::StatusCode::kInvalidArgument) {
      return clv.status();
    }  // no revenue recorded: no CLV, the other figures stand
  }
  return report;
}

}  // namespace kam::kpis
