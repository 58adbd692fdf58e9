#include "services/alerts/damping.h"

#include "kam/internal/v1/storage.pb.h"
#include "services/alerts/alert_store.h"
#include "services/alerts/timer_key.h"

namespace kam::alerts {

using kam::internal::v1::AlertDamping;

namespace {

int64_t WaitOf(const Damping& damping, bool opening) {
  return opening ? damping.pending_millis : damping.hold_millis;
}

Desired DesiredOf(const AlertDamping& waiting) {
  Desired desired;
  desired.open = waiting.opening();
  desired.severity = static_cast<kam::v1::Severity>(waiting.severity());
  desired.summary = waiting.summary();
  for (const auto& evidence : waiting.evidence()) {
    desired.evidence.emplace_back(evidence.name(), evidence.value());
  }
  return desired;
}

}  // namespace

absl::StatusOr<bool> WaitsOutDamping(AlertTx& tx, const DampedSubject& subject,
                                     const std::string& fingerprint, const Desired& desired,
                                     bool open, int64_t at_millis) {
  const Damping damping = tx.rules().DampingFor(subject.rule);
  if (damping.pending_millis == 0 && damping.hold_millis == 0) return false;
  const std::string key = PartKey(tx.task(), fingerprint);
  KAM_ASSIGN_OR_RETURN(std::optional<AlertDamping> waiting,
                       LoadMessage<AlertDamping>(tx.batch(), kDampingCf, key));
  const bool wants_change = desired.open != open;
  const int64_t wait = WaitOf(damping, desired.open);
  if (!wants_change || wait == 0) {
    if (waiting) KAM_RETURN_IF_ERROR(tx.Delete(kDampingCf, key));
    return false;
  }
  const bool same_way = waiting && waiting->opening() == desired.open;
  const int64_t since = same_way ? waiting->since_millis() : at_millis;
  if (at_millis >= since + wait) {
    if (waiting) KAM_RETURN_IF_ERROR(tx.Delete(kDampingCf, key));
    return false;
  }
  AlertDamping record;
  record.set_rule(subject.rule);
  record.set_subject(subject.subject);
  record.set_account_id(subject.account_id);
  record.set_manager_id(subject.manager_id);
  record.set_since_millis(since);
  record.set_opening(desired.open);
  record.set_severity(desired.severity);
  record.set_summary(desired.summary);
  for (const auto& [name, value] : desired.evidence) {
    auto* evidence = record.add_evidence();
    evidence->set_name(name);
    evidence->set_value(value);
  }
  KAM_RETURN_IF_ERROR(tx.Put(kDampingCf, key, record.SerializeAsString()));
  // Every time, not only when the wait starts: the same key, so no second timer, and a wait that
  // a new rules file made longer still gets its timer.
  TimerKey timer;
  timer.partition = tx.task();
  timer.due_millis = since + wait;
  timer.kind = TimerKind::kDampingDue;
  timer.target = fingerprint;
  KAM_RETURN_IF_ERROR(tx.Schedule(timer));
  return true;
}

absl::Status ApplyOverdueVerdict(AlertTx& tx, kam::v1::AlertRule rule,
                                 const std::string& fingerprint, int64_t at_millis) {
  const Damping damping = tx.rules().DampingFor(rule);
  if (damping.pending_millis == 0 && damping.hold_millis == 0) return absl::OkStatus();
  KAM_ASSIGN_OR_RETURN(std::optional<AlertDamping> waiting, WaitingVerdict(tx, fingerprint));
  if (!waiting) return absl::OkStatus();
  const int64_t due = waiting->since_millis() + WaitOf(damping, waiting->opening());
  // Strictly before: a verdict due at this very moment is applied by WaitsOutDamping.
  if (due >= at_millis) return absl::OkStatus();
  return ApplyWaitingVerdict(tx, *waiting, due);
}

absl::StatusOr<std::optional<AlertDamping>> WaitingVerdict(AlertTx& tx,
                                                           const std::string& fingerprint) {
  return LoadMessage<AlertDamping>(tx.batch(), kDampingCf, PartKey(tx.task(), fingerprint));
}

absl::Status ApplyWaitingVerdict(AlertTx& tx, const AlertDamping& waiting, int64_t due_millis) {
  return tx.Transition(static_cast<kam::v1::AlertRule>(waiting.rule()), waiting.subject(),
                       waiting.account_id(), waiting.manager_id(), DesiredOf(waiting), due_millis);
}

}  // namespace kam::alerts
