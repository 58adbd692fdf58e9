#include "services/accounts/validation.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/currency.h"
#include "common/error_details.h"
#include "common/field_checks.h"

namespace kam::accounts {
namespace {

using kam::v1::Account;
using kam::v1::Manager;

absl::Status Invalid(std::string_view field, std::string_view problem) {
  return InvalidField(field, problem);
}

std::string Field(std::string_view prefix, std::string_view name) {
  return prefix.empty() ? std::string(name)
                        : absl::StrCat(std::string(prefix), ".", std::string(name));
}

const std::vector<std::string>& ManagerPaths() {
  static const auto* paths =
      new std::vector<std::string>{"name", "email", "industry_focus", "capacity", "active"};
  return *paths;
}

const std::vector<std::string>& AccountPaths() {
  static const auto* paths =
      new std::vector<std::string>{"name",           "industry",          "regions",
                                   "annual_revenue", "growth_potential",  "lifecycle_phase",
                                   "complexity",     "parent_account_id", "key_account",
                                   "contacts",       "renewal_time"};
  return *paths;
}

absl::StatusOr<std::vector<std::string>> ResolveMask(
    const google::protobuf::FieldMask& mask, const std::vector<std::string>& updatable,
    const std::function<bool(const std::string&)>& is_set, std::string_view resource) {
  std::vector<std::string> paths;
  if (mask.paths().empty()) {
    for (const auto& path : updatable) {
      if (is_set(path)) paths.push_back(path);
    }
    if (paths.empty()) return Invalid("update_mask", "empty, and the request sets no field");
    return paths;
  }
  for (const auto& path : mask.paths()) {
    if (path == "*") return updatable;
    if (std::find(updatable.begin(), updatable.end(), path) == updatable.end()) {
      return Invalid("update_mask", absl::StrCat("\"", path, "\" is not an updatable field of ",
                                                 std::string(resource)));
    }
    if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
  }
  return paths;
}

}  // namespace

absl::Status ValidateName(std::string_view value, std::string_view field) {
  return ValidateText(value, field, kMaxNameChars, true);
}

absl::Status ValidateRequestId(std::string_view value) {
  return ValidateText(value, "request_id", kMaxRequestIdChars, false);
}

absl::Status ValidateReason(std::string_view value, std::string_view field) {
  return ValidateText(value, field, kMaxReasonChars, false);
}

absl::Status ValidateManagerFields(const Manager& manager, std::string_view prefix) {
  errors::FieldViolations violations;
  violations.Add(ValidateName(manager.name(), Field(prefix, "name")));
  violations.Add(ValidateEmail(manager.email(), Field(prefix, "email"), true));
  violations.Add(ValidateEnumValue(manager.industry_focus(), kam::v1::Industry_IsValid,
                                   Field(prefix, "industry_focus"), false));
  if (manager.capacity() < 0 || manager.capacity() > kMaxCapacity) {
    violations.Add(Invalid(Field(prefix, "capacity"),
                           absl::StrCat("must be 0..", kMaxCapacity,
                                        " (0 = industry default), got ", manager.capacity())));
  }
  return violations.status();
}

absl::Status ValidateAccountFields(const Account& account, std::string_view prefix,
                                   const AccountsPolicy& policy) {
  errors::FieldViolations violations;
  violations.Add(ValidateName(account.name(), Field(prefix, "name")));
  violations.Add(ValidateEnumValue(account.industry(), kam::v1::Industry_IsValid,
                                   Field(prefix, "industry"), true));
  // Over a list's limit, its items are not checked one by one: one violation, not thousands.
  if (account.regions_size() > kMaxRegions) {
    violations.Add(
        Invalid(Field(prefix, "regions"), absl::StrCat("at most ", kMaxRegions, " countries")));
  }
  std::set<std::string> seen;
  for (int i = 0; i < account.regions_size() && i < kMaxRegions; ++i) {
    const std::string field = absl::StrCat(Field(prefix, "regions"), "[", i, "]");
    if (!IsCountryCode(account.regions(i))) {
      violations.Add(Invalid(field, absl::StrCat("\"", account.regions(i),
                                                 "\" is not an ISO 3166-1 alpha-2 country code")));
    }
    if (!seen.insert(account.regions(i)).second) {
      violations.Add(Invalid(field, absl::StrCat("\"", account.regions(i), "\" listed twice")));
    }
  }
  const auto& revenue = account.annual_revenue();
  if (!account.has_annual_revenue()) {
    violations.Add(Invalid(Field(prefix, "annual_revenue"), "required"));
  } else if (violations.Add(ValidateMoney(revenue, Field(prefix, "annual_revenue"))) &&
             !policy.rates.count(revenue.currency())) {
    violations.Add(Invalid(Field(prefix, "annual_revenue.currency"),
                           absl::StrCat("no exchange rate to ", policy.reporting_currency,
                                        " configured for ", revenue.currency())));
  }
  violations.Add(ValidateEnumValue(account.growth_potential(), kam::v1::GrowthPotential_IsValid,
                                   Field(prefix, "growth_potential"), false));
  violations.Add(ValidateEnumValue(account.lifecycle_phase(), kam::v1::LifecyclePhase_IsValid,
                                   Field(prefix, "lifecycle_phase"), false));
  if (account.lifecycle_phase() == kam::v1::LIFECYCLE_PHASE_CHURNED) {
    violations.Add(
        Invalid(Field(prefix, "lifecycle_phase"), "CHURNED is set by CloseAccount only"));
  }
  violations.Add(ValidateEnumValue(account.complexity(), kam::v1::Complexity_IsValid,
                                   Field(prefix, "complexity"), false));
  if (account.contacts_size() > kMaxContacts) {
    violations.Add(
        Invalid(Field(prefix, "contacts"), absl::StrCat("at most ", kMaxContacts, " contacts")));
  }
  for (int i = 0; i < account.contacts_size() && i < kMaxContacts; ++i) {
    const auto& contact = account.contacts(i);
    const std::string field = absl::StrCat(Field(prefix, "contacts"), "[", i, "]");
    violations.Add(ValidateName(contact.name(), field + ".name"));
    violations.Add(ValidateText(contact.role(), field + ".role", kMaxRoleChars, false));
    violations.Add(ValidateEmail(contact.email(), field + ".email", false));
  }
  if (account.has_renewal_time()) {
    violations.Add(ValidateTimestamp(account.renewal_time(), Field(prefix, "renewal_time")));
  }
  return violations.status();
}

absl::StatusOr<std::vector<std::string>> ResolveManagerMask(const google::protobuf::FieldMask& mask,
                                                            const Manager& m) {
  return ResolveMask(
      mask, ManagerPaths(),
      [&](const std::string& path) {
        if (path == "name") return !m.name().empty();
        if (path == "email") return !m.email().empty();
        if (path == "industry_focus") return m.industry_focus() != 0;
        if (path == "capacity") return m.capacity() != 0;
        return m.active();
      },
      "Manager");
}

absl::StatusOr<std::vector<std::string>> ResolveAccountMask(const google::protobuf::FieldMask& mask,
                                                            const Account& a) {
  return ResolveMask(
      mask, AccountPaths(),
      [&](const std::string& path) {
        if (path == "name") return !a.name().empty();
        if (path == "industry") return a.industry() != 0;
        if (path == "regions") return a.regions_size() > 0;
        if (path == "annual_revenue") return a.has_annual_revenue();
        if (path == "growth_potential") return a.growth_potential() != 0;
        if (path == "lifecycle_phase") return a.lifecycle_phase() != 0;
        if (path == "complexity") return a.complexity() != 0;
        if (path == "parent_account_id") return !a.parent_account_id().empty();
        if (path == "key_account") return a.key_account();
        if (path == "contacts") return a.contacts_size() > 0;
        return a.has_renewal_time();
      },
      "Account");
}

void ApplyManagerMask(const std::vector<std::string>& paths, const Manager& from, Manager* to) {
  for (const auto& path : paths) {
    if (path == "name") to->set_name(from.name());
    if (path == "email") to->set_email(from.email());
    if (path == "industry_focus") to->set_industry_focus(from.industry_focus());
    if (path == "capacity") to->set_capacity(from.capacity());
    if (path == "active") to->set_active(from.active());
  }
}

void ApplyAccountMask(const std::vector<std::string>& paths, const Account& from, Account* to) {
  for (const auto& path : paths) {
    if (path == "name") to->set_name(from.name());
    if (path == "industry") to->set_industry(from.industry());
    if (path == "regions") *to->mutable_regions() = from.regions();
    if (path == "annual_revenue") *to->mutable_annual_revenue() = from.annual_revenue();
    if (path == "growth_potential") to->set_growth_potential(from.growth_potential());
    if (path == "lifecycle_phase") {
      // Clearing the phase means "back to the default", not "unknown".
      to->set_lifecycle_phase(from.lifecycle_phase() == 0 ? kam::v1::LIFECYCLE_PHASE_ESTABLISHED
                                                          : from.lifecycle_phase());
    }
    if (path == "complexity") {
      to->set_complexity(from.complexity() == 0 ? kam::v1::COMPLEXITY_MEDIUM : from.complexity());
    }
    if (path == "parent_account_id") to->set_parent_account_id(from.parent_account_id());
    if (path == "key_account") to->set_key_account(from.key_account());
    if (path == "contacts") *to->mutable_contacts() = from.contacts();
    if (path == "renewal_time") {
      if (from.has_renewal_time()) {
        *to->mutable_renewal_time() = from.renewal_time();
      } else {
        to->clear_renewal_time();
      }
    }
  }
}

absl::Status RequireId(std::string_view id, std::string_view field) {
  if (id.empty()) return InvalidField(field, "required");
  return absl::OkStatus();
}

}  // namespace kam::accounts
