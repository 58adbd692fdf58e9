#pragma once

// Reassignment suggestions that bring overloaded managers back within capacity without
// overloading anyone else (AccountsService.SuggestReassignments). Pure: it plans over a snapshot
// of managers and their open accounts and changes nothing; tests/services/accounts/
// rebalance_test.cc shows the rules by example.

#include <string>
#include <vector>

#include "kam/v1/accounts.pb.h"

namespace kam::accounts {

struct PlannedAccount {
  std::string id;
  std::string name;
  kam::v1::Tier tier = kam::v1::TIER_UNSPECIFIED;
  kam::v1::Industry industry = kam::v1::INDUSTRY_UNSPECIFIED;
  double weight = 0;
};

struct PlannedManager {
  std::string id;
  std::string name;
  kam::v1::Industry industry_focus = kam::v1::INDUSTRY_UNSPECIFIED;
  double capacity = 0;  // effective capacity, > 0
  bool active = true;
  std::vector<PlannedAccount> accounts;  // open accounts owned
};

// The moves, in order, and the managers they cannot relieve. `only_manager` (empty = all)
// restricts the managers to relieve, not the ones that may receive.
kam::v1::SuggestReassignmentsResponse PlanReassignments(std::vector<PlannedManager> managers,
                                                        const std::string& only_manager);

}  // namespace kam::accounts
