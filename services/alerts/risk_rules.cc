#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/currency.h"
#include "kam/v1/accounts.pb.h"
#include "services/alerts/rule_format.h"
#include "services/alerts/rules.h"

// The rules about an account's business risk: a churn notice, a renewal coming up in bad shape,
// and a book that leans on one customer. Pure, like rules.cc.

namespace kam::alerts {
namespace {

std::string AccountName(const kam::internal::v1::AlertAccountState& account) {
  return account.name().empty() ? account.account_id() : account.name();
}

int OverdueRequests(const kam::internal::v1::AlertAccountState& account, int64_t clock_millis,
                    const RuleConfig& config) {
  int overdue = 0;
  for (const auto& request : account.open_requests()) {
    overdue += clock_millis - request.open_millis() > config.response_benchmark_millis ? 1 : 0;
  }
  return overdue;
}

int64_t ContactSince(const kam::internal::v1::AlertAccountState& account) {
  return account.last_contact_millis() > 0 ? account.last_contact_millis()
                                           : account.first_seen_millis();
}

kam::v1::Severity StepUp(kam::v1::Severity severity) {
  return severity == kam::v1::SEVERITY_INFO ? kam::v1::SEVERITY_WARNING
                                            : kam::v1::SEVERITY_CRITICAL;
}

}  // namespace

Desired ChurnRisk(const kam::internal::v1::AlertAccountState& account, const RuleConfig& config) {
  Desired desired;
  const int64_t notice = account.churn_notice_millis();
  if (notice == 0) return desired;
  if (account.closed()) {
    desired.evidence = {{"outcome", "churned"}};
    return desired;
  }
  if (account.renewed_millis() >= notice) {
    desired.evidence = {{"outcome", "renewed"}, {"renewed_at", Date(account.renewed_millis())}};
    return desired;
  }
  desired.open = true;
  desired.severity = kam::v1::SEVERITY_CRITICAL;
  desired.summary = absl::StrCat(AccountName(account), " announced churn on ", Date(notice));
  const SatisfactionLevels levels = ComputeLevels(account, config);
  desired.evidence = {
      {"churn_notice", account.churn_notice_interaction_id()},
      {"notice_date", Date(notice)},
      {"satisfaction_level", levels.answers > 0 ? Fixed(levels.level) : "no answers"},
      {"satisfaction_answers", absl::StrCat(levels.answers)},
      {"open_requests", absl::StrCat(account.open_requests_size())},
      {"annual_revenue",
       account.revenue_currency().empty()
           ? "unknown"
           : FormatAmount(account.annual_revenue_minor(), account.revenue_currency())},
      {"revenue_share", Percent(account.revenue_share())}};
  if (account.renewal_millis() > 0) {
    desired.evidence.emplace_back("renewal_date", Date(account.renewal_millis()));
  }
  return desired;
}

Desired RenewalAtRisk(const kam::internal::v1::AlertAccountState& account, const RuleConfig& config,
                      int64_t clock_millis, bool satisfaction_alert) {
  Desired desired;
  const int64_t renewal = account.renewal_millis();
  if (!account.known() || account.closed() || renewal == 0) return desired;
  const int64_t left = renewal - clock_millis;
  if (left <= 0 || left > config.renewal_window_millis) return desired;
  // A renewal signed inside the window is the answer to it.
  if (account.renewed_millis() >= renewal - config.renewal_window_millis) return desired;
  const int overdue = OverdueRequests(account, clock_millis, config);
  const int64_t since = ContactSince(account);
  const bool silent = since > 0 && clock_millis - since > config.no_contact_millis;
  std::vector<std::string> signs;
  if (satisfaction_alert) signs.push_back("satisfaction low or falling");
  if (overdue > 0)
    signs.push_back(absl::StrCat(overdue, overdue == 1 ? " request" : " requests", " overdue"));
  if (silent) signs.push_back(absl::StrCat("no contact for ", Days(clock_millis - since)));
  if (signs.empty()) return desired;
  desired.open = true;
  desired.severity = left <= config.renewal_critical_millis  ? kam::v1::SEVERITY_CRITICAL
                     : left <= config.renewal_warning_millis ? kam::v1::SEVERITY_WARNING
                                                             : kam::v1::SEVERITY_INFO;
  const bool important = account.key_account() || account.tier() == kam::v1::TIER_A;
  if (important) desired.severity = StepUp(desired.severity);
  desired.summary = absl::StrCat("Renewal of ", AccountName(account), " on ", Date(renewal),
                                 " (in ", Days(left), ") is at risk: ", absl::StrJoin(signs, ", "));
  desired.evidence = {{"renewal_date", Date(renewal)},
                      {"days_left", Fixed(left / 86400000.0, 1)},
                      {"signs", absl::StrJoin(signs, "; ")},
                      {"key_account", account.key_account() ? "true" : "false"},
                      {"tier", kam::v1::Tier_Name(static_cast<kam::v1::Tier>(account.tier()))},
                      {"window", Days(config.renewal_window_millis)}};
  return desired;
}

int64_t NextRenewalCheck(const kam::internal::v1::AlertAccountState& account,
                         const RuleConfig& config, int64_t clock_millis) {
  const int64_t renewal = account.renewal_millis();
  if (!account.known() || account.closed() || renewal == 0 || renewal <= clock_millis) return 0;
  std::vector<int64_t> moments = {renewal - config.renewal_window_millis,
                                  renewal - config.renewal_warning_millis,
                                  renewal - config.renewal_critical_millis, renewal};
  const int64_t since = ContactSince(account);
  if (since > 0) moments.push_back(since + config.no_contact_millis + 1);
  for (const auto& request : account.open_requests()) {
    moments.push_back(request.open_millis() + config.response_benchmark_millis + 1);
  }
  int64_t next = 0;
  for (int64_t moment : moments) {
    if (moment > clock_millis && moment <= renewal && (next == 0 || moment < next)) next = moment;
  }
  return next;
}

Desired RevenueConcentration(const kam::internal::v1::AlertAccountState& account,
                             const RuleConfig& config, kam::v1::Severity open_severity) {
  Desired desired;
  if (!account.known() || account.closed()) return desired;
  const double share = account.revenue_share();
  // Each level is left only `margin` below the threshold that holds it: no flapping, neither of
  // the alert nor of its severity.
  const double margin = config.concentration_resolve_margin;
  const bool dependency =
      share > config.dependency_share - (open_severity == kam::v1::SEVERITY_CRITICAL ? margin : 0);
  const bool unmarked = !account.key_account() &&
                        share >= config.key_account_share -
                                     (open_severity != kam::v1::SEVERITY_UNSPECIFIED ? margin : 0);
  if (!dependency && !unmarked) return desired;
  desired.open = true;
  desired.severity = dependency ? kam::v1::SEVERITY_CRITICAL : kam::v1::SEVERITY_WARNING;
  if (desired.severity == kam::v1::SEVERITY_CRITICAL) {
    desired.summary = absl::StrCat(AccountName(account), " brings ", Percent(share),
                                   " of all revenue: a dependency on one customer");
  } else {
    desired.summary = absl::StrCat(AccountName(account), " brings ", Percent(share),
                                   " of all revenue but is not a key account: consider marking it");
  }
  desired.evidence = {
      {"revenue_share", Percent(share)},
      {"key_account", account.key_account() ? "true" : "false"},
      {"threshold", absl::StrCat("dependency above ", Percent(config.dependency_share),
                                 ", key account from ", Percent(config.key_account_share))}};
  if (!account.revenue_currency().empty()) {
    desired.evidence.emplace_back(
        "annual_revenue", FormatAmount(account.annual_revenue_minor(), account.revenue_currency()));
  }
  if (desired.severity == kam::v1::SEVERITY_WARNING) {
    desired.evidence.emplace_back("suggestion", "mark as key account");
  }
  return desired;
}

}  // namespace kam::alerts
