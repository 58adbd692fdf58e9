#include "services/alerts/alert_commands.h"

#include <algorithm>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "common/error_details.h"
#include "common/field_checks.h"
#include "common/time_util.h"
#include "kam/internal/v1/commands.pb.h"
#include "services/alerts/alert_store.h"
#include "services/alerts/damping.h"
#include "services/alerts/lifecycle.h"
#include "services/alerts/silences.h"
#include "services/alerts/timer_key.h"

namespace kam::alerts {
namespace {

std::string ResultKey(int32_t p, int64_t wall_millis, const std::string& command_id) {
  return Partition(p) + EncodeUint64(static_cast<uint64_t>(wall_millis)) + command_id;
}

// Outcomes the caller gets as its answer; anything else is the store failing.
bool IsAnswer(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kFailedPrecondition:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::Status CheckAcknowledgeRequest(const kam::v1::AcknowledgeAlertRequest& request) {
  errors::FieldViolations violations;
  if (request.id().empty()) violations.Add(errors::InvalidField("id", "required"));
  if (request.acknowledged_by().empty()) {
    violations.Add(errors::InvalidField("acknowledged_by", "required; say who takes care of it"));
  } else if (request.acknowledged_by().size() > 200) {
    violations.Add(errors::InvalidField("acknowledged_by", "at most 200 characters"));
  }
  return violations.status();
}

absl::StatusOr<kam::v1::Alert> AcknowledgeInTx(AlertTx& tx,
                                               const kam::v1::AcknowledgeAlertRequest& request,
                                               int64_t wall_millis) {
  KAM_RETURN_IF_ERROR(CheckAcknowledgeRequest(request));
  KAM_ASSIGN_OR_RETURN(std::optional<kam::v1::Alert> alert, tx.FindAlert(request.id()));
  if (!alert) return NoSuchAlert(request.id());
  // Before the etag: a retry whose first attempt acknowledged (its answer lost) carries the
  // etag from before, and must get the acknowledged alert, not ABORTED.
  if (alert->state() == kam::v1::ALERT_STATE_ACKNOWLEDGED) return *alert;
  if (!request.etag().empty() && request.etag() != alert->etag()) {
    return errors::EtagMismatch(
        absl::StrCat("alerts/", alert->id()),
        absl::StrCat("etag: the alert changed since it was read (etag ", alert->etag(), ")"));
  }
  if (alert->state() == kam::v1::ALERT_STATE_RESOLVED) {
    return errors::FailedPrecondition("ALERT_RESOLVED", "ALERT_STATE",
                                      absl::StrCat("alerts/", request.id()),
                                      absl::StrCat("id: alert \"", request.id(), "\" is resolved"));
  }
  KAM_RETURN_IF_ERROR(tx.Stage(Acknowledged(*alert, request.acknowledged_by(), wall_millis),
                               kam::v1::ALERT_CHANGE_KIND_ACKNOWLEDGED));
  KAM_ASSIGN_OR_RETURN(std::optional<kam::v1::Alert> staged, tx.FindAlert(request.id()));
  return *staged;
}

absl::Status CheckSnoozeRequest(const kam::v1::SnoozeAlertRequest& request, int64_t now_millis) {
  errors::FieldViolations violations;
  if (request.id().empty()) violations.Add(errors::InvalidField("id", "required"));
  if (request.snoozed_by().empty() || request.snoozed_by().size() > 200) {
    violations.Add(errors::InvalidField("snoozed_by", "required, at most 200 characters"));
  }
  if (request.reason().empty() || request.reason().size() > 500) {
    violations.Add(errors::InvalidField(
        "reason", "required (say why, for whoever looks next), at most 500 characters"));
  }
  if (!request.has_end_time()) {
    violations.Add(errors::InvalidField("end_time", "required"));
  } else if (violations.Add(ValidateTimestamp(request.end_time(), "end_time"))) {
    const int64_t end = MillisFromTimestamp(request.end_time());
    if (end <= now_millis || end - now_millis > kMaxSnoozeMillis) {
      violations.Add(
          errors::InvalidField("end_time", "must be in the future, at most 90 days ahead"));
    }
  }
  return violations.status();
}

absl::StatusOr<kam::v1::Alert> SnoozeInTx(AlertTx& tx, const kam::v1::SnoozeAlertRequest& request,
                                          int64_t wall_millis) {
  KAM_RETURN_IF_ERROR(CheckSnoozeRequest(request, wall_millis));
  KAM_ASSIGN_OR_RETURN(std::optional<kam::v1::Alert> alert, tx.FindAlert(request.id()));
  if (!alert) return NoSuchAlert(request.id());
  // A retry (or a second delivery of the command) finds its own snooze: nothing changes, nothing
  // is published again, and its etag, now stale, does not turn the answer into ABORTED.
  if (alert->state() == kam::v1::ALERT_STATE_SNOOZED &&
      alert->snoozed_by() == request.snoozed_by() && alert->snooze_reason() == request.reason() &&
      MillisFromTimestamp(alert->snooze_end_time()) == MillisFromTimestamp(request.end_time())) {
    return *alert;
  }
  if (!request.etag().empty() && request.etag() != alert->etag()) {
    return errors::EtagMismatch(
        absl::StrCat("alerts/", alert->id()),
        absl::StrCat("etag: the alert changed since it was read (etag ", alert->etag(), ")"));
  }
  if (!IsOpen(*alert)) {
    return errors::FailedPrecondition("ALERT_RESOLVED", "ALERT_STATE",
                                      absl::StrCat("alerts/", request.id()),
                                      absl::StrCat("id: alert \"", request.id(), "\" is resolved"));
  }
  kam::v1::Alert snoozed = Snoozed(*alert, request, wall_millis);
  KAM_RETURN_IF_ERROR(tx.Stage(snoozed, kam::v1::ALERT_CHANGE_KIND_SNOOZED));
  TimerKey end;
  end.partition = tx.task();
  end.due_millis = MillisFromTimestamp(request.end_time());
  end.kind = TimerKind::kSnoozeEnds;
  end.target = request.id();
  KAM_RETURN_IF_ERROR(tx.Schedule(end));
  KAM_ASSIGN_OR_RETURN(std::optional<kam::v1::Alert> staged, tx.FindAlert(request.id()));
  return staged.value_or(snoozed);
}

absl::Status EndSnooze(AlertTx& tx, const std::string& alert_id, int64_t due_millis) {
  KAM_ASSIGN_OR_RETURN(std::optional<kam::v1::Alert> alert, tx.FindAlert(alert_id));
  if (!alert || alert->state() != kam::v1::ALERT_STATE_SNOOZED ||
      MillisFromTimestamp(alert->snooze_end_time()) > due_millis) {
    return absl::OkStatus();
  }
  // The condition has cleared and its resolution waits out the rule's hold time: firing now would
  // page someone minutes before the alert resolves. Look again when the wait is over (resolved by
  // then, or the condition came back and the alert fires).
  KAM_ASSIGN_OR_RETURN(auto waiting, WaitingVerdict(tx, alert->fingerprint()));
  if (waiting && !waiting->opening()) {
    const Damping damping = tx.rules().DampingFor(alert->rule());
    TimerKey again;
    again.partition = tx.task();
    again.due_millis = std::max(due_millis, waiting->since_millis() + damping.hold_millis) + 1;
    again.kind = TimerKind::kSnoozeEnds;
    again.target = alert_id;
    return tx.Schedule(again);
  }
  return tx.Stage(SnoozeEnded(*alert, due_millis), kam::v1::ALERT_CHANGE_KIND_SNOOZE_ENDED);
}

absl::StatusOr<kam::v1::Silence> CreateSilenceInTx(AlertTx& tx, const kam::v1::Silence& silence) {
  const std::string key = PartKey(0, silence.id());
  KAM_ASSIGN_OR_RETURN(auto stored, LoadMessage<kam::v1::Silence>(tx.batch(), kSilencesCf, key));
  if (stored) return *stored;  // a retry of the same request_id
  KAM_RETURN_IF_ERROR(tx.Put(kSilencesCf, key, silence.SerializeAsString()));
  return silence;
}

absl::StatusOr<kam::v1::Silence> ExpireSilenceInTx(AlertTx& tx,
                                                   const kam::v1::ExpireSilenceRequest& request,
                                                   int64_t wall_millis) {
  if (request.id().empty()) return absl::InvalidArgumentError("id: required");
  const std::string key = PartKey(0, request.id());
  KAM_ASSIGN_OR_RETURN(auto silence, LoadMessage<kam::v1::Silence>(tx.batch(), kSilencesCf, key));
  if (!silence) {
    return errors::NotFound("Silence", request.id(),
                            absl::StrCat("id: no silence \"", request.id(), "\""));
  }
  if (MillisFromTimestamp(silence->end_time()) <= wall_millis) return *silence;
  *silence->mutable_end_time() = TimestampFromMillis(wall_millis);
  if (MillisFromTimestamp(silence->start_time()) > wall_millis) {
    *silence->mutable_start_time() = silence->end_time();  // a pending silence never starts
  }
  KAM_RETURN_IF_ERROR(tx.Put(kSilencesCf, key, silence->SerializeAsString()));
  return *silence;
}

absl::Status DropEndedSilences(AlertTx& tx, int32_t p, int64_t wall_millis) {
  if (p != 0) return absl::OkStatus();
  std::vector<std::string> ended;
  {
    const std::string prefix = Partition(0);
    auto it = tx.NewPrefixIterator(kSilencesCf, prefix);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      kam::v1::Silence silence;
      // A record this version cannot read is left alone: the book skips it too.
      if (!silence.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        continue;
      }
      if (MillisFromTimestamp(silence.end_time()) + kKeepEndedSilenceMillis < wall_millis) {
        ended.push_back(it->key().ToString());
      }
    }
    KAM_RETURN_IF_ERROR(FromRocks(it->status(), "scan silences"));
  }
  for (const auto& key : ended) KAM_RETURN_IF_ERROR(tx.Delete(kSilencesCf, key));
  return absl::OkStatus();
}

namespace {

// The outcome of one command: an alert or a silence, or the refusal the caller gets.
struct Outcome {
  absl::Status status;
  std::optional<kam::v1::Alert> alert;
  std::optional<kam::v1::Silence> silence;
};

template <typename T>
Outcome OutcomeOf(absl::StatusOr<T> result) {
  Outcome outcome{result.status(), std::nullopt, std::nullopt};
  if (result.ok()) {
    if constexpr (std::is_same_v<T, kam::v1::Alert>) {
      outcome.alert = std::move(*result);
    } else {
      outcome.silence = std::move(*result);
    }
  }
  return outcome;
}

Outcome Run(AlertTx& tx, const kam::internal::v1::AlertCommand& command) {
  switch (command.command_case()) {
    case kam::internal::v1::AlertCommand::kAcknowledge:
      return OutcomeOf(AcknowledgeInTx(tx, command.acknowledge(), command.wall_millis()));
    case kam::internal::v1::AlertCommand::kSnooze:
      return OutcomeOf(SnoozeInTx(tx, command.snooze(), command.wall_millis()));
    case kam::internal::v1::AlertCommand::kCreateSilence:
      return OutcomeOf(CreateSilenceInTx(tx, command.create_silence()));
    case kam::internal::v1::AlertCommand::kExpireSilence:
      return OutcomeOf(ExpireSilenceInTx(tx, command.expire_silence(), command.wall_millis()));
    case kam::internal::v1::AlertCommand::COMMAND_NOT_SET:
      break;
  }
  return {absl::InvalidArgumentError("value: a command without a write"), {}, {}};
}

}  // namespace

absl::Status OnCommand(AlertTx& tx, int32_t p, const ConsumedRecord& record) {
  kam::internal::v1::AlertCommand command;
  if (!command.ParseFromString(record.value)) {
    return absl::InvalidArgumentError("value: not a kam.internal.v1.AlertCommand");
  }
  if (command.command_id().empty() || command.wall_millis() <= 0 ||
      command.command_case() == kam::internal::v1::AlertCommand::COMMAND_NOT_SET) {
    return absl::InvalidArgumentError("value: a command needs command_id, wall_millis and a write");
  }
  if ((command.has_create_silence() || command.has_expire_silence()) && p != 0) {
    return absl::InvalidArgumentError("value: silences are commands to partition 0");
  }
  if (command.has_create_silence() && (command.create_silence().id().rfind("sil_", 0) != 0 ||
                                       !command.create_silence().has_end_time())) {
    return absl::InvalidArgumentError("value: a silence needs its id and end_time");
  }
  tx.SetTask(p);
  Outcome outcome = Run(tx, command);
  if (!IsAnswer(outcome.status)) return outcome.status;
  kam::internal::v1::AlertCommandResult result;
  result.set_command_id(command.command_id());
  result.set_wall_millis(command.wall_millis());
  result.set_code(static_cast<int32_t>(outcome.status.code()));
  result.set_message(std::string(outcome.status.message()));
  if (!outcome.status.ok()) {
    result.set_rich_status(errors::ToRpcStatus(outcome.status).SerializeAsString());
  }
  if (outcome.alert) *result.mutable_alert() = std::move(*outcome.alert);
  if (outcome.silence) *result.mutable_silence() = std::move(*outcome.silence);
  return tx.Put(kCommandResultsCf, ResultKey(p, command.wall_millis(), command.command_id()),
                result.SerializeAsString());
}

absl::Status ExpireCommandResults(AlertTx& tx, int32_t p, int64_t wall_millis) {
  const int64_t before = wall_millis - kCommandResultKeepMillis;
  if (before <= 0) return absl::OkStatus();
  std::vector<std::string> expired;
  {
    auto it = tx.NewBoundedIterator(kCommandResultsCf,
                                    Partition(p) + EncodeUint64(static_cast<uint64_t>(before)));
    for (it->Seek(Partition(p)); it->Valid(); it->Next()) expired.push_back(it->key().ToString());
    KAM_RETURN_IF_ERROR(FromRocks(it->status(), "scan command results"));
  }
  for (const auto& key : expired) KAM_RETURN_IF_ERROR(tx.Delete(kCommandResultsCf, key));
  return absl::OkStatus();
}

}  // namespace kam::alerts
