#pragma once

// One transaction of the alerts engine: a batch of input records, a punctuation, or an
// acknowledgement, committed together. It caches the state it touches (read once, changed in
// memory, written once by Flush), moves alerts through their lifecycle and publishes each change
// (a CloudEvent for kam.alerts.v1 and an entry of its task's change log, numbered per task, which
// the changelog carries to every instance's view behind WatchAlerts). Timers and
// held-back records go straight to the batch, whose reads see them.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bounded_iterator.h"
#include "common/outbox.h"
#include "common/staged_batch.h"
#include "common/status.h"
#include "kam/internal/v1/storage.pb.h"
#include "kam/v1/alerts.pb.h"
#include "services/alerts/engine_options.h"
#include "services/alerts/rules.h"
#include "services/alerts/timer_key.h"

namespace kam::alerts {

class AlertTx {
 public:
  // `options` (rules, global tables) outlive the transaction; nullptr: built-in rules, nothing
  // silenced or grouped.
  AlertTx(StagedBatch* batch, std::vector<OutboundEvent>* events,
          const EngineOptions* options = nullptr)
      : batch_(batch), events_(events), options_(options) {}

  // The task (partition number) whose alerts the following calls read and write: alerts belong
  // to the task of their subject, so a task's alerts move with its partition.
  void SetTask(int32_t p) { task_ = p; }
  int32_t task() const { return task_; }

  // The state of account / manager `id` on partition p (empty state when new).
  absl::StatusOr<kam::internal::v1::AlertAccountState*> Account(int32_t p, const std::string& id);
  absl::StatusOr<kam::internal::v1::AlertManagerState*> Manager(int32_t p, const std::string& id);
  // The KPI facts of account `id` on partition p, to change (written by Flush).
  absl::StatusOr<kam::internal::v1::AccountKpiState*> Kpis(int32_t p, const std::string& id);

  // Partition p's event-time clock, and moving it forward.
  absl::StatusOr<int64_t> Clock(int32_t p);
  absl::Status Advance(int32_t p, int64_t at);

  // Stores a timer; FireDueTimers fires it, at its due time, once event time passes it.
  absl::Status Schedule(const TimerKey& timer);
  // Partition p's timers due at or before this time were all fired in this transaction (and
  // none was scheduled at or before it since): a scan up to it would find nothing.
  std::map<int32_t, int64_t>& scanned_upto() { return scanned_upto_; }

  // FingerprintOf, remembered: a record asks for the same few fingerprints several times.
  const std::string& FingerprintFor(kam::v1::AlertRule rule, const std::string& subject);
  // The latest instance of `fingerprint`, as this transaction left it.
  absl::StatusOr<std::optional<kam::v1::Alert>> Latest(const std::string& fingerprint);
  // The alert with `id` in the current task, as this transaction left it.
  absl::StatusOr<std::optional<kam::v1::Alert>> FindAlert(const std::string& id);
  // Whether the latest instance of rule/subject is open.
  absl::StatusOr<bool> IsFiring(kam::v1::AlertRule rule, const std::string& subject);

  // Moves the alert of rule/subject to what `desired` says, publishing each state change. A
  // damped rule's verdict first waits out its pending or hold time (damping.h).
  absl::Status Transition(kam::v1::AlertRule rule, const std::string& subject,
                          const std::string& account_id, const std::string& manager_id,
                          const Desired& desired, int64_t at_millis);
  // Stores `alert` as its fingerprint's latest instance, and publishes `kind` when set, with
  // what notifiers need to know (silences, group, suppression) decided as of the change.
  absl::Status Stage(kam::v1::Alert alert, kam::v1::AlertChangeKind kind);

  const RulesConfig& rules() const;

  absl::Status Put(std::string_view cf, const std::string& key, const std::string& value) {
    return batch_->Put(cf, key, value);
  }
  absl::Status Delete(std::string_view cf, const std::string& key) {
    return batch_->Delete(cf, key);
  }
  // The store as this transaction left it so far. No writes while the iterator lives.
  std::unique_ptr<rocksdb::Iterator> NewIterator(std::string_view cf) {
    return batch_->NewIterator(cf);
  }
  // The same over the keys that start with `prefix` only: stops at its end, never walking the
  // deleted keys beyond it.
  std::unique_ptr<rocksdb::Iterator> NewPrefixIterator(std::string_view cf,
                                                       const std::string& prefix) {
    return batch_->NewIterator(cf, PrefixEnd(prefix));
  }
  // The same over the keys below `upper_bound`.
  std::unique_ptr<rocksdb::Iterator> NewBoundedIterator(std::string_view cf,
                                                        std::string upper_bound) {
    return batch_->NewIterator(cf, std::move(upper_bound));
  }
  // The batch itself, for state kept outside the transaction's caches (damping, silences).
  StagedBatch& batch() { return *batch_; }
  void Emit(OutboundEvent event) { events_->push_back(std::move(event)); }
  void CountParked() { ++parked_; }
  uint64_t parked() const { return parked_; }

  // Writes out the state kept in memory; once, at the end of the transaction.
  absl::Status Flush();

  // An alert change this transaction published, with its task and the trace of the record (or
  // call) that caused it.
  struct PublishedChange {
    int32_t task = 0;
    kam::v1::AlertChange change;
    std::string traceparent;
  };
  size_t published() const { return changes_.size(); }
  const std::vector<PublishedChange>& changes() const { return changes_; }

 private:
  void Publish(kam::v1::AlertChangeKind kind, const kam::v1::Alert& alert);
  // Sets silenced_by, group_alert_id and notification_suppressed for a published change.
  absl::Status Annotate(kam::v1::Alert& alert);

  // The latest instance of `fingerprint` without a copy; null when none. Valid until the next
  // change staged in this transaction.
  absl::StatusOr<const kam::v1::Alert*> LatestRef(const std::string& fingerprint);

  StagedBatch* batch_;
  std::vector<OutboundEvent>* events_;
  const EngineOptions* options_;
  int32_t task_ = 0;
  std::map<std::string, kam::internal::v1::AlertAccountState> accounts_;
  std::map<std::string, kam::internal::v1::AlertManagerState> managers_;
  std::map<std::string, kam::internal::v1::AccountKpiState> kpis_;
  std::map<int32_t, int64_t> clocks_;
  // Keyed like the store: task prefix + fingerprint / alert id.
  std::map<std::string, kam::v1::Alert> latest_;                      // staged, by fingerprint
  std::map<std::string, kam::v1::Alert> staged_alerts_;               // staged, by alert id
  std::map<std::string, std::optional<kam::v1::Alert>> latest_read_;  // read from the store
  // Published changes, in order; Flush numbers them per task.
  std::vector<PublishedChange> changes_;
  std::map<int32_t, int64_t> scanned_upto_;
  std::map<std::pair<int, std::string>, std::string> fingerprints_;
  uint64_t parked_ = 0;
};

}  // namespace kam::alerts
