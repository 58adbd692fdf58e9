#pragma once

// What every kam-alerts instance knows of all alerts of its application, whichever instance runs
// their tasks: the alerts table and the change log behind WatchAlerts, built from the tasks'
// changelog (Kafka Streams' global table). It is fed the changelog records of the `alerts`,
// `changes` and `command_results` column families (common/kafka/changelog_follower.h), answers
// ListAlerts, GetAlert and WatchAlerts on any instance, and hands acknowledgements their result.
//
// Order: the changes of one task arrive in the order the task made them, so every alert's (and
// every account's) changes stream in order; changes of different tasks interleave as they arrive.
// A resume token names, per task, the last change delivered ("v1:0=17,2=5"): every instance can
// continue from it, since task sequences are part of the tasks' state.
//
// Logic only: no gRPC, no librdkafka.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
#include "common/page_token.h"
#include "common/status.h"
#include "kam/internal/v1/commands.pb.h"
#include "kam/v1/alerts.pb.h"

namespace kam::alerts {

class AlertsView {
 public:
  // Keeps the newest `change_history` changes for WatchAlerts.
  AlertsView(PageTokens tokens, size_t change_history);

  // One changelog record of task `task`: key "<column family>\0<store key>", no value when the
  // key was deleted. Records of other column families are ignored.
  void Apply(int32_t task, std::string_view key, std::optional<std::string_view> value);

  absl::StatusOr<kam::v1::ListAlertsResponse> List(const kam::v1::ListAlertsRequest& request) const;
  absl::StatusOr<kam::v1::Alert> Get(const kam::v1::GetAlertRequest& request) const;
  // Waits up to `timeout` until the view holds alert `id` at `etag` (or a later change of it);
  // false when it did not arrive in time.
  bool AwaitEtag(const std::string& id, const std::string& etag,
                 std::chrono::milliseconds timeout) const;
  // Waits up to `timeout` for the result of command `command_id` (alert_commands.h) to arrive.
  std::optional<kam::internal::v1::AlertCommandResult> AwaitResult(
      const std::string& command_id, std::chrono::milliseconds timeout) const;
  // The alert with `id` and its task, when known.
  std::optional<std::pair<int32_t, kam::v1::Alert>> Find(const std::string& id) const;
  // Id of the open instance of `fingerprint` if it notifies (not snoozed, silenced or quietly
  // grouped); empty otherwise.
  std::string OpenAlertId(const std::string& fingerprint) const;

  // A reader's place in the change log: where to read next, and per task the last change it has.
  struct Cursor {
    uint64_t position = 0;
    std::map<int32_t, uint64_t> delivered;
  };
  // The cursor just after `resume_token` (empty: the oldest change kept). INVALID_ARGUMENT for a
  // token this service did not issue, FAILED_PRECONDITION when changes after it are no longer kept.
  absl::StatusOr<Cursor> After(const std::string& resume_token) const;
  // The cursor after the newest change (live_only).
  Cursor Latest() const;
  // Up to `limit` changes after `cursor`, moving it on; each change's resume_token continues after
  // it. FAILED_PRECONDITION when the reader fell so far behind that changes were dropped.
  absl::StatusOr<std::vector<kam::v1::AlertChange>> Read(Cursor* cursor, size_t limit) const;

  // `notify` is called (from the feeding thread, without the view's lock) after changes arrived.
  int Subscribe(std::function<void()> notify);
  void Unsubscribe(int id);

  size_t alerts_count() const;
  uint64_t changes_total() const;

  static std::string EncodeToken(const std::map<int32_t, uint64_t>& delivered);

 private:
  struct Entry {
    int32_t task;
    uint64_t sequence;
    kam::v1::AlertChange change;
  };
  struct Known {
    int32_t task;
    kam::v1::Alert alert;
  };

  const PageTokens tokens_;
  const size_t change_history_;
  mutable Mutex mutex_;
  std::map<std::string, Known> alerts_ ABSL_GUARDED_BY(mutex_);
  // Open instances that notify, by fingerprint (a fingerprint has at most one open instance).
  std::map<std::string, std::string> open_by_fingerprint_ ABSL_GUARDED_BY(mutex_);
  // Command results by command id, while their task keeps them.
  std::map<std::string, kam::internal::v1::AlertCommandResult> results_ ABSL_GUARDED_BY(mutex_);
  std::deque<Entry> changes_ ABSL_GUARDED_BY(mutex_);
  // Position of changes_.front(); positions count every change this view ever held.
  uint64_t first_position_ ABSL_GUARDED_BY(mutex_) = 0;
  // Per task: the last sequence seen and the last one dropped from changes_.
  std::map<int32_t, uint64_t> last_sequence_ ABSL_GUARDED_BY(mutex_);
  std::map<int32_t, uint64_t> dropped_upto_ ABSL_GUARDED_BY(mutex_);

  mutable Mutex watchers_mutex_;
  std::map<int, std::function<void()>> watchers_ ABSL_GUARDED_BY(watchers_mutex_);
  int next_watcher_ ABSL_GUARDED_BY(watchers_mutex_) = 0;
};

}  // namespace kam::alerts
