#include "services/accounts/derived.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "common/currency.h"

namespace kam::accounts {

std::map<std::string, kam::v1::Tier> ComputeTiers(std::vector<RevenueEntry> entries,
                                                  const TierPolicy& policy) {
  std::sort(entries.begin(), entries.end(), [](const RevenueEntry& a, const RevenueEntry& b) {
    if (a.revenue != b.revenue) return a.revenue > b.revenue;
    return a.account_id < b.account_id;
  });
  double total = 0;
  for (const auto& entry : entries) total += entry.revenue;
  std::map<std::string, kam::v1::Tier> tiers;
  double before = 0;
  for (const auto& entry : entries) {
    kam::v1::Tier tier = kam::v1::TIER_C;
    if (total <= 0) {
      // Without revenue figures there is nothing to rank: every account counts as C.
      tier = kam::v1::TIER_C;
    } else if (before / total < policy.a_share) {
      tier = kam::v1::TIER_A;
    } else if (before / total < policy.b_share) {
      tier = kam::v1::TIER_B;
    }
    tiers[entry.account_id] = tier;
    before += entry.revenue;
  }
  return tiers;
}

std::optional<double> NormalisedRevenue(const kam::v1::Money& money, const AccountsPolicy& policy) {
  auto rate = policy.rates.find(money.currency());
  std::optional<int> exponent = CurrencyExponent(money.currency());
  if (rate == policy.rates.end() || !exponent) return std::nullopt;
  return static_cast<double>(money.amount_minor()) / std::pow(10.0, *exponent) * rate->second;
}

bool IsInternational(const kam::v1::Account& account) {
  std::set<std::string> countries(account.regions().begin(), account.regions().end());
  return countries.size() > 1;
}

double AccountWeight(const kam::v1::Account& account, kam::v1::Tier tier,
                     const WeightPolicy& policy) {
  if (account.lifecycle_phase() == kam::v1::LIFECYCLE_PHASE_CHURNED) return 0;
  double weight = tier == kam::v1::TIER_A   ? policy.tier_a
                  : tier == kam::v1::TIER_B ? policy.tier_b
                                            : policy.tier_c;
  switch (account.complexity()) {
    case kam::v1::COMPLEXITY_LOW:
      weight *= policy.complexity_low;
      break;
    case kam::v1::COMPLEXITY_HIGH:
      weight *= policy.complexity_high;
      break;
    default:
      weight *= policy.complexity_medium;
  }
  if (IsInternational(account)) weight *= policy.international;
  switch (account.lifecycle_phase()) {
    case kam::v1::LIFECYCLE_PHASE_ONBOARDING:
      weight *= policy.phase_onboarding;
      break;
    case kam::v1::LIFECYCLE_PHASE_AT_RISK:
      weight *= policy.phase_at_risk;
      break;
    default:
      weight *= policy.phase_established;
  }
  return weight;
}

double EffectiveCapacity(const kam::v1::Manager& manager, const AccountsPolicy& policy) {
  if (manager.capacity() > 0) return manager.capacity();
  auto it = policy.industry_capacity.find(manager.industry_focus());
  return it != policy.industry_capacity.end() ? it->second : policy.default_capacity;
}

}  // namespace kam::accounts
