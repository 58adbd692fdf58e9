#pragma once

// The alerts service's logic. As a RecordProcessor it consumes kam.accounts.v1, kam.managers.v1
// and kam.interactions.v1 into per-partition state, runs the rules on event time, and turns
// their verdicts into alert lifecycle changes (fire, change severity, resolve). API calls
// acknowledge, list, get and watch alerts. Every change is stored, appended to the change log and
// published as a CloudEvent through the outbox in the same WriteBatch as the state (and input
// offsets) that caused it, so each change is published once even across crashes.
//
// Time: each input partition has a clock, the highest interaction event time seen on it. Timers
// (RESPONSE_OVERDUE, NO_CONTACT) fire in event-time order, each as of its due time: before an
// interaction is applied, every timer that fell due before it happened fires first. So the alert
// history does not depend on which record happened to move the clock. While a partition is idle
// (no interaction for `idle_millis` of wall time) its clock follows the wall clock.
//
// Keys start with the input partition (4 bytes big-endian), so a partition's state can later be
// moved to another instance as one key range. kam.accounts.v1 and kam.interactions.v1 must have
// the same partition count (co-partitioned by account id).

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/batch_committer.h"
#include "common/mutex.h"
#include "common/outbox.h"
#include "common/page_token.h"
#include "common/record_applier.h"
#include "common/status.h"
#include "common/store.h"
#include "common/stream_task.h"
#include "kam/v1/alerts.pb.h"
#include "services/alerts/alert_tx.h"
#include "services/alerts/engine_options.h"
#include "services/alerts/rules.h"

namespace kam::alerts {

// NOT_FOUND for an alert id that is not in the tasks this instance runs.
absl::Status NoAlert(const std::string& id);

class AlertsEngine : public StreamProcessor {
 public:
  static std::vector<std::string> ColumnFamilies();
  // Commits through the outbox (one instance owns all state).
  static absl::StatusOr<std::unique_ptr<AlertsEngine>> Open(Store* store, Outbox* outbox,
                                                            EngineOptions options);
  // Commits acknowledgements through `committer` (the one the runtime uses for input batches).
  static absl::StatusOr<std::unique_ptr<AlertsEngine>> Open(Store* store, BatchCommitter* committer,
                                                            EngineOptions options);
  ~AlertsEngine() override;

  // StreamProcessor
  std::unique_ptr<UnitOfWork> Begin(StagedBatch* batch,
                                    std::vector<OutboundEvent>* events) override;
  void TaskRunning(int32_t task) override;
  void TaskClosed(int32_t task) override;

  // API
  absl::StatusOr<kam::v1::ListAlertsResponse> ListAlerts(
      const kam::v1::ListAlertsRequest& request) const;
  absl::StatusOr<kam::v1::Alert> GetAlert(const kam::v1::GetAlertRequest& request) const;
  absl::StatusOr<kam::v1::Alert> AcknowledgeAlert(const kam::v1::AcknowledgeAlertRequest& request);
  // Alert changes this instance published since it started.
  uint64_t changes_total() const { return changes_total_.load(); }
  // The same, by what changed: (rule, severity, change kind) -> count. Any thread.
  using ChangeKey = std::tuple<kam::v1::AlertRule, kam::v1::Severity, kam::v1::AlertChangeKind>;
  std::map<ChangeKey, uint64_t> changes_by_kind() const;
  uint64_t parked_total() const { return parked_total_.load(); }

  // The unit of work around an AlertTx: holds mutex_ for its life (defined in the .cc file).
  class Unit;

 private:
  AlertsEngine(Store* store, BatchCommitter* committer, EngineOptions options, PageTokens tokens);
  // Whether this instance runs task `p`: its alerts are answered here (another instance's, or a
  // task's that moved away, are not: what is left of them on this disk is stale).
  bool Runs(int32_t p) const;
  // The alert with `id` and the task (partition) it belongs to, among the tasks this instance runs.
  absl::StatusOr<std::optional<std::pair<int32_t, kam::v1::Alert>>> FindAlert(
      const std::string& id) const;

  absl::Status ApplyRecord(AlertTx& tx, const ConsumedRecord& record);
  absl::Status PunctuateTx(AlertTx& tx, int64_t wall_millis);
  // The durable state of a committed Tx becomes the engine's.
  void Committed(const AlertTx& tx);

  Store* store_;
  std::unique_ptr<BatchCommitter> owned_committer_;
  BatchCommitter* committer_;
  EngineOptions options_;
  PageTokens tokens_;

  // Serializes state changes (consumer thread and AcknowledgeAlert); held by every Unit.
  Mutex mutex_;
  std::atomic<uint64_t> changes_total_ = 0;
  mutable Mutex counts_mutex_;
  std::map<ChangeKey, uint64_t> changes_by_kind_ ABSL_GUARDED_BY(counts_mutex_);
  // Running task -> wall time of its last interaction record: idle clocks (consumer thread only).
  std::map<int32_t, int64_t> last_activity_wall_;
  std::atomic<uint64_t> parked_total_ = 0;

  mutable Mutex running_mutex_;
  std::set<int32_t> running_ ABSL_GUARDED_BY(running_mutex_);
};

}  // namespace kam::alerts
