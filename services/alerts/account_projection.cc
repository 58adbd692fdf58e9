#include "absl/strings/str_cat.h"
#include "common/event_envelope.h"
#include "common/time_util.h"
#include "common/trace_context.h"
#include "services/alerts/evaluate.h"
#include "services/alerts/held_back.h"
#include "services/alerts/kpi_facts.h"
#include "services/alerts/projections.h"

namespace kam::alerts {

using kam::internal::v1::AlertAccountState;
using kam::internal::v1::AlertManagerState;

absl::Status OnAccountEvent(AlertTx& tx, int32_t p, const kam::v1::EventEnvelope& envelope,
                            const ConsumedRecord& record, const EngineOptions& options) {
  const kam::v1::Account* account = AccountOf(envelope);
  if (account == nullptr) return absl::OkStatus();
  if (account->id().empty() || account->id() != record.key) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key: \"", record.key, "\" does not match account id \"", account->id(), "\""));
  }
  // Account events do not move the clock: it follows the interactions (the activity stream), so a
  // backfill of old interactions for a just-created account is judged on its own time.
  const int64_t at = MillisFromTimestamp(envelope.time());
  KAM_ASSIGN_OR_RETURN(AlertAccountState * state, tx.Account(p, account->id()));
  const bool was_known = state->known();
  state->set_known(true);
  state->set_name(account->name());
  state->set_owner_manager_id(account->owner_manager_id());
  state->set_tier(account->tier());
  state->set_key_account(account->key_account());
  state->set_industry(account->industry());
  state->set_closed(account->lifecycle_phase() == kam::v1::LIFECYCLE_PHASE_CHURNED);
  state->set_parent_account_id(account->parent_account_id());
  state->set_revenue_share(account->revenue_share());
  state->set_annual_revenue_minor(account->annual_revenue().amount_minor());
  state->set_revenue_currency(account->annual_revenue().currency());
  state->set_renewal_millis(
      account->has_renewal_time() ? MillisFromTimestamp(account->renewal_time()) : 0);
  if (state->first_seen_millis() == 0) state->set_first_seen_millis(at);
  const RuleConfig& config = options.rules.For(state->industry());
  KAM_ASSIGN_OR_RETURN(int64_t clock, tx.Clock(p));
  if (state->closed()) {
    KAM_RETURN_IF_ERROR(CloseAccountAlerts(tx, state, clock));
  } else {
    KAM_RETURN_IF_ERROR(EvaluateNoContact(tx, p, *state, config, clock));
  }
  // A partition that has seen no interaction yet has no clock: judge as of the event's own time.
  KAM_RETURN_IF_ERROR(EvaluateAccountRisks(tx, p, *state, config, clock > 0 ? clock : at,
                                           RiskTrigger::kAccountEvent));
  KAM_RETURN_IF_ERROR(RecordAccountFacts(tx, p, *account, at));
  if (!was_known) {
    // Interactions that arrived before their account: apply them now, in event-time order.
    KAM_ASSIGN_OR_RETURN(std::vector<ConsumedRecord> held, TakeHeldBack(tx, p, account->id()));
    for (const ConsumedRecord& record : held) {
      kam::v1::EventEnvelope held_envelope;
      if (!held_envelope.ParseFromString(record.value)) {
        return absl::DataLossError("held-back record does not parse");
      }
      // Its changes belong to the held record's trace, not to the account event's.
      trace::Scope traced(record.traceparent);
      KAM_RETURN_IF_ERROR(OnInteraction(tx, p, held_envelope, record, options));
    }
  }
  // Timers are not run here: account events carry the accounts service's time, not the activity
  // stream's, and firing on them would make the alert history depend on arrival order.
  return absl::OkStatus();
}

}  // namespace kam::alerts
