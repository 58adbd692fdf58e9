#include "services/alerts/alert_commands.h"

#include "absl/strings/str_cat.h"
#include "kam/internal/v1/commands.pb.h"
#include "services/alerts/alert_store.h"
#include "services/alerts/lifecycle.h"

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
  if (request.id().empty()) return absl::InvalidArgumentError("id: required");
  if (request.acknowledged_by().empty()) {
    return absl::InvalidArgumentError("acknowledged_by: required; say who takes care of it");
  }
  if (request.acknowledged_by().size() > 200) {
    return absl::InvalidArgumentError("acknowledged_by: at most 200 characters");
  }
  return absl::OkStatus();
}

absl::StatusOr<kam::v1::Alert> AcknowledgeInTx(AlertTx& tx,
                                               const kam::v1::AcknowledgeAlertRequest& request,
                                               int64_t wall_millis) {
  KAM_RETURN_IF_ERROR(CheckAcknowledgeRequest(request));
  KAM_ASSIGN_OR_RETURN(std::optional<kam::v1::Alert> alert, tx.FindAlert(request.id()));
  if (!alert) return NoSuchAlert(request.id());
  if (!request.etag().empty() && request.etag() != alert->etag()) {
    return absl::AbortedError(
        absl::StrCat("etag: the alert changed since it was read (etag ", alert->etag(), ")"));
  }
  if (alert->state() == kam::v1::ALERT_STATE_RESOLVED) {
    return absl::FailedPreconditionError(
        absl::StrCat("id: alert \"", request.id(), "\" is resolved"));
  }
  if (alert->state() == kam::v1::ALERT_STATE_ACKNOWLEDGED) return *alert;
  kam::v1::Alert acknowledged = Acknowledged(*alert, request.acknowledged_by(), wall_millis);
  tx.Stage(acknowledged, kam::v1::ALERT_CHANGE_KIND_ACKNOWLEDGED);
  return acknowledged;
}

absl::Status OnCommand(AlertTx& tx, int32_t p, const ConsumedRecord& record) {
  kam::internal::v1::AlertCommand command;
  if (!command.ParseFromString(record.value)) {
    return absl::InvalidArgumentError("value: not a kam.internal.v1.AlertCommand");
  }
  if (command.command_id().empty() || command.wall_millis() <= 0 || !command.has_acknowledge()) {
    return absl::InvalidArgumentError("value: a command needs command_id, wall_millis and a write");
  }
  tx.SetTask(p);
  absl::StatusOr<kam::v1::Alert> outcome =
      AcknowledgeInTx(tx, command.acknowledge(), command.wall_millis());
  if (!IsAnswer(outcome.status())) return outcome.status();
  kam::internal::v1::AlertCommandResult result;
  result.set_command_id(command.command_id());
  result.set_wall_millis(command.wall_millis());
  result.set_code(static_cast<int32_t>(outcome.status().code()));
  result.set_message(std::string(outcome.status().message()));
  if (outcome.ok()) *result.mutable_alert() = *outcome;
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
