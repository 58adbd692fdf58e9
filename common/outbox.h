#pragma once

// The transactional outbox. A service never talks to Kafka when it accepts a write: it commits its
// state change and the events to publish in ONE RocksDB WriteBatch (Outbox::Commit). The relay
// (outbox_relay.h) later publishes the rows in sequence order and deletes each only after Kafka
// acknowledged it. A crash anywhere loses nothing: rows not yet acknowledged are still there.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "common/store.h"
#include "kam/internal/v1/storage.pb.h"
#include "kam/v1/events.pb.h"

namespace kam {

// One event to publish. Either `envelope` is set (its producer_sequence is filled in at commit),
// or `raw_value` carries an already-rendered value (e.g. a JSON CloudEvent).
struct OutboundEvent {
  std::string topic;
  std::string key;
  std::string event_id;
  std::optional<kam::v1::EventEnvelope> envelope;
  std::string raw_value;
  // W3C traceparent of the work that caused the event ("" for none).
  std::string traceparent;
};

class Outbox {
 public:
  // Loads the last used sequence number from the store.
  static absl::StatusOr<std::unique_ptr<Outbox>> Open(Store* store);

  // Writes `batch` plus one outbox row per event in one atomic RocksDB write. Commits are
  // serialized, so sequence order equals commit order: the relay relies on that to tell from a
  // partition's last sequence which rows already went out. `batch` may be empty (events only).
  absl::Status Commit(rocksdb::WriteBatchBase* batch, std::vector<OutboundEvent> events);

  // Ensures future sequences are above `sequence`. The relay calls this when Kafka already holds
  // higher sequences than the store knows (the store was wiped while the topic was kept).
  void AdvancePast(uint64_t sequence);

  uint64_t last_sequence() const;

  // Blocks until a commit with sequence > `after` happened or `timeout_ms` elapsed.
  void WaitForCommit(uint64_t after, int timeout_ms);

  // Reads up to `limit` pending rows in sequence order, starting after `after_sequence`.
  absl::StatusOr<std::vector<kam::internal::v1::OutboxRecord>> ReadPending(uint64_t after_sequence,
                                                                           size_t limit) const;
  // Deletes delivered rows in one write.
  absl::Status Delete(const std::vector<uint64_t>& sequences);
  // Number of rows still waiting for delivery (a scan: for metrics and tests, not hot paths).
  absl::StatusOr<uint64_t> CountPending() const;
  // Commit time (Unix ms) of the oldest row still waiting for delivery; nullopt when none waits
  // or the row predates commit times. One seek: for metrics.
  absl::StatusOr<std::optional<int64_t>> OldestPendingCommitMillis() const;

 private:
  explicit Outbox(Store* store) : store_(store) {}

  Store* store_;
  mutable Mutex mutex_;
  uint64_t last_sequence_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace kam
