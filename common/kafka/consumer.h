#pragma once

// A consumer-group member whose positions come from the service's RocksDB, not from Kafka's
// committed offsets: on every assignment it seeks each partition to the offset stored with the
// state (RecordApplier writes both in one batch). Kafka's group protocol only spreads partitions.

#include <atomic>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/consumer_offsets.h"
#include "common/kafka/kafka_common.h"

namespace kam::kafka {

class KafkaConsumer {
 public:
  // Receives a group of records (consumption order, at most the group limit) to apply as one.
  using Handler = std::function<absl::Status(const std::vector<ConsumedRecord>&)>;
  // Records handed over at once: bounds a commit's size and the memory a group holds.
  static constexpr size_t kMaxGroup = 1000;

  static absl::StatusOr<std::unique_ptr<KafkaConsumer>> Create(const KafkaOptions& options,
                                                               std::string group_id,
                                                               std::vector<std::string> topics,
                                                               const Store* store);
  ~KafkaConsumer();

  // Polls and hands the records to `handler` until `stop` is set: whatever has arrived, up to
  // kMaxGroup, as one group (so a busy consumer commits seldom and an idle one at once). A handler
  // error is a storage failure: the consumer seeks back to the offsets in the store (a prefix of
  // the group may have been committed) and retries after a pause.
  // `on_idle` (optional) runs about once a second, whether or not records arrived.
  void Run(const std::atomic<bool>& stop, const Handler& handler,
           const std::function<void()>& on_idle = {});

  // Waits up to timeout_ms for a record, then hands it with whatever else has arrived (at most
  // max_records) to `handler`. Returns the number of records handled (0: none arrived).
  absl::StatusOr<size_t> PollGroup(int timeout_ms, size_t max_records, const Handler& handler);

  // Partitions currently assigned to this member.
  std::vector<std::pair<std::string, int32_t>> Assignment() const;

 private:
  KafkaConsumer(const Store* store) : store_(store) {}
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque);
  absl::Status AssignFromStore(rd_kafka_topic_partition_list_t* partitions);
  // Seeks every partition in `records` back to the offset stored with the state.
  void RewindToStore(const std::vector<ConsumedRecord>& records);

  const Store* store_;
  HandlePtr consumer_;
  // Bumped by every rebalance; a group collected across one is dropped and read again.
  uint64_t assignment_generation_ = 0;
};

}  // namespace kam::kafka
