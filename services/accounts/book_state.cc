#include "services/accounts/book_state.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/task_ownership.h"
#include "services/accounts/derived.h"

namespace kam::accounts {
namespace {

using kam::v1::Account;
using kam::v1::Manager;

const std::string& BookPrefix() {
  static const std::string prefix = TaskKeyPrefix(0);
  return prefix;
}

}  // namespace

std::string BookKey(std::string_view id) {
  std::string key = BookPrefix();
  key.append(id);
  return key;
}

bool IsOpen(const Account& account) {
  return account.lifecycle_phase() != kam::v1::LIFECYCLE_PHASE_CHURNED;
}

void BookState::PutAccount(Account account) {
  auto before = accounts_.find(account.id());
  if (before != accounts_.end() && !before->second.owner_manager_id().empty()) {
    auto owned = owned_.find(before->second.owner_manager_id());
    if (owned != owned_.end()) {
      owned->second.erase(account.id());
      if (owned->second.empty()) owned_.erase(owned);
    }
  }
  if (!account.owner_manager_id().empty() && IsOpen(account)) {
    owned_[account.owner_manager_id()].insert(account.id());
  }
  const std::string id = account.id();
  accounts_[id] = std::move(account);
}

void BookState::PutManager(Manager manager) {
  const std::string id = manager.id();
  managers_[id] = std::move(manager);
}

void BookState::RecomputeTotal() {
  double total = 0;
  for (const auto& [id, account] : accounts_) {
    if (IsOpen(account)) total += NormalisedRevenue(account.annual_revenue(), *policy_).value_or(0);
  }
  total_revenue_ = total;
}

absl::Status BookState::ApplyRow(std::string_view cf, std::string_view key,
                                 std::optional<std::string_view> value) {
  if (!key.starts_with(BookPrefix())) {
    return absl::DataLossError(
        absl::StrCat(std::string(cf), ": key without the book's task prefix"));
  }
  const std::string id(key.substr(BookPrefix().size()));
  if (cf == kAccountsCf) {
    if (!value) {
      // Accounts are closed, never deleted; a tombstone would be another writer's bug.
      return absl::DataLossError(absl::StrCat("account ", id, " deleted in the changelog"));
    }
    Account account;
    if (!account.ParseFromArray(value->data(), static_cast<int>(value->size())) ||
        account.id() != id) {
      return absl::DataLossError(absl::StrCat("account ", id, " does not parse"));
    }
    PutAccount(std::move(account));
  } else if (cf == kManagersCf) {
    if (!value)
      return absl::DataLossError(absl::StrCat("manager ", id, " deleted in the changelog"));
    Manager manager;
    if (!manager.ParseFromArray(value->data(), static_cast<int>(value->size())) ||
        manager.id() != id) {
      return absl::DataLossError(absl::StrCat("manager ", id, " does not parse"));
    }
    PutManager(std::move(manager));
  }
  return absl::OkStatus();
}

absl::Status BookState::LoadFrom(const Store& store) {
  managers_.clear();
  accounts_.clear();
  owned_.clear();
  for (const char* cf : {kManagersCf, kAccountsCf}) {
    auto it = store.NewIterator(cf);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      KAM_RETURN_IF_ERROR(ApplyRow(cf, it->key().ToStringView(), it->value().ToStringView()));
    }
    KAM_RETURN_IF_ERROR(FromRocks(it->status(), absl::StrCat("scan ", cf)));
  }
  RecomputeTotal();
  return absl::OkStatus();
}

const Account* BookState::FindAccount(const std::string& id) const {
  auto it = accounts_.find(id);
  return it == accounts_.end() ? nullptr : &it->second;
}

const Manager* BookState::FindManager(const std::string& id) const {
  auto it = managers_.find(id);
  return it == managers_.end() ? nullptr : &it->second;
}

const std::set<std::string>& BookState::OwnedIds(const std::string& manager_id) const {
  static const std::set<std::string> kNone;
  auto it = owned_.find(manager_id);
  return it == owned_.end() ? kNone : it->second;
}

std::vector<const Account*> BookState::OwnedOpen(const std::string& manager_id) const {
  std::vector<const Account*> result;
  for (const auto& id : OwnedIds(manager_id)) result.push_back(&accounts_.at(id));
  return result;
}

Manager BookState::WithCapacity(Manager manager) const {
  manager.set_effective_capacity(EffectiveCapacity(manager, *policy_));
  return manager;
}

Account BookState::WithShare(Account account) const {
  std::optional<double> revenue = NormalisedRevenue(account.annual_revenue(), *policy_);
  account.set_revenue_share(
      IsOpen(account) && total_revenue_ > 0 ? revenue.value_or(0) / total_revenue_ : 0);
  return account;
}

kam::v1::ManagerLoad BookState::LoadOf(const Manager& manager,
                                       const std::vector<const Account*>& owned) const {
  kam::v1::ManagerLoad load;
  load.set_manager_id(manager.id());
  load.set_manager_name(manager.name());
  double total = 0;
  for (const Account* account : owned) {
    auto* entry = load.add_accounts();
    entry->set_account_id(account->id());
    entry->set_account_name(account->name());
    entry->set_tier(account->tier());
    entry->set_weight(account->weight());
    total += account->weight();
  }
  std::sort(load.mutable_accounts()->begin(), load.mutable_accounts()->end(),
            [](const auto& a, const auto& b) {
              return a.weight() != b.weight() ? a.weight() > b.weight()
                                              : a.account_id() < b.account_id();
            });
  double capacity = EffectiveCapacity(manager, *policy_);
  load.set_load(total);
  load.set_capacity(capacity);
  load.set_utilisation(total / capacity);
  load.set_account_count(static_cast<int32_t>(owned.size()));
  return load;
}

}  // namespace kam::accounts
