#include "services/alerts/acknowledger.h"

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "kam/internal/v1/commands.pb.h"
#include "services/alerts/alert_commands.h"
#include "services/alerts/alert_store.h"

namespace kam::alerts {

absl::StatusOr<kam::v1::Alert> Acknowledger::Acknowledge(
    const kam::v1::AcknowledgeAlertRequest& request) {
  KAM_RETURN_IF_ERROR(CheckAcknowledgeRequest(request));
  auto known = view_->Find(request.id());
  if (!known) return NoSuchAlert(request.id());
  const int32_t task = known->first;
  kam::internal::v1::AlertCommand command;
  command.set_command_id(NewUuid());
  command.set_wall_millis(wall_clock_());
  *command.mutable_acknowledge() = request;
  KAM_RETURN_IF_ERROR(send_(task, request.id(), command.SerializeAsString()));
  auto result = view_->AwaitResult(command.command_id(), wait_);
  if (!result) {
    return absl::UnavailableError(absl::StrCat(
        "acknowledgement of \"", request.id(), "\" is queued for task ", task,
        " but no instance applied it within ", wait_.count(),
        " ms (a rebalance, or no instance runs the task); it will be applied when one does: "
        "read the alert, or retry with its etag"));
  }
  if (result->code() != 0) {
    return absl::Status(static_cast<absl::StatusCode>(result->code()), result->message());
  }
  // Read your writes: a GetAlert on this instance right after sees the acknowledgement.
  view_->AwaitEtag(result->alert().id(), result->alert().etag(), wait_);
  return result->alert();
}

}  // namespace kam::alerts
