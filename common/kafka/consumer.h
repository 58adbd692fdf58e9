#pragma once

// A consumer-group member whose positions come from the service's RocksDB, not from Kafka's
// committed offsets: on every assignment it seeks each partition to the offset stored with the
// state (RecordApplier writes both in one batch). Kafka's group protocol only spreads partitions.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "common/consumer_offsets.h"
#include "common/kafka/kafka_common.h"

namespace kam::kafka {

class KafkaConsumer {
 public:
  using Handler = std::function<absl::Status(const ConsumedRecord&)>;

  static absl::StatusOr<std::unique_ptr<KafkaConsumer>> Create(const KafkaOptions& options,
                                                               std::string group_id,
                                                               std::vector<std::string> topics,
                                                               const Store* store);
  ~KafkaConsumer();

  // Polls and hands each record to `handler` until `stop` is set. A handler error is a storage
  // failure: the consumer seeks back to that record and retries after a pause.
  // `on_idle` (optional) runs about once a second, whether or not records arrived.
  void Run(const std::atomic<bool>& stop, const Handler& handler,
           const std::function<void()>& on_idle = {});

  // Polls once (up to timeout_ms) and handles at most one record; for tests. Returns true when a
  // record was handled.
  absl::StatusOr<bool> PollOnce(int timeout_ms, const Handler& handler);

  // Partitions currently assigned to this member.
  std::vector<std::pair<std::string, int32_t>> Assignment() const;

 private:
  KafkaConsumer(const Store* store) : store_(store) {}
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque);
  absl::Status AssignFromStore(rd_kafka_topic_partition_list_t* partitions);

  const Store* store_;
  HandlePtr consumer_;
};

}  // namespace kam::kafka
