#pragma once

// The alert rules as pure functions: given what is known about an account or a manager at a point
// in event time, what alert (if any) should be open, with which severity and evidence. Hysteresis
// lives here too: a rule is told whether its alert is open now, and uses the fire threshold to
// open it and the (lower) resolve threshold to close it, so alerts do not flap.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "kam/internal/v1/storage.pb.h"
#include "kam/v1/alerts.pb.h"

namespace kam::alerts {

struct RuleConfig {
  // SATISFACTION_FALLING: level = fast EWMA of the normalised answers, baseline = slow EWMA over
  // the same answers; fires when baseline - level >= falling_fire_drop (after at least
  // falling_min_answers answers), resolves when the drop is below falling_resolve_drop.
  double level_alpha = 0.5;
  double baseline_alpha = 0.1;
  int falling_min_answers = 3;
  double falling_fire_drop = 15;
  double falling_resolve_drop = 7.5;
  double falling_critical_drop = 30;
  // A complaint pushes the level down by this many points.
  double complaint_penalty = 10;
  // Detractor answers among the last `detractor_window` answers that make a falling alert
  // critical.
  int detractor_window = 3;
  int detractors_for_critical = 2;
  // SATISFACTION_LOW: the level sits in detractor territory.
  double low_fire_level = 60;
  double low_resolve_level = 70;
  double low_critical_level = 30;
  int low_min_answers = 2;
  // MANAGER_OVERLOADED: utilisation = load / capacity.
  double overload_fire = 1.05;
  double overload_critical = 1.25;
  double overload_resolve = 1.0;
  // PORTFOLIO_STRAIN: a manager's accounts showing overload symptoms (satisfaction falling or low,
  // a request overdue). Fires when at least strain_min_accounts accounts AND strain_fire_share of
  // the portfolio show them while MANAGER_OVERLOADED is not firing; critical from
  // strain_critical_share; resolves below strain_resolve_share or under strain_min_accounts.
  int strain_min_accounts = 2;
  double strain_fire_share = 0.2;
  double strain_resolve_share = 0.1;
  double strain_critical_share = 0.4;
  // RESPONSE_OVERDUE: open past the benchmark; critical past twice the benchmark.
  int64_t response_benchmark_millis = 2LL * 24 * 3600 * 1000;
  // NO_CONTACT: key or A-tier accounts without a company touchpoint for this long.
  int64_t no_contact_millis = 30LL * 24 * 3600 * 1000;
  // Signals kept per account.
  int max_signals = 50;
  // RENEWAL_AT_RISK: the renewal date is within renewal_window_millis and a danger sign shows
  // (satisfaction alert open, a request overdue, no contact for no_contact_millis). Info until
  // renewal_warning_millis before the date, warning until renewal_critical_millis, then critical;
  // one step higher for key and A-tier accounts.
  int64_t renewal_window_millis = 90LL * 24 * 3600 * 1000;
  int64_t renewal_warning_millis = 60LL * 24 * 3600 * 1000;
  int64_t renewal_critical_millis = 30LL * 24 * 3600 * 1000;
  // REVENUE_CONCENTRATION: critical above dependency_share of the book's revenue; warning from
  // key_account_share for an account not marked as key account. Resolves resolve_margin below
  // the threshold that opened it. Shares below 10 % are not published by kam-accounts
  // (kPublishedShareFloor), so key_account_share - resolve_margin must be at least 0.1.
  double dependency_share = 0.5;
  double key_account_share = 0.25;
  double concentration_resolve_margin = 0.02;
};

// Flap damping of one rule, in event time (Prometheus' `for` and `keep_firing_for`): a verdict
// to open must hold for pending_millis before the alert fires, a verdict to resolve for
// hold_millis before it resolves. A condition that comes and goes inside those times changes
// nothing a human sees.
struct Damping {
  int64_t pending_millis = 0;
  int64_t hold_millis = 0;
};

// Defaults, with per-industry overrides (kam.v1.Industry enum numbers), and what applies to a
// rule whatever the industry: damping, and which grouped alerts stay quiet.
struct RulesConfig {
  RuleConfig defaults;
  std::map<int, RuleConfig> by_industry;
  // By kam.v1.AlertRule; a rule not named is not damped (every verdict acts at once).
  std::map<int, Damping> damping;
  // Rules whose alerts, grouped under their owner's open MANAGER_OVERLOADED alert, are not
  // notified on their own (the overload alert notifies for them).
  std::set<int> quiet_when_grouped = {kam::v1::ALERT_RULE_SATISFACTION_FALLING,
                                      kam::v1::ALERT_RULE_SATISFACTION_LOW,
                                      kam::v1::ALERT_RULE_RESPONSE_OVERDUE};
  const RuleConfig& For(int industry) const;
  Damping DampingFor(int rule) const;
};

// The rules whose alerts name their owner's overload alert as their group.
bool IsGroupedRule(kam::v1::AlertRule rule);

// Reads a JSON rules file over the defaults (see deploy/alerts-rules.json).
absl::StatusOr<RulesConfig> LoadRules(const std::string& path);

// What a rule wants for one subject right now.
struct Desired {
  bool open = false;
  kam::v1::Severity severity = kam::v1::SEVERITY_WARNING;
  std::string summary;
  std::vector<std::pair<std::string, std::string>> evidence;
};

struct SatisfactionLevels {
  double level = 0;
  double baseline = 0;
  int answers = 0;
  int recent_detractors = 0;
};

// Levels over the signals in event-time order (order of arrival does not matter).
SatisfactionLevels ComputeLevels(const kam::internal::v1::AlertAccountState& account,
                                 const RuleConfig& config);

Desired SatisfactionFalling(const kam::internal::v1::AlertAccountState& account,
                            const RuleConfig& config, bool open_now);
Desired SatisfactionLow(const kam::internal::v1::AlertAccountState& account,
                        const RuleConfig& config, bool open_now);
// With the portfolio symptoms (if any) in its evidence.
Desired ManagerOverloaded(const kam::internal::v1::AlertManagerState& manager,
                          const RuleConfig& config, bool open_now);

// The overload symptoms across a manager's portfolio.
struct PortfolioSymptoms {
  int portfolio = 0;             // accounts in the portfolio (load snapshot, or facts received)
  int strained = 0;              // accounts with a symptom
  int falling = 0;               // ... satisfaction falling or low
  int overdue = 0;               // ... a request overdue
  int64_t since_millis = 0;      // the earliest symptom still present
  std::string falling_accounts;  // "Acme (since 2026-11-02), Beta (since ...)"
  std::string overdue_accounts;  // "Gamma: 2 (since ...)"
  int churning = 0;              // ... a churn notice pending (CHURN_RISK open)
  std::string churn_accounts;    // "Delta (since ...)"
  double share() const { return portfolio > 0 ? static_cast<double>(strained) / portfolio : 0; }
};
PortfolioSymptoms Symptoms(const kam::internal::v1::AlertManagerState& manager);
Desired PortfolioStrain(const kam::internal::v1::AlertManagerState& manager,
                        const RuleConfig& config, bool open_now, bool overloaded);
// For one open request (or a request that is no longer open: `still_open` false).
Desired ResponseOverdue(const std::string& account_id, const std::string& interaction_id,
                        int64_t open_millis, bool still_open, int64_t clock_millis,
                        const RuleConfig& config);
Desired NoContact(const kam::internal::v1::AlertAccountState& account, int64_t clock_millis,
                  const RuleConfig& config);

// CHURN_RISK: open from a churn notice until the account renews after it or closes; a
// resolution says which in its evidence ("outcome").
Desired ChurnRisk(const kam::internal::v1::AlertAccountState& account, const RuleConfig& config);
// RENEWAL_AT_RISK as of `clock_millis`; `satisfaction_alert` = SATISFACTION_FALLING or _LOW open.
Desired RenewalAtRisk(const kam::internal::v1::AlertAccountState& account, const RuleConfig& config,
                      int64_t clock_millis, bool satisfaction_alert);
// When RENEWAL_AT_RISK must be looked at again although no event arrives (the window opens, the
// severity steps up, the date passes, a request becomes overdue, the no-contact period ends);
// 0 = never.
int64_t NextRenewalCheck(const kam::internal::v1::AlertAccountState& account,
                         const RuleConfig& config, int64_t clock_millis);
// `open_severity`: the open alert's severity, SEVERITY_UNSPECIFIED when none is open.
Desired RevenueConcentration(const kam::internal::v1::AlertAccountState& account,
                             const RuleConfig& config, kam::v1::Severity open_severity);

}  // namespace kam::alerts
