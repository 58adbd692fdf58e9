#pragma once

// Writes to alerts, applied inside the transaction of the task that owns the alert. An API call
// taken by any instance becomes an AlertCommand on `<group>.commands.v1` (partition = the alert's
// task); the instance running the task applies it like any input record -- exactly once, fenced,
// changelogged -- and stores its result, which reaches the calling instance's view through the
// changelog (alerts_view.h, alert_writer.h).

#include <cstdint>
#include <string>

#include "common/consumer_offsets.h"
#include "kam/v1/alerts.pb.h"
#include "services/alerts/alert_tx.h"

namespace kam::alerts {

// How long a command's result stays in the task's state for its caller to read.
inline constexpr int64_t kCommandResultKeepMillis = 10 * 60 * 1000;
// The longest snooze.
inline constexpr int64_t kMaxSnoozeMillis = 90LL * 24 * 3600 * 1000;

// INVALID_ARGUMENT naming the field when an acknowledgement is malformed.
absl::Status CheckAcknowledgeRequest(const kam::v1::AcknowledgeAlertRequest& request);

// Acknowledges alert request.id of the transaction's current task: NOT_FOUND, ABORTED (stale
// etag), FAILED_PRECONDITION (resolved) as the API documents; an acknowledged alert is returned
// unchanged. Stages the change; the caller commits.
absl::StatusOr<kam::v1::Alert> AcknowledgeInTx(AlertTx& tx,
                                               const kam::v1::AcknowledgeAlertRequest& request,
                                               int64_t wall_millis);

// INVALID_ARGUMENT naming the field when a snooze is malformed or ends outside (now, now + 90 d].
absl::Status CheckSnoozeRequest(const kam::v1::SnoozeAlertRequest& request, int64_t now_millis);

// Snoozes alert request.id of the transaction's current task and schedules the snooze's end
// (errors as AcknowledgeInTx).
absl::StatusOr<kam::v1::Alert> SnoozeInTx(AlertTx& tx, const kam::v1::SnoozeAlertRequest& request,
                                          int64_t wall_millis);

// The snooze of alert `alert_id` ended at `due_millis` (a timer): the alert fires again if it is
// still snoozed until then (a later snooze, an acknowledgement or a resolution came first
// otherwise).
absl::Status EndSnooze(AlertTx& tx, const std::string& alert_id, int64_t due_millis);

// Stores `silence` (checked by NewSilence) in task 0, or returns the one stored under its id.
absl::StatusOr<kam::v1::Silence> CreateSilenceInTx(AlertTx& tx, const kam::v1::Silence& silence);
// Ends silence request.id at `wall_millis` (NOT_FOUND when unknown; an ended one is returned).
absl::StatusOr<kam::v1::Silence> ExpireSilenceInTx(AlertTx& tx,
                                                   const kam::v1::ExpireSilenceRequest& request,
                                                   int64_t wall_millis);
// Deletes the silences that ended more than kKeepEndedSilenceMillis ago (task 0 only).
absl::Status DropEndedSilences(AlertTx& tx, int32_t p, int64_t wall_millis);

// A record of the commands topic: applies the command to task `p` and stores its result. An
// unreadable record is an input error (dead-lettered); a refused acknowledgement is a result, not
// an error; a storage error aborts the batch.
absl::Status OnCommand(AlertTx& tx, int32_t p, const ConsumedRecord& record);

// Deletes task p's command results older than kCommandResultKeepMillis.
absl::Status ExpireCommandResults(AlertTx& tx, int32_t p, int64_t wall_millis);

}  // namespace kam::alerts
