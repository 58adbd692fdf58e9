#pragma once

// Flap damping: a damped rule's verdict acts only once it has held for the rule's pending time
// (to open) or hold time (to resolve), in event time, like Prometheus' `for` and
// `keep_firing_for`. A waiting verdict is task state (column family `damping`, one record per
// fingerprint, changelogged with the task) with a timer at the end of its wait; a newer verdict
// in the same direction replaces what will be applied but not when, one in the other direction
// deletes it. So a condition that comes and goes inside those times publishes nothing.

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "kam/internal/v1/storage.pb.h"
#include "kam/v1/alerts.pb.h"
#include "services/alerts/alert_tx.h"
#include "services/alerts/rules.h"

namespace kam::alerts {

struct DampedSubject {
  kam::v1::AlertRule rule = kam::v1::ALERT_RULE_UNSPECIFIED;
  std::string subject;
  std::string account_id;
  std::string manager_id;
};

// Whether `desired` must wait instead of acting now on an alert that is `open` (or not): true
// when it was stored to wait out the rule's damping (and its timer scheduled). Clears a waiting
// verdict that no longer applies.
absl::StatusOr<bool> WaitsOutDamping(AlertTx& tx, const DampedSubject& subject,
                                     const std::string& fingerprint, const Desired& desired,
                                     bool open, int64_t at_millis);

// Applies the verdict of `fingerprint` whose wait ended before `at_millis`, if one is waiting
// (as of the end of its wait); a no-op for an undamped rule.
absl::Status ApplyOverdueVerdict(AlertTx& tx, kam::v1::AlertRule rule,
                                 const std::string& fingerprint, int64_t at_millis);

// The verdict of `fingerprint` waiting on the transaction's task, if any.
absl::StatusOr<std::optional<kam::internal::v1::AlertDamping>> WaitingVerdict(
    AlertTx& tx, const std::string& fingerprint);

// Its damping timer fell due at `due_millis`: applies the waiting verdict if its wait is over (a
// later verdict may have restarted it). For rules judged on state that changes without a verdict
// of their own (the manager's), the caller judges them again instead.
absl::Status ApplyWaitingVerdict(AlertTx& tx, const kam::internal::v1::AlertDamping& waiting,
                                 int64_t due_millis);

}  // namespace kam::alerts
