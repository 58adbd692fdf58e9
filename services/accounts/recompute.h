#pragma once

// The derived state of the book, recomputed for a set of staged changes: ABC tiers over every open
// account, the weights that follow them, revenue shares, and the managers whose load may move.
// Pure: reads the book and the change set, touches nothing else, so it is tested on its own
// (tests/services/accounts/recompute_test.cc).

#include <map>
#include <set>
#include <string>

#include "kam/v1/accounts.pb.h"
#include "services/accounts/book_state.h"
#include "services/accounts/policy.h"

namespace kam::accounts {

// Records one request changes, staged over the book.
struct ChangeSet {
  std::map<std::string, kam::v1::Account> accounts;
  std::map<std::string, kam::v1::Manager> managers;

  // The staged record, else the book's; null when neither has it.
  const kam::v1::Account* FindAccount(const BookState& book, const std::string& id) const;
  const kam::v1::Manager* FindManager(const BookState& book, const std::string& id) const;
};

// An open account whose revenue share is at least this (before or after a change) is published
// (AccountUpdated) whenever its share moves a whole percentage point, so consumers can judge
// revenue concentration from the events alone (kam-alerts' REVENUE_CONCENTRATION).
inline constexpr double kPublishedShareFloor = 0.1;

struct DerivedChanges {
  // Accounts staged only because their tier, weight, international flag or (large) revenue share
  // moved.
  std::set<std::string> derived_only;
  // Managers whose load may have moved: owners before and after of every changed account, and
  // every changed manager.
  std::set<std::string> affected_managers;
  // Revenue of every open account after the change (reporting currency).
  double total_revenue = 0;
};

// Recomputes tiers and weights over the book with `changes` applied, stages every account whose
// derived fields moved into `changes`, and sets the staged accounts' revenue shares.
DerivedChanges Recompute(const BookState& book, ChangeSet* changes, const AccountsPolicy& policy);

// The load of `manager_id` once `changes` are applied.
kam::v1::ManagerLoad LoadAfter(const BookState& book, const ChangeSet& changes,
                               const std::string& manager_id);

}  // namespace kam::accounts
