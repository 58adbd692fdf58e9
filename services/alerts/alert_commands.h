#pragma once

// Writes to alerts, applied inside the transaction of the task that owns the alert. An API call
// taken by any instance becomes an AlertCommand on `<group>.commands.v1` (partition = the alert's
// task); the instance running the task applies it like any input record -- exactly once, fenced,
// changelogged -- and stores its result, which reaches the calling instance's view through the
// changelog (alerts_view.h, acknowledger.h).

#include <cstdint>
#include <string>

#include "common/consumer_offsets.h"
#include "kam/v1/alerts.pb.h"
#include "services/alerts/alert_tx.h"

namespace kam::alerts {

// How long a command's result stays in the task's state for its caller to read.
inline constexpr int64_t kCommandResultKeepMillis = 10 * 60 * 1000;

// INVALID_ARGUMENT naming the field when an acknowledgement is malformed.
absl::Status CheckAcknowledgeRequest(const kam::v1::AcknowledgeAlertRequest& request);

// Acknowledges alert request.id of the transaction's current task: NOT_FOUND, ABORTED (stale
// etag), FAILED_PRECONDITION (resolved) as the API documents; an acknowledged alert is returned
// unchanged. Stages the change; the caller commits.
absl::StatusOr<kam::v1::Alert> AcknowledgeInTx(AlertTx& tx,
                                               const kam::v1::AcknowledgeAlertRequest& request,
                                               int64_t wall_millis);

// A record of the commands topic: applies the command to task `p` and stores its result. An
// unreadable record is an input error (dead-lettered); a refused acknowledgement is a result, not
// an error; a storage error aborts the batch.
absl::Status OnCommand(AlertTx& tx, int32_t p, const ConsumedRecord& record);

// Deletes task p's command results older than kCommandResultKeepMillis.
absl::Status ExpireCommandResults(AlertTx& tx, int32_t p, int64_t wall_millis);

}  // namespace kam::alerts
