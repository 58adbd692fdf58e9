#include "services/alerts/alert_writer.h"

#include "absl/strings/str_cat.h"
#include "common/error_details.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "services/alerts/alert_commands.h"
#include "services/alerts/alert_store.h"

namespace kam::alerts {

using kam::internal::v1::AlertCommand;
using kam::internal::v1::AlertCommandResult;

absl::StatusOr<AlertCommandResult> AlertWriter::Run(int32_t task, const std::string& key,
                                                    AlertCommand command, const std::string& what) {
  command.set_command_id(NewUuid());
  KAM_RETURN_IF_ERROR(send_(task, key, command.SerializeAsString()));
  auto result = view_->AwaitResult(command.command_id(), wait_);
  if (!result) {
    return absl::UnavailableError(absl::StrCat(
        what, " is queued for task ", task, " but no instance applied it within ", wait_.count(),
        " ms (a rebalance, or no instance runs the task); it will be applied when one does: "
        "read it back before retrying"));
  }
  if (result->code() != 0) {
    google::rpc::Status rich;
    if (!result->rich_status().empty() && rich.ParseFromString(result->rich_status()) &&
        rich.code() == result->code()) {
      return errors::FromRpcStatus(rich);
    }
    return absl::Status(static_cast<absl::StatusCode>(result->code()), result->message());
  }
  return *result;
}

absl::StatusOr<kam::v1::Alert> AlertWriter::RunOnAlert(const std::string& id, AlertCommand command,
                                                       const std::string& what) {
  auto known = view_->Find(id);
  if (!known) return NoSuchAlert(id);
  KAM_ASSIGN_OR_RETURN(AlertCommandResult result, Run(known->first, id, std::move(command),
                                                      absl::StrCat(what, " of \"", id, "\"")));
  // Read your writes: a GetAlert on this instance right after sees the change.
  view_->AwaitEtag(result.alert().id(), result.alert().etag(), wait_);
  return result.alert();
}

absl::StatusOr<kam::v1::Silence> AlertWriter::RunOnSilence(const std::string& id,
                                                           AlertCommand command,
                                                           const std::string& what) {
  KAM_ASSIGN_OR_RETURN(AlertCommandResult result, Run(0, id, std::move(command), what));
  // Read your writes: the result and the silence travel in one changelog transaction, so the
  // book has the silence now or within moments; ListSilences right after shows it.
  silences_->AwaitStored(result.silence(), wait_);
  return result.silence();
}

absl::StatusOr<kam::v1::Alert> AlertWriter::Acknowledge(
    const kam::v1::AcknowledgeAlertRequest& request) {
  KAM_RETURN_IF_ERROR(CheckAcknowledgeRequest(request));
  AlertCommand command;
  command.set_wall_millis(wall_clock_());
  *command.mutable_acknowledge() = request;
  return RunOnAlert(request.id(), std::move(command), "acknowledgement");
}

absl::StatusOr<kam::v1::Alert> AlertWriter::Snooze(const kam::v1::SnoozeAlertRequest& request) {
  AlertCommand command;
  command.set_wall_millis(wall_clock_());
  KAM_RETURN_IF_ERROR(CheckSnoozeRequest(request, command.wall_millis()));
  *command.mutable_snooze() = request;
  return RunOnAlert(request.id(), std::move(command), "snooze");
}

absl::StatusOr<kam::v1::Silence> AlertWriter::CreateSilence(
    const kam::v1::CreateSilenceRequest& request) {
  AlertCommand command;
  command.set_wall_millis(wall_clock_());
  KAM_ASSIGN_OR_RETURN(kam::v1::Silence silence, NewSilence(request, command.wall_millis()));
  const std::string id = silence.id();
  *command.mutable_create_silence() = std::move(silence);
  return RunOnSilence(id, std::move(command), absl::StrCat("silence ", id));
}

absl::StatusOr<kam::v1::Silence> AlertWriter::ExpireSilence(
    const kam::v1::ExpireSilenceRequest& request) {
  if (request.id().empty()) return absl::InvalidArgumentError("id: required");
  AlertCommand command;
  command.set_wall_millis(wall_clock_());
  *command.mutable_expire_silence() = request;
  return RunOnSilence(request.id(), std::move(command),
                      absl::StrCat("expiry of silence ", request.id()));
}

kam::v1::ListSilencesResponse AlertWriter::ListSilences(
    const kam::v1::ListSilencesRequest& request) const {
  return silences_->List(request, wall_clock_());
}

}  // namespace kam::alerts
