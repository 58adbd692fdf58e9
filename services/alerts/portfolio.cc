#include "services/alerts/portfolio.h"

#include "absl/strings/str_cat.h"
#include "common/kafka_topics.h"
#include "common/trace_context.h"
#include "services/alerts/rules.h"

namespace kam::alerts {

using kam::internal::v1::AlertAccountState;
using kam::internal::v1::AlertManagerState;
using kam::internal::v1::PortfolioFact;

namespace {

// Facts equal in what a manager's rules read (not in when they were observed).
bool SameSymptoms(const PortfolioFact& a, const PortfolioFact& b) {
  return a.account_id() == b.account_id() && a.account_name() == b.account_name() &&
         a.manager_id() == b.manager_id() && a.removed() == b.removed() &&
         a.satisfaction_falling() == b.satisfaction_falling() &&
         a.overdue_requests() == b.overdue_requests() && a.churn_risk() == b.churn_risk() &&
         a.last_contact_millis() == b.last_contact_millis();
}

void Send(AlertTx& tx, const PortfolioFact& fact, const std::string& topic) {
  OutboundEvent event;
  event.topic = topic;
  event.key = fact.manager_id();
  event.event_id = absl::StrCat("portfolio/", fact.account_id(), "/", fact.manager_id(), "/",
                                fact.occur_millis(), fact.removed() ? "/removed" : "");
  event.raw_value = fact.SerializeAsString();
  // The record that changed the fact: the manager alerts it causes continue its trace.
  event.traceparent = trace::CurrentTraceparent();
  tx.Emit(std::move(event));
}

}  // namespace

absl::Status ReportPortfolioFact(AlertTx& tx, int32_t p, const std::string& account_id,
                                 int64_t at_millis, const EngineOptions& options) {
  KAM_ASSIGN_OR_RETURN(AlertAccountState * account, tx.Account(p, account_id));
  if (!account->known()) return absl::OkStatus();
  const PortfolioFact& previous = account->portfolio_fact();
  PortfolioFact fact;
  fact.set_account_id(account_id);
  fact.set_account_name(account->name());
  fact.set_manager_id(account->owner_manager_id());
  fact.set_removed(account->closed() || account->owner_manager_id().empty());
  fact.set_last_contact_millis(account->last_contact_millis());
  fact.set_occur_millis(at_millis);
  if (!fact.removed()) {
    KAM_ASSIGN_OR_RETURN(bool falling,
                         tx.IsFiring(kam::v1::ALERT_RULE_SATISFACTION_FALLING, account_id));
    KAM_ASSIGN_OR_RETURN(bool low, tx.IsFiring(kam::v1::ALERT_RULE_SATISFACTION_LOW, account_id));
    fact.set_satisfaction_falling(falling || low);
    int overdue = 0;
    for (const auto& request : account->open_requests()) {
      KAM_ASSIGN_OR_RETURN(bool firing, tx.IsFiring(kam::v1::ALERT_RULE_RESPONSE_OVERDUE,
                                                    account_id + "/" + request.interaction_id()));
      overdue += firing ? 1 : 0;
    }
    fact.set_overdue_requests(overdue);
    KAM_ASSIGN_OR_RETURN(bool churn, tx.IsFiring(kam::v1::ALERT_RULE_CHURN_RISK, account_id));
    fact.set_churn_risk(churn);
  }
  const bool same_manager = previous.manager_id() == fact.manager_id() && !previous.removed();
  if (fact.satisfaction_falling()) {
    fact.set_satisfaction_since_millis(same_manager && previous.satisfaction_falling()
                                           ? previous.satisfaction_since_millis()
                                           : at_millis);
  }
  if (fact.overdue_requests() > 0) {
    fact.set_overdue_since_millis(same_manager && previous.overdue_requests() > 0
                                      ? previous.overdue_since_millis()
                                      : at_millis);
  }
  if (fact.churn_risk()) {
    fact.set_churn_since_millis(
        same_manager && previous.churn_risk() ? previous.churn_since_millis() : at_millis);
  }
  if (SameSymptoms(previous, fact)) return absl::OkStatus();
  if (!previous.manager_id().empty() && !previous.removed() &&
      previous.manager_id() != fact.manager_id()) {
    PortfolioFact removal = previous;
    removal.set_removed(true);
    removal.set_occur_millis(at_millis);
    Send(tx, removal,
         options.portfolio_topic);  // reassigned: the old manager's portfolio loses the account
  }
  if (!fact.manager_id().empty() && !(fact.removed() && previous.manager_id().empty())) {
    Send(tx, fact, options.portfolio_topic);
  }
  *account->mutable_portfolio_fact() = std::move(fact);
  return absl::OkStatus();
}

absl::Status OnPortfolioFact(AlertTx& tx, int32_t p, const ConsumedRecord& record,
                             const EngineOptions& options) {
  PortfolioFact fact;
  if (!fact.ParseFromString(record.value)) {
    return absl::InvalidArgumentError("value: not a kam.internal.v1.PortfolioFact");
  }
  if (fact.manager_id().empty() || fact.manager_id() != record.key || fact.account_id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key: \"", record.key, "\" does not match the fact's manager \"", fact.manager_id(), "\""));
  }
  KAM_ASSIGN_OR_RETURN(AlertManagerState * manager, tx.Manager(p, fact.manager_id()));
  if (fact.removed()) {
    manager->mutable_portfolio()->erase(fact.account_id());
  } else {
    (*manager->mutable_portfolio())[fact.account_id()] = fact;
  }
  return EvaluateManager(tx, p, fact.manager_id(), options, fact.occur_millis());
}

absl::Status EvaluateManager(AlertTx& tx, int32_t p, const std::string& manager_id,
                             const EngineOptions& options, int64_t at_millis) {
  KAM_ASSIGN_OR_RETURN(AlertManagerState * manager, tx.Manager(p, manager_id));
  const RuleConfig& config = options.rules.For(manager->industry());
  KAM_ASSIGN_OR_RETURN(bool overloaded,
                       tx.IsFiring(kam::v1::ALERT_RULE_MANAGER_OVERLOADED, manager_id));
  KAM_RETURN_IF_ERROR(tx.Transition(kam::v1::ALERT_RULE_MANAGER_OVERLOADED, manager_id, "",
                                    manager_id, ManagerOverloaded(*manager, config, overloaded),
                                    at_millis));
  KAM_ASSIGN_OR_RETURN(overloaded, tx.IsFiring(kam::v1::ALERT_RULE_MANAGER_OVERLOADED, manager_id));
  KAM_ASSIGN_OR_RETURN(bool strained,
                       tx.IsFiring(kam::v1::ALERT_RULE_PORTFOLIO_STRAIN, manager_id));
  return tx.Transition(kam::v1::ALERT_RULE_PORTFOLIO_STRAIN, manager_id, "", manager_id,
                       PortfolioStrain(*manager, config, strained, overloaded), at_millis);
}

}  // namespace kam::alerts
