#include "services/alerts/timers.h"

#include <algorithm>
#include <optional>

#include "common/store.h"
#include "common/trace_context.h"
#include "services/alerts/alert_commands.h"
#include "services/alerts/alert_store.h"
#include "services/alerts/damping.h"
#include "services/alerts/evaluate.h"
#include "services/alerts/portfolio.h"

namespace kam::alerts {

using kam::internal::v1::AlertAccountState;

namespace {

// Fires `timer` as of its due time.
absl::Status FireTimer(AlertTx& tx, const TimerKey& timer, const EngineOptions& options) {
  const int32_t p = timer.partition;
  const int64_t now = timer.due_millis;
  KAM_ASSIGN_OR_RETURN(AlertAccountState * state, tx.Account(p, timer.account_id));
  const RuleConfig& config = options.rules.For(state->industry());
  if (timer.kind == TimerKind::kNoContactDue) {
    KAM_RETURN_IF_ERROR(EvaluateNoContact(tx, p, *state, config, now));
    return EvaluateAccountRisks(tx, p, *state, config, now, RiskTrigger::kActivity);
  }
  if (timer.kind == TimerKind::kRenewalCheck) {
    return EvaluateAccountRisks(tx, p, *state, config, now, RiskTrigger::kActivity);
  }
  const kam::internal::v1::OpenRequestTimer* open = nullptr;
  for (const auto& request : state->open_requests()) {
    if (request.interaction_id() == timer.interaction_id) open = &request;
  }
  if (open == nullptr) return absl::OkStatus();  // resolved before it fell due
  KAM_RETURN_IF_ERROR(EvaluateAccountRisks(tx, p, *state, config, now, RiskTrigger::kActivity));
  KAM_RETURN_IF_ERROR(tx.Transition(kam::v1::ALERT_RULE_RESPONSE_OVERDUE,
                                    timer.account_id + "/" + timer.interaction_id, timer.account_id,
                                    state->owner_manager_id(),
                                    ResponseOverdue(timer.account_id, timer.interaction_id,
                                                    open->open_millis(), true, now, config),
                                    now));
  const int64_t critical_at = open->open_millis() + 2 * config.response_benchmark_millis + 1;
  if (now < critical_at) {
    TimerKey escalation = timer;
    escalation.due_millis = critical_at;
    return tx.Schedule(escalation);
  }
  return absl::OkStatus();
}

// A damped verdict's wait is over. The manager's rules are judged again as of now: a damped
// MANAGER_OVERLOADED that fires must also resolve PORTFOLIO_STRAIN, which defers to it.
absl::Status FireDampingTimer(AlertTx& tx, int32_t p, const std::string& fingerprint,
                              int64_t due_millis, const EngineOptions& options) {
  KAM_ASSIGN_OR_RETURN(auto waiting, WaitingVerdict(tx, fingerprint));
  if (!waiting) return absl::OkStatus();  // the verdict flipped back before its wait was over
  const Damping damping = options.rules.DampingFor(waiting->rule());
  if (damping.pending_millis == 0 && damping.hold_millis == 0) {
    // The rules file no longer damps the rule: its next verdict acts at once; this one is stale.
    return tx.Delete(kDampingCf, PartKey(p, fingerprint));
  }
  if (waiting->rule() == kam::v1::ALERT_RULE_MANAGER_OVERLOADED ||
      waiting->rule() == kam::v1::ALERT_RULE_PORTFOLIO_STRAIN) {
    return EvaluateManager(tx, p, waiting->manager_id(), options, due_millis);
  }
  KAM_RETURN_IF_ERROR(ApplyWaitingVerdict(tx, *waiting, due_millis));
  // An account alert that opened or resolved is a portfolio symptom of its manager.
  if (waiting->account_id().empty()) return absl::OkStatus();
  return ReportPortfolioFact(tx, p, waiting->account_id(), due_millis, options);
}

}  // namespace

absl::Status FireDueTimers(AlertTx& tx, int32_t p, int64_t upto, const std::string* only_account,
                           const EngineOptions& options) {
  auto scanned = tx.scanned_upto().find(p);
  if (only_account == nullptr && scanned != tx.scanned_upto().end() && upto <= scanned->second) {
    return absl::OkStatus();
  }
  tx.SetTask(p);
  // A timer fires for whichever account it was set for, whatever record moved the clock: its
  // changes belong to no caller's trace.
  trace::Scope untraced(std::optional<trace::TraceContext>{});
  const std::string prefix = TimerKey::PartitionPrefix(p);
  // One at a time, earliest first: a timer may schedule another (an escalation) that falls due
  // before the ones already found.
  while (true) {
    std::optional<TimerKey> next;
    std::string next_key;
    {
      // Timers due at or before scanned_upto are all fired (Schedule lowers it for a new one):
      // start after them, not at the partition's first key -- the fired timers' deletions are
      // still in the memtable and the transaction's batch, and stepping over each of them on
      // every scan made a stream of late records quadratic (77 % of kam-alerts' time at 2,000
      // late records/s).
      std::string start = prefix;
      auto floor = tx.scanned_upto().find(p);
      if (floor != tx.scanned_upto().end() && floor->second >= 0) {
        start += EncodeUint64(static_cast<uint64_t>(floor->second) + 1);
      }
      auto it = tx.NewPrefixIterator(kTimersCf, prefix);
      for (it->Seek(start); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        std::optional<TimerKey> timer = TimerKey::Decode(it->key().ToStringView());
        if (!timer) return absl::DataLossError("timer key does not decode");
        if (timer->due_millis > upto) break;
        if (only_account != nullptr && timer->account_id != *only_account) continue;
        next = std::move(timer);
        next_key = it->key().ToString();
        break;
      }
      KAM_RETURN_IF_ERROR(FromRocks(it->status(), "scan timers"));
    }
    if (!next) break;
    KAM_RETURN_IF_ERROR(tx.Delete(kTimersCf, next_key));
    // Earliest first: nothing before it is left (a timer it schedules earlier lowers this again).
    if (only_account == nullptr && next->due_millis > 0) {
      auto [floor, inserted] = tx.scanned_upto().try_emplace(p, next->due_millis - 1);
      if (!inserted) floor->second = std::max(floor->second, next->due_millis - 1);
    }
    if (next->kind == TimerKind::kSnoozeEnds) {
      KAM_RETURN_IF_ERROR(EndSnooze(tx, next->target, next->due_millis));
      continue;
    }
    if (next->kind == TimerKind::kDampingDue) {
      KAM_RETURN_IF_ERROR(FireDampingTimer(tx, p, next->target, next->due_millis, options));
      continue;
    }
    KAM_RETURN_IF_ERROR(FireTimer(tx, *next, options));
    KAM_RETURN_IF_ERROR(ReportPortfolioFact(tx, p, next->account_id, next->due_millis, options));
  }
  if (only_account == nullptr) tx.scanned_upto()[p] = upto;
  return absl::OkStatus();
}

}  // namespace kam::alerts
