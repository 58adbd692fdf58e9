#pragma once

// AcknowledgeAlert on any instance. The acknowledgement travels as an AlertCommand to the task
// that owns the alert (the commands topic, partition = task); whichever instance runs the task
// applies it in its transaction; its result comes back through the changelog into this
// instance's view, where the call waits for it (alert_commands.h). No instance needs to know
// where another one listens, and a rebalance in between only delays the answer.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "kam/v1/alerts.pb.h"
#include "services/alerts/alerts_view.h"

namespace kam::alerts {

class Acknowledger {
 public:
  // Produces one command record to partition `task` of the commands topic and returns once Kafka
  // has it (acks=all).
  using Send =
      std::function<absl::Status(int32_t task, const std::string& key, const std::string& value)>;

  Acknowledger(AlertsView* view, Send send, std::function<int64_t()> wall_clock,
               std::chrono::milliseconds wait)
      : view_(view), send_(std::move(send)), wall_clock_(std::move(wall_clock)), wait_(wait) {}

  // The acknowledged alert, or the owner's answer (NOT_FOUND, ABORTED, FAILED_PRECONDITION);
  // UNAVAILABLE when no answer came within the wait (the command stays queued for the task).
  absl::StatusOr<kam::v1::Alert> Acknowledge(const kam::v1::AcknowledgeAlertRequest& request);

 private:
  AlertsView* view_;
  Send send_;
  std::function<int64_t()> wall_clock_;
  std::chrono::milliseconds wait_;
};

}  // namespace kam::alerts
