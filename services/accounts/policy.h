#pragma once

// The numbers behind tiers, weights and capacities. Defaults come from ../shared/domain.md and
// are documented in docs/ACCOUNTS.md; every one can be overridden with a JSON policy file
// (--policy-file), e.g. {"tiers": {"a_share": 0.8}, "weights": {"international": 1.5}}.

#include <map>
#include <string>

#include "common/status.h"
#include "kam/v1/accounts.pb.h"

namespace kam::accounts {

struct TierPolicy {
  // Accounts sorted by revenue, largest first: an account is A while the revenue of the accounts
  // before it is below a_share of the total, B while below b_share, else C (ABC analysis:
  // A ~ top 70% of revenue, B the next 20%, C the rest).
  double a_share = 0.70;
  double b_share = 0.90;
};

struct WeightPolicy {
  // weight = tier x complexity x international x phase; a standard account (A, medium, one
  // country, established) weighs 1.0.
  double tier_a = 1.0;
  double tier_b = 0.75;
  double tier_c = 0.5;  // C accounts are served largely by processes and automation
  double complexity_low = 0.8;
  double complexity_medium = 1.0;
  double complexity_high = 1.5;  // several decision makers, custom solutions
  double international = 1.3;    // more than one country: travel and coordination
  double phase_onboarding = 1.5;
  double phase_established = 1.0;
  double phase_at_risk = 1.25;
};

struct AccountsPolicy {
  TierPolicy tiers;
  WeightPolicy weights;
  // Default capacity per industry in weighted-load units: the upper end of the domain's "accounts
  // per manager" ranges, counted in standard accounts.
  std::map<kam::v1::Industry, double> industry_capacity = {
      {kam::v1::INDUSTRY_SPECIALISED_TECHNOLOGY, 8},
      {kam::v1::INDUSTRY_GREENTECH_DIGITAL, 10},
      {kam::v1::INDUSTRY_SERVICES, 15},
      {kam::v1::INDUSTRY_TRADITIONAL_B2B, 20},
      {kam::v1::INDUSTRY_MANUFACTURING_STANDARD, 25},
  };
  double default_capacity = 12;  // a manager without industry focus
  // Revenue is compared across accounts in this currency. rates[c] = value of one major unit of c
  // in the reporting currency. Static configuration, not live exchange rates.
  std::string reporting_currency = "EUR";
  std::map<std::string, double> rates = {
      {"EUR", 1.0},  {"USD", 0.92},  {"GBP", 1.17},  {"CHF", 1.05},  {"JPY", 0.0062},
      {"CNY", 0.13}, {"SEK", 0.088}, {"NOK", 0.086}, {"DKK", 0.134}, {"PLN", 0.23},
      {"CZK", 0.04}, {"CAD", 0.68},  {"AUD", 0.61},  {"INR", 0.011}, {"BRL", 0.18}};
};

// Reads a policy file over the defaults; INVALID_ARGUMENT naming the key on bad content.
absl::StatusOr<AccountsPolicy> LoadPolicy(const std::string& path);
// Checks ranges (shares ordered in (0,1], factors > 0, capacities > 0).
absl::Status ValidatePolicy(const AccountsPolicy& policy);

}  // namespace kam::accounts
