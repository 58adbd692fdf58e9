#include "services/alerts/evaluate.h"

#include "services/alerts/alert_store.h"

namespace kam::alerts {

using kam::internal::v1::AlertAccountState;

absl::Status EvaluateSatisfaction(AlertTx& tx, const AlertAccountState& account,
                                  const RuleConfig& config, int64_t at) {
  const std::string& id = account.account_id();
  KAM_ASSIGN_OR_RETURN(bool falling, tx.IsFiring(kam::v1::ALERT_RULE_SATISFACTION_FALLING, id));
  KAM_RETURN_IF_ERROR(tx.Transition(kam::v1::ALERT_RULE_SATISFACTION_FALLING, id, id,
                                    account.owner_manager_id(),
                                    SatisfactionFalling(account, config, falling), at));
  KAM_ASSIGN_OR_RETURN(bool low, tx.IsFiring(kam::v1::ALERT_RULE_SATISFACTION_LOW, id));
  return tx.Transition(kam::v1::ALERT_RULE_SATISFACTION_LOW, id, id, account.owner_manager_id(),
                       SatisfactionLow(account, config, low), at);
}

absl::Status EvaluateNoContact(AlertTx& tx, int32_t p, const AlertAccountState& account,
                               const RuleConfig& config, int64_t now) {
  Desired desired = NoContact(account, now, config);
  KAM_RETURN_IF_ERROR(tx.Transition(kam::v1::ALERT_RULE_NO_CONTACT, account.account_id(),
                                    account.account_id(), account.owner_manager_id(), desired,
                                    now));
  bool watched = account.known() && !account.closed() &&
                 (account.key_account() || account.tier() == kam::v1::TIER_A);
  int64_t since = account.last_contact_millis() > 0 ? account.last_contact_millis()
                                                    : account.first_seen_millis();
  if (!desired.open && watched && since > 0) {
    return tx.Schedule({.partition = p,
                        .due_millis = since + config.no_contact_millis + 1,
                        .kind = TimerKind::kNoContactDue,
                        .account_id = account.account_id(),
                        .interaction_id = ""});
  }
  return absl::OkStatus();
}

absl::Status EvaluateAccountRisks(AlertTx& tx, int32_t p, const AlertAccountState& account,
                                  const RuleConfig& config, int64_t now, RiskTrigger trigger) {
  const std::string& id = account.account_id();
  const std::string& owner = account.owner_manager_id();
  const bool account_event = trigger == RiskTrigger::kAccountEvent;
  // Without a notice no churn alert can be open: the account event that could close one (or the
  // renewal interaction that answers it) finds the notice still set.
  if (account_event || account.churn_notice_millis() > 0) {
    KAM_RETURN_IF_ERROR(tx.Transition(kam::v1::ALERT_RULE_CHURN_RISK, id, id, owner,
                                      ChurnRisk(account, config), now));
  }
  // Likewise without a renewal date: the account event that removed it resolved the alert.
  if (!account_event && account.renewal_millis() == 0) return absl::OkStatus();
  KAM_ASSIGN_OR_RETURN(bool falling, tx.IsFiring(kam::v1::ALERT_RULE_SATISFACTION_FALLING, id));
  KAM_ASSIGN_OR_RETURN(bool low, tx.IsFiring(kam::v1::ALERT_RULE_SATISFACTION_LOW, id));
  KAM_RETURN_IF_ERROR(tx.Transition(kam::v1::ALERT_RULE_RENEWAL_AT_RISK, id, id, owner,
                                    RenewalAtRisk(account, config, now, falling || low), now));
  const int64_t next_check = NextRenewalCheck(account, config, now);
  if (next_check > 0) {
    KAM_RETURN_IF_ERROR(tx.Schedule({.partition = p,
                                     .due_millis = next_check,
                                     .kind = TimerKind::kRenewalCheck,
                                     .account_id = id,
                                     .interaction_id = ""}));
  }
  if (!account_event) return absl::OkStatus();
  KAM_ASSIGN_OR_RETURN(std::optional<kam::v1::Alert> concentration,
                       tx.Latest(tx.FingerprintFor(kam::v1::ALERT_RULE_REVENUE_CONCENTRATION, id)));
  const kam::v1::Severity open_severity = concentration && IsOpen(*concentration)
                                              ? concentration->severity()
                                              : kam::v1::SEVERITY_UNSPECIFIED;
  return tx.Transition(kam::v1::ALERT_RULE_REVENUE_CONCENTRATION, id, id, owner,
                       RevenueConcentration(account, config, open_severity), now);
}

absl::Status CloseAccountAlerts(AlertTx& tx, AlertAccountState* account, int64_t at) {
  const std::string& id = account->account_id();
  const std::string& owner = account->owner_manager_id();
  for (auto rule : {kam::v1::ALERT_RULE_SATISFACTION_FALLING, kam::v1::ALERT_RULE_SATISFACTION_LOW,
                    kam::v1::ALERT_RULE_NO_CONTACT}) {
    KAM_RETURN_IF_ERROR(tx.Transition(rule, id, id, owner, Desired{}, at));
  }
  for (const auto& open : account->open_requests()) {
    KAM_RETURN_IF_ERROR(tx.Transition(kam::v1::ALERT_RULE_RESPONSE_OVERDUE,
                                      id + "/" + open.interaction_id(), id, owner, Desired{}, at));
  }
  account->clear_open_requests();
  return absl::OkStatus();
}

}  // namespace kam::alerts
