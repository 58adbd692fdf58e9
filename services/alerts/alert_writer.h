#pragma once

// The writes of AlertsService on any instance: acknowledge, snooze, create and expire silences.
// Each travels as an AlertCommand to the task that owns what it changes (the commands topic,
// partition = task; task 0 for silences); whichever instance runs the task applies it in its
// transaction; its result comes back through the changelog into this instance's view, where the
// call waits for it (alert_commands.h). No instance needs to know where another one listens, and
// a rebalance in between only delays the answer.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "kam/internal/v1/commands.pb.h"
#include "kam/v1/alerts.pb.h"
#include "services/alerts/alerts_view.h"
#include "services/alerts/silences.h"

namespace kam::alerts {

class AlertWriter {
 public:
  // Produces one command record to partition `task` of the commands topic and returns once Kafka
  // has it (acks=all).
  using Send =
      std::function<absl::Status(int32_t task, const std::string& key, const std::string& value)>;

  AlertWriter(AlertsView* view, const SilenceBook* silences, Send send,
              std::function<int64_t()> wall_clock, std::chrono::milliseconds wait)
      : view_(view),
        silences_(silences),
        send_(std::move(send)),
        wall_clock_(std::move(wall_clock)),
        wait_(wait) {}

  // The changed alert, or the owner's answer (NOT_FOUND, ABORTED, FAILED_PRECONDITION);
  // UNAVAILABLE when no answer came within the wait (the command stays queued for the task).
  absl::StatusOr<kam::v1::Alert> Acknowledge(const kam::v1::AcknowledgeAlertRequest& request);
  absl::StatusOr<kam::v1::Alert> Snooze(const kam::v1::SnoozeAlertRequest& request);
  absl::StatusOr<kam::v1::Silence> CreateSilence(const kam::v1::CreateSilenceRequest& request);
  absl::StatusOr<kam::v1::Silence> ExpireSilence(const kam::v1::ExpireSilenceRequest& request);
  kam::v1::ListSilencesResponse ListSilences(const kam::v1::ListSilencesRequest& request) const;

 private:
  // Sends `command` to `task` and waits for its result; `what` names it in errors.
  absl::StatusOr<kam::internal::v1::AlertCommandResult> Run(int32_t task, const std::string& key,
                                                            kam::internal::v1::AlertCommand command,
                                                            const std::string& what);
  // An alert command: the task of alert `id` from the view, then Run; read-your-writes after.
  absl::StatusOr<kam::v1::Alert> RunOnAlert(const std::string& id,
                                            kam::internal::v1::AlertCommand command,
                                            const std::string& what);
  // A silence command (task 0), answered once this instance's book has its outcome.
  absl::StatusOr<kam::v1::Silence> RunOnSilence(const std::string& id,
                                                kam::internal::v1::AlertCommand command,
                                                const std::string& what);

  AlertsView* view_;
  const SilenceBook* silences_;
  Send send_;
  std::function<int64_t()> wall_clock_;
  std::chrono::milliseconds wait_;
};

}  // namespace kam::alerts
