#pragma once

// The rules applied to an account's state inside a transaction: each turns the rule's verdict
// (rules.h, pure) into an alert transition.

#include <cstdint>

#include "kam/internal/v1/storage.pb.h"
#include "services/alerts/alert_tx.h"
#include "services/alerts/rules.h"

namespace kam::alerts {

// SATISFACTION_FALLING and SATISFACTION_LOW as of `at`.
absl::Status EvaluateSatisfaction(AlertTx& tx, const kam::internal::v1::AlertAccountState& account,
                                  const RuleConfig& config, int64_t at);
// NO_CONTACT as of `now`; schedules the next check while the account is watched and in touch.
absl::Status EvaluateNoContact(AlertTx& tx, int32_t p,
                               const kam::internal::v1::AlertAccountState& account,
                               const RuleConfig& config, int64_t now);
// What moved the risk rules' inputs: an account event (every rule), or activity -- an interaction
// or a timer -- which can only move CHURN_RISK while a notice is pending and RENEWAL_AT_RISK while
// a renewal date is known (REVENUE_CONCENTRATION reads account facts only). Skipping the rules
// that cannot change keeps their alert lookups off the hot path of every interaction.
enum class RiskTrigger { kAccountEvent, kActivity };

// CHURN_RISK, RENEWAL_AT_RISK (scheduling its next check) and REVENUE_CONCENTRATION as of `now`.
absl::Status EvaluateAccountRisks(AlertTx& tx, int32_t p,
                                  const kam::internal::v1::AlertAccountState& account,
                                  const RuleConfig& config, int64_t now, RiskTrigger trigger);
// A closed (churned) account: every alert about it resolves, its open requests are dropped.
absl::Status CloseAccountAlerts(AlertTx& tx, kam::internal::v1::AlertAccountState* account,
                                int64_t at);

}  // namespace kam::alerts
