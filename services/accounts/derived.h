#pragma once

// Derived figures, as pure functions: ABC tiers by revenue, the weight an account puts on its
// manager, and a manager's effective capacity. No storage, no I/O.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kam/v1/accounts.pb.h"
#include "services/accounts/policy.h"

namespace kam::accounts {

struct RevenueEntry {
  std::string account_id;
  double revenue = 0;  // in the reporting currency, major units
};

// The tier of every entry. Ties in revenue are broken by account id, so tiers are deterministic.
std::map<std::string, kam::v1::Tier> ComputeTiers(std::vector<RevenueEntry> entries,
                                                  const TierPolicy& policy);

// Revenue in the reporting currency (major units); nullopt when there is no rate for the currency.
std::optional<double> NormalisedRevenue(const kam::v1::Money& money, const AccountsPolicy& policy);

// The load `account` puts on its owner, given its tier; 0 for a closed account.
double AccountWeight(const kam::v1::Account& account, kam::v1::Tier tier,
                     const WeightPolicy& policy);

bool IsInternational(const kam::v1::Account& account);

// The manager's explicit capacity when > 0, else the default for its industry focus.
double EffectiveCapacity(const kam::v1::Manager& manager, const AccountsPolicy& policy);

}  // namespace kam::accounts
