#include "services/accounts/recompute.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "services/accounts/derived.h"

namespace kam::accounts {

using kam::v1::Account;
using kam::v1::Manager;

const Account* ChangeSet::FindAccount(const BookState& book, const std::string& id) const {
  auto staged = accounts.find(id);
  return staged != accounts.end() ? &staged->second : book.FindAccount(id);
}

const Manager* ChangeSet::FindManager(const BookState& book, const std::string& id) const {
  auto staged = managers.find(id);
  return staged != managers.end() ? &staged->second : book.FindManager(id);
}

DerivedChanges Recompute(const BookState& book, ChangeSet* changes, const AccountsPolicy& policy) {
  DerivedChanges derived;
  // 1. Tiers over every open account, staged changes included.
  std::vector<RevenueEntry> entries;
  entries.reserve(book.accounts().size() + changes->accounts.size());
  auto add_entry = [&](const Account& account) {
    if (!IsOpen(account)) return;
    entries.push_back(
        {account.id(), NormalisedRevenue(account.annual_revenue(), policy).value_or(0)});
  };
  for (const auto& [id, account] : book.accounts()) {
    if (!changes->accounts.count(id)) add_entry(account);
  }
  for (const auto& [id, account] : changes->accounts) add_entry(account);
  for (const auto& entry : entries) derived.total_revenue += entry.revenue;
  std::map<std::string, kam::v1::Tier> tiers = ComputeTiers(entries, policy.tiers);

  // 2. Weights follow tiers; accounts whose tier or weight moved are staged as derived changes.
  for (const auto& [id, tier] : tiers) {
    const Account* current = changes->FindAccount(book, id);
    double weight = AccountWeight(*current, tier, policy.weights);
    if (current->tier() == tier && current->weight() == weight &&
        current->international() == IsInternational(*current)) {
      continue;
    }
    Account updated = *current;
    updated.set_tier(tier);
    updated.set_weight(weight);
    updated.set_international(IsInternational(updated));
    if (!changes->accounts.count(id)) derived.derived_only.insert(id);
    changes->accounts[id] = std::move(updated);
  }
  // 3. Revenue concentration is judged downstream from the shares the events carry: an account
  // holding a large part of the book is published whenever its share moves a whole percentage
  // point, though nothing of its own changed.
  for (const auto& entry : entries) {
    if (changes->accounts.count(entry.account_id)) continue;
    const double before = book.total_revenue() > 0 ? entry.revenue / book.total_revenue() : 0;
    const double after = derived.total_revenue > 0 ? entry.revenue / derived.total_revenue : 0;
    if (std::max(before, after) < kPublishedShareFloor) continue;
    if (std::floor(before * 100) == std::floor(after * 100)) continue;
    derived.derived_only.insert(entry.account_id);
    changes->accounts[entry.account_id] = *book.FindAccount(entry.account_id);
  }
  for (auto& [id, account] : changes->accounts) {
    if (!IsOpen(account)) account.set_weight(0);
    std::optional<double> revenue = NormalisedRevenue(account.annual_revenue(), policy);
    account.set_revenue_share(IsOpen(account) && derived.total_revenue > 0
                                  ? revenue.value_or(0) / derived.total_revenue
                                  : 0);
  }

  // 4. Managers whose load moved: owners before and after of every changed account.
  for (const auto& [id, account] : changes->accounts) {
    if (!account.owner_manager_id().empty()) {
      derived.affected_managers.insert(account.owner_manager_id());
    }
    const Account* before = book.FindAccount(id);
    if (before != nullptr && !before->owner_manager_id().empty()) {
      derived.affected_managers.insert(before->owner_manager_id());
    }
  }
  for (const auto& [id, manager] : changes->managers) derived.affected_managers.insert(id);
  return derived;
}

kam::v1::ManagerLoad LoadAfter(const BookState& book, const ChangeSet& changes,
                               const std::string& manager_id) {
  std::set<std::string> ids = book.OwnedIds(manager_id);
  for (const auto& [id, account] : changes.accounts) {
    if (account.owner_manager_id() == manager_id && IsOpen(account)) {
      ids.insert(id);
    } else {
      ids.erase(id);
    }
  }
  std::vector<const Account*> accounts;
  for (const auto& id : ids) accounts.push_back(changes.FindAccount(book, id));
  return book.LoadOf(*changes.FindManager(book, manager_id), accounts);
}

}  // namespace kam::accounts
