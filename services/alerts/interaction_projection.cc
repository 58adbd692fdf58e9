#include "absl/strings/str_cat.h"
#include "common/interaction_kinds.h"
#include "common/time_util.h"
#include "services/alerts/evaluate.h"
#include "services/alerts/held_back.h"
#include "services/alerts/kpi_facts.h"
#include "services/alerts/projections.h"
#include "services/alerts/timers.h"

namespace kam::alerts {

namespace {
// Resolutions kept per account while they wait for their request.
constexpr int kMaxEarlyResolutions = 100;
}  // namespace

using kam::internal::v1::AlertAccountState;
using kam::internal::v1::AlertManagerState;

absl::Status OnInteraction(AlertTx& tx, int32_t p, const kam::v1::EventEnvelope& envelope,
                           const ConsumedRecord& record, const EngineOptions& options) {
  if (!envelope.has_interaction_recorded()) return absl::OkStatus();
  const kam::v1::Interaction& interaction = envelope.interaction_recorded().interaction();
  if (interaction.account_id().empty() || interaction.account_id() != record.key) {
    return absl::InvalidArgumentError(
        absl::StrCat("key: \"", record.key, "\" does not match the interaction's account"));
  }
  const int64_t at = MillisFromTimestamp(interaction.occur_time());
  KAM_ASSIGN_OR_RETURN(AlertAccountState * state, tx.Account(p, interaction.account_id()));
  if (!state->known()) {
    // Its account event may still be on its way on kam.accounts.v1: hold it back for a while.
    return HoldBack(tx, p, record, at, options.wall_clock());
  }
  // Event-time order: whatever fell due before this record happened fires first, at its due
  // time -- the account's own timers up to the record's time, the others' up to the record's
  // time less the allowed lateness (records of another account may still be on their way).
  if (options.allowed_lateness_millis > 0) {
    KAM_RETURN_IF_ERROR(FireDueTimers(tx, p, at, &interaction.account_id(), options));
  }
  KAM_RETURN_IF_ERROR(FireDueTimers(tx, p, at - options.allowed_lateness_millis, nullptr, options));
  KAM_RETURN_IF_ERROR(tx.Advance(p, at));
  const RuleConfig& config = options.rules.For(state->industry());
  const std::string& account_id = state->account_id();
  auto add_signal = [&](double score, bool complaint, bool detractor) {
    for (const auto& signal : state->signals()) {
      if (signal.interaction_id() == interaction.id()) return;  // the same answer twice
    }
    kam::internal::v1::SatisfactionSignal signal;
    signal.set_occur_millis(at);
    signal.set_interaction_id(interaction.id());
    signal.set_score(score);
    signal.set_complaint(complaint);
    signal.set_detractor(detractor);
    auto* signals = state->mutable_signals();
    int index = static_cast<int>(
        std::upper_bound(signals->begin(), signals->end(), at,
                         [](int64_t t, const auto& s) { return t < s.occur_millis(); }) -
        signals->begin());
    signals->Add(std::move(signal));
    for (int i = signals->size() - 1; i > index; --i) signals->SwapElements(i, i - 1);
    if (signals->size() > config.max_signals)
      signals->DeleteSubrange(0, signals->size() - config.max_signals);
  };
  auto open_request = [&]() -> absl::Status {
    for (const auto& open : state->open_requests()) {
      if (open.interaction_id() == interaction.id()) return absl::OkStatus();
    }
    auto* early = state->mutable_early_resolutions();
    for (int i = 0; i < early->size(); ++i) {
      if (early->Get(i).interaction_id() != interaction.id()) continue;
      early->DeleteSubrange(i, 1);  // resolved before it arrived: it never opens
      return absl::OkStatus();
    }
    auto* open = state->add_open_requests();
    open->set_interaction_id(interaction.id());
    open->set_open_millis(at);
    return tx.Schedule({.partition = p,
                        .due_millis = at + config.response_benchmark_millis + 1,
                        .kind = TimerKind::kResponseDue,
                        .account_id = account_id,
                        .interaction_id = interaction.id()});
  };
  switch (interaction.type()) {
    case kam::v1::INTERACTION_TYPE_SURVEY: {
      const auto& survey = interaction.survey();
      add_signal(NormalisedScore(survey), false, IsDetractor(survey));
      KAM_RETURN_IF_ERROR(EvaluateSatisfaction(tx, *state, config, at));
      break;
    }
    case kam::v1::INTERACTION_TYPE_COMPLAINT:
      add_signal(0, true, false);
      KAM_RETURN_IF_ERROR(open_request());
      KAM_RETURN_IF_ERROR(EvaluateSatisfaction(tx, *state, config, at));
      break;
    case kam::v1::INTERACTION_TYPE_SUPPORT_REQUEST:
      KAM_RETURN_IF_ERROR(open_request());
      break;
    case kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED: {
      auto* open = state->mutable_open_requests();
      bool resolved = false;
      for (int i = 0; i < open->size(); ++i) {
        if (open->Get(i).interaction_id() != interaction.resolves_interaction_id()) continue;
        open->DeleteSubrange(i, 1);
        resolved = true;
        break;
      }
      if (!resolved) {
        // The request is not known yet (ticketing systems sync out of order): when it comes, it
        // is answered already.
        auto* early = state->add_early_resolutions();
        early->set_interaction_id(interaction.resolves_interaction_id());
        early->set_open_millis(at);
        if (state->early_resolutions_size() > kMaxEarlyResolutions) {
          state->mutable_early_resolutions()->DeleteSubrange(
              0, state->early_resolutions_size() - kMaxEarlyResolutions);
        }
      }
      KAM_RETURN_IF_ERROR(tx.Transition(kam::v1::ALERT_RULE_RESPONSE_OVERDUE,
                                        account_id + "/" + interaction.resolves_interaction_id(),
                                        account_id, state->owner_manager_id(), Desired{}, at));
      break;
    }
    case kam::v1::INTERACTION_TYPE_CHURN_NOTICE:
      if (at > state->churn_notice_millis()) {
        state->set_churn_notice_millis(at);
        state->set_churn_notice_interaction_id(interaction.id());
      }
      break;
    case kam::v1::INTERACTION_TYPE_RENEWAL:
      state->set_renewed_millis(std::max(state->renewed_millis(), at));
      break;
    default:
      break;
  }
  if (IsContact(interaction.type()) && at > state->last_contact_millis()) {
    state->set_last_contact_millis(at);
    KAM_RETURN_IF_ERROR(EvaluateNoContact(tx, p, *state, config, at));
  }
  // The risk rules depend on time (a renewal date coming closer): a late record must not turn it
  // back for them, so they are judged as of the partition's clock.
  KAM_ASSIGN_OR_RETURN(int64_t clock, tx.Clock(p));
  KAM_RETURN_IF_ERROR(EvaluateAccountRisks(tx, p, *state, config, clock, RiskTrigger::kActivity));
  KAM_RETURN_IF_ERROR(RecordInteractionFacts(tx, p, interaction, at));
  // A late record may set a timer its partition's clock has already passed (a support request
  // synced days late is overdue on arrival): it fires now, not when the partition next idles --
  // while all the traffic is late (a backfill), that could be long after.
  return FireDueTimers(tx, p, clock - options.allowed_lateness_millis, nullptr, options);
}

}  // namespace kam::alerts
