#pragma once

// Publishes outbox rows to Kafka exactly once, across crashes, without Kafka transactions.
//
// Every record carries the headers kam-producer (the service) and kam-seq (the outbox sequence).
// Rows are published in sequence order with an idempotent producer, so within one partition the
// sequences this producer wrote only grow. At start (and after any publish error) the relay reads
// the tail of each partition it writes to and learns the highest sequence already there; a pending
// row at or below it was published before the crash and is deleted without sending it again.
// Why not Kafka transactions: a transaction cannot include the RocksDB delete of the row, so a
// crash between commit and delete would still resend; the tail read is needed either way.

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/outbox.h"
#include "common/status.h"

namespace kam {

struct PublishRecord {
  uint64_t sequence = 0;
  std::string topic;
  int32_t partition = 0;
  std::string key;
  std::string value;
  std::string event_id;
  std::string traceparent;
};

// What the relay needs from Kafka; implemented over librdkafka in common/kafka, and by an in-memory
// log in tests.
class EventPublisher {
 public:
  virtual ~EventPublisher() = default;
  // The partition `key` belongs to in `topic` (Kafka's murmur2 partitioner).
  virtual absl::StatusOr<int32_t> PartitionFor(const std::string& topic, std::string_view key) = 0;
  // For every partition of `topic`, the highest kam-seq this producer wrote there (0 for none).
  virtual absl::StatusOr<std::map<int32_t, uint64_t>> PublishedSequences(
      const std::string& topic) = 0;
  // Sends `records` in order and waits for every delivery report. `delivered[i]` tells whether
  // record i was acknowledged. An error status means at least one was not.
  virtual absl::Status Publish(const std::vector<PublishRecord>& records,
                               std::vector<bool>* delivered) = 0;
};

struct RelayOptions {
  size_t batch_size = 1000;
  // Topics this service writes; their tails are read before the first publish.
  std::vector<std::string> topics;
};

class OutboxRelay {
 public:
  OutboxRelay(Outbox* outbox, EventPublisher* publisher, RelayOptions options);

  // Learns what every written topic already holds. Must succeed before RunOnce publishes.
  absl::Status Sync();
  // Publishes (or skips, when already published) up to batch_size pending rows and deletes them.
  // Returns how many rows left the outbox.
  absl::StatusOr<size_t> RunOnce();
  // Loops until `stop` is set: publishes, waits for new commits, and on errors backs off and
  // syncs again. Returns when stopped.
  void Run(const std::atomic<bool>& stop);

  uint64_t published_total() const { return published_total_.load(); }
  uint64_t skipped_total() const { return skipped_total_.load(); }
  uint64_t errors_total() const { return errors_total_.load(); }

 private:
  absl::Status SyncTopic(const std::string& topic);

  Outbox* outbox_;
  EventPublisher* publisher_;
  RelayOptions options_;
  bool synced_ = false;
  // topic -> partition -> highest sequence known to be in Kafka.
  std::map<std::string, std::map<int32_t, uint64_t>> published_;
  std::atomic<uint64_t> published_total_{0};
  std::atomic<uint64_t> skipped_total_{0};
  std::atomic<uint64_t> errors_total_{0};
};

}  // namespace kam
