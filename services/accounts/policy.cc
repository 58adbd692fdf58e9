#include "services/accounts/policy.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/currency.h"
#include "nlohmann/json.hpp"

namespace kam::accounts {
namespace {

void Read(const nlohmann::json& object, const char* key, double* out) {
  if (object.contains(key)) *out = object.at(key).get<double>();
}

}  // namespace

absl::Status ValidatePolicy(const AccountsPolicy& policy) {
  const auto& t = policy.tiers;
  if (!(t.a_share > 0 && t.a_share <= t.b_share && t.b_share <= 1)) {
    return absl::InvalidArgumentError("tiers: need 0 < a_share <= b_share <= 1");
  }
  const auto& w = policy.weights;
  for (double factor :
       {w.tier_a, w.tier_b, w.tier_c, w.complexity_low, w.complexity_medium, w.complexity_high,
        w.international, w.phase_onboarding, w.phase_established, w.phase_at_risk}) {
    if (!(factor > 0)) return absl::InvalidArgumentError("weights: every factor must be > 0");
  }
  for (const auto& [industry, capacity] : policy.industry_capacity) {
    if (!(capacity > 0)) return absl::InvalidArgumentError("industry_capacity: must be > 0");
  }
  if (!(policy.default_capacity > 0)) {
    return absl::InvalidArgumentError("default_capacity: must be > 0");
  }
  if (!CurrencyExponent(policy.reporting_currency)) {
    return absl::InvalidArgumentError("reporting_currency: not an ISO 4217 code");
  }
  for (const auto& [currency, rate] : policy.rates) {
    if (!CurrencyExponent(currency) || !(rate > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("rates.", currency, ": need an ISO 4217 code and a rate > 0"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<AccountsPolicy> LoadPolicy(const std::string& path) {
  AccountsPolicy policy;
  if (path.empty()) return policy;
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--policy-file: cannot read ", path));
  nlohmann::json json = nlohmann::json::parse(in, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--policy-file: ", path, " is not a JSON object"));
  }
  try {
    if (json.contains("tiers")) {
      Read(json["tiers"], "a_share", &policy.tiers.a_share);
      Read(json["tiers"], "b_share", &policy.tiers.b_share);
    }
    if (json.contains("weights")) {
      const auto& w = json["weights"];
      auto& p = policy.weights;
      Read(w, "tier_a", &p.tier_a);
      Read(w, "tier_b", &p.tier_b);
      Read(w, "tier_c", &p.tier_c);
      Read(w, "complexity_low", &p.complexity_low);
      Read(w, "complexity_medium", &p.complexity_medium);
      Read(w, "complexity_high", &p.complexity_high);
      Read(w, "international", &p.international);
      Read(w, "phase_onboarding", &p.phase_onboarding);
      Read(w, "phase_established", &p.phase_established);
      Read(w, "phase_at_risk", &p.phase_at_risk);
    }
    if (json.contains("industry_capacity")) {
      for (const auto& [name, value] : json["industry_capacity"].items()) {
        kam::v1::Industry industry;
        if (!kam::v1::Industry_Parse(name, &industry)) {
          return absl::InvalidArgumentError(
              absl::StrCat("industry_capacity.", name, ": unknown industry"));
        }
        policy.industry_capacity[industry] = value.get<double>();
      }
    }
    Read(json, "default_capacity", &policy.default_capacity);
    if (json.contains("reporting_currency")) {
      policy.reporting_currency = json["reporting_currency"].get<std::string>();
    }
    if (json.contains("rates")) {
      for (const auto& [currency, rate] : json["rates"].items()) {
        policy.rates[currency] = rate.get<double>();
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("--policy-file: ", e.what()));
  }
  KAM_RETURN_IF_ERROR(ValidatePolicy(policy));
  return policy;
}

}  // namespace kam::accounts
