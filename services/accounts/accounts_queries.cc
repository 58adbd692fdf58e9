#include "common/mutex.h"
#include "services/accounts/accounts_book.h"

// The queries: reads of the book in memory, on the writer and on every standby alike.

#include <algorithm>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/error_details.h"
#include "services/accounts/rebalance.h"
#include "services/accounts/validation.h"

namespace kam::accounts {

using kam::v1::Account;
using kam::v1::Manager;

absl::StatusOr<Manager> AccountsBook::GetManager(const kam::v1::GetManagerRequest& request) const {
  KAM_RETURN_IF_ERROR(RequireId(request.id(), "id"));
  ReaderMutexLock lock(&mutex_);
  auto it = state_.managers().find(request.id());
  if (it == state_.managers().end()) {
    return errors::NotFound("Manager", request.id(),
                            absl::StrCat("id: no manager \"", request.id(), "\""));
  }
  return state_.WithCapacity(it->second);
}

absl::StatusOr<kam::v1::ListManagersResponse> AccountsBook::ListManagers(
    const kam::v1::ListManagersRequest& request) const {
  KAM_ASSIGN_OR_RETURN(int page_size, ResolvePageSize(request.page_size()));
  if (!kam::v1::Industry_IsValid(request.industry_focus())) {
    return InvalidField("industry_focus", "unknown value");
  }
  const std::string filter =
      absl::StrCat("managers|", request.industry_focus(), "|", request.active_only());
  std::string after;
  if (!request.page_token().empty()) {
    KAM_ASSIGN_OR_RETURN(after, tokens_.Parse(request.page_token(), filter));
  }
  ReaderMutexLock lock(&mutex_);
  kam::v1::ListManagersResponse response;
  auto it = after.empty() ? state_.managers().begin() : state_.managers().upper_bound(after);
  for (; it != state_.managers().end(); ++it) {
    const Manager& manager = it->second;
    if (request.industry_focus() != 0 && manager.industry_focus() != request.industry_focus())
      continue;
    if (request.active_only() && !manager.active()) continue;
    if (response.managers_size() == page_size) {
      response.set_next_page_token(tokens_.Issue(filter, response.managers().rbegin()->id()));
      break;
    }
    *response.add_managers() = state_.WithCapacity(manager);
  }
  return response;
}

absl::StatusOr<Account> AccountsBook::GetAccount(const kam::v1::GetAccountRequest& request) const {
  KAM_RETURN_IF_ERROR(RequireId(request.id(), "id"));
  ReaderMutexLock lock(&mutex_);
  auto it = state_.accounts().find(request.id());
  if (it == state_.accounts().end()) {
    return errors::NotFound("Account", request.id(),
                            absl::StrCat("id: no account \"", request.id(), "\""));
  }
  return state_.WithShare(it->second);
}

absl::StatusOr<kam::v1::ListAccountsResponse> AccountsBook::ListAccounts(
    const kam::v1::ListAccountsRequest& request) const {
  KAM_ASSIGN_OR_RETURN(int page_size, ResolvePageSize(request.page_size()));
  if (!kam::v1::Tier_IsValid(request.tier())) return InvalidField("tier", "unknown value");
  if (!kam::v1::Industry_IsValid(request.industry())) {
    return InvalidField("industry", "unknown value");
  }
  if (!kam::v1::LifecyclePhase_IsValid(request.lifecycle_phase())) {
    return InvalidField("lifecycle_phase", "unknown value");
  }
  const std::string filter =
      absl::StrCat("accounts|", request.manager_id(), "|", request.tier(), "|", request.industry(),
                   "|", request.lifecycle_phase(), "|",
                   request.has_key_account() ? (request.key_account() ? 1 : 0) : 2, "|",
                   request.include_closed(), "|", request.parent_account_id());
  std::string after;
  if (!request.page_token().empty()) {
    KAM_ASSIGN_OR_RETURN(after, tokens_.Parse(request.page_token(), filter));
  }
  ReaderMutexLock lock(&mutex_);
  if (!request.manager_id().empty() && !state_.managers().count(request.manager_id())) {
    return errors::NotFound("Manager", request.manager_id(),
                            absl::StrCat("manager_id: no manager \"", request.manager_id(), "\""));
  }
  if (!request.parent_account_id().empty() &&
      state_.FindAccount(request.parent_account_id()) == nullptr) {
    return errors::NotFound(
        "Account", request.parent_account_id(),
        absl::StrCat("parent_account_id: no account \"", request.parent_account_id(), "\""));
  }
  bool closed_phase = request.lifecycle_phase() == kam::v1::LIFECYCLE_PHASE_CHURNED;
  auto matches = [&](const Account& account) {
    if (!IsOpen(account) && !request.include_closed() && !closed_phase) return false;
    if (!request.manager_id().empty() && account.owner_manager_id() != request.manager_id())
      return false;
    if (request.tier() != 0 && account.tier() != request.tier()) return false;
    if (request.industry() != 0 && account.industry() != request.industry()) return false;
    if (request.lifecycle_phase() != 0 && account.lifecycle_phase() != request.lifecycle_phase()) {
      return false;
    }
    if (request.has_key_account() && account.key_account() != request.key_account()) return false;
    if (!request.parent_account_id().empty() &&
        account.parent_account_id() != request.parent_account_id()) {
      return false;
    }
    return true;
  };
  kam::v1::ListAccountsResponse response;
  int total = 0;
  for (const auto& [id, account] : state_.accounts()) {
    if (!matches(account)) continue;
    ++total;
    if (!after.empty() && id <= after) continue;
    if (response.accounts_size() < page_size) {
      *response.add_accounts() = state_.WithShare(account);
    } else if (response.next_page_token().empty()) {
      response.set_next_page_token(tokens_.Issue(filter, response.accounts().rbegin()->id()));
    }
  }
  response.set_total_size(total);
  return response;
}

// ---- load ----

absl::StatusOr<kam::v1::ManagerLoad> AccountsBook::GetManagerLoad(
    const kam::v1::GetManagerLoadRequest& request) const {
  KAM_RETURN_IF_ERROR(RequireId(request.manager_id(), "manager_id"));
  ReaderMutexLock lock(&mutex_);
  auto it = state_.managers().find(request.manager_id());
  if (it == state_.managers().end()) {
    return errors::NotFound("Manager", request.manager_id(),
                            absl::StrCat("manager_id: no manager \"", request.manager_id(), "\""));
  }
  return state_.LoadOf(it->second, state_.OwnedOpen(it->first));
}

absl::StatusOr<kam::v1::ListManagerLoadsResponse> AccountsBook::ListManagerLoads(
    const kam::v1::ListManagerLoadsRequest& request) const {
  KAM_ASSIGN_OR_RETURN(int page_size, ResolvePageSize(request.page_size()));
  const std::string filter = absl::StrCat("loads|", request.overloaded_only());
  std::string after;
  if (!request.page_token().empty()) {
    KAM_ASSIGN_OR_RETURN(after, tokens_.Parse(request.page_token(), filter));
  }
  ReaderMutexLock lock(&mutex_);
  std::vector<kam::v1::ManagerLoad> loads;
  for (const auto& [id, manager] : state_.managers()) {
    kam::v1::ManagerLoad load = state_.LoadOf(manager, state_.OwnedOpen(id));
    if (request.overloaded_only() && load.utilisation() <= 1.0) continue;
    loads.push_back(std::move(load));
  }
  // Most loaded first; the position is (utilisation, id), so pages hold while loads move.
  auto before = [](double u1, const std::string& id1, double u2, const std::string& id2) {
    return u1 != u2 ? u1 > u2 : id1 < id2;
  };
  std::sort(loads.begin(), loads.end(), [&](const auto& a, const auto& b) {
    return before(a.utilisation(), a.manager_id(), b.utilisation(), b.manager_id());
  });
  double after_utilisation = 0;
  std::string after_id;
  if (!after.empty()) {
    const size_t bar = after.find('|');
    // Signed by this service, so well-formed -- unless the secret leaked: never throw on it.
    if (bar == std::string::npos || !absl::SimpleAtod(after.substr(0, bar), &after_utilisation)) {
      return InvalidField("page_token", "malformed");
    }
    after_id = after.substr(bar + 1);
  }
  kam::v1::ListManagerLoadsResponse response;
  for (auto& load : loads) {
    if (!after.empty() &&
        !before(after_utilisation, after_id, load.utilisation(), load.manager_id())) {
      continue;
    }
    if (response.loads_size() == page_size) {
      const auto& last = *response.loads().rbegin();
      char position[64];
      std::snprintf(position, sizeof(position), "%.17g|", last.utilisation());
      response.set_next_page_token(tokens_.Issue(filter, position + last.manager_id()));
      break;
    }
    *response.add_loads() = std::move(load);
  }
  return response;
}

absl::StatusOr<kam::v1::SuggestReassignmentsResponse> AccountsBook::SuggestReassignments(
    const kam::v1::SuggestReassignmentsRequest& request) const {
  ReaderMutexLock lock(&mutex_);
  if (!request.manager_id().empty() && !state_.managers().count(request.manager_id())) {
    return errors::NotFound("Manager", request.manager_id(),
                            absl::StrCat("manager_id: no manager \"", request.manager_id(), "\""));
  }
  std::vector<PlannedManager> managers;
  for (const auto& [id, manager] : state_.managers()) {
    PlannedManager planned{.id = id,
                           .name = manager.name(),
                           .industry_focus = manager.industry_focus(),
                           .capacity = state_.WithCapacity(manager).effective_capacity(),
                           .active = manager.active(),
                           .accounts = {}};
    for (const kam::v1::Account* account : state_.OwnedOpen(id)) {
      planned.accounts.push_back({.id = account->id(),
                                  .name = account->name(),
                                  .tier = account->tier(),
                                  .industry = account->industry(),
                                  .weight = account->weight()});
    }
    managers.push_back(std::move(planned));
  }
  return PlanReassignments(std::move(managers), request.manager_id());
}

}  // namespace kam::accounts
