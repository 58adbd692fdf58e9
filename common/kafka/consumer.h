#pragma once

// A consumer-group member whose positions come from the service's RocksDB, not from Kafka's
// committed offsets: on every assignment it seeks each partition to the offset stored with the
// state (RecordApplier writes both in one batch). Kafka's group protocol only spreads partitions.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "absl/base/thread_annotations.h"
#include "common/consumer_offsets.h"
#include "common/kafka/kafka_common.h"

namespace kam::kafka {

// How this member joins its group.
struct MembershipOptions {
  // group.instance.id: static membership. A member that restarts with the same id gets its
  // partitions back at once instead of after the session timeout. Empty: dynamic membership.
  std::string instance_id;
  // How long the coordinator waits for a silent member before moving its partitions away.
  int session_timeout_ms = 10000;
  // The gRPC address other instances reach this one at ("host:port"). Carried in the member's
  // client.id ("<service>@<address>"), where every instance finds it with the group's
  // description (GroupDirectory). Empty: not advertised.
  std::string advertised_address;
  std::string service_name = "kam";
};

// One rebalance callback, by partition number (a task spans every input topic's partition of
// that number): taken by the consumer thread between polls and acted on there, never inside the
// callback (which runs inside poll).
struct AssignmentChange {
  bool assigned = false;  // else revoked
  std::vector<int32_t> tasks;
  // KafkaConsumer::rebalances() right after this change.
  uint64_t generation = 0;
};

class KafkaConsumer {
 public:
  // Receives a group of records (consumption order, at most the group limit) to apply as one.
  using Handler = std::function<absl::Status(const std::vector<ConsumedRecord>&)>;
  // Records handed over at once: bounds a commit's size and the memory a group holds.
  static constexpr size_t kMaxGroup = 1000;

  static absl::StatusOr<std::unique_ptr<KafkaConsumer>> Create(const KafkaOptions& options,
                                                               std::string group_id,
                                                               std::vector<std::string> topics,
                                                               const Store* store,
                                                               MembershipOptions membership = {});
  ~KafkaConsumer();

  // Waits up to timeout_ms for a record, then hands it with whatever else has arrived (at most
  // max_records) to `handler`. Returns the number of records handled (0: none arrived).
  absl::StatusOr<size_t> PollGroup(int timeout_ms, size_t max_records, const Handler& handler);

  // Partitions currently assigned to this member.
  std::vector<std::pair<std::string, int32_t>> Assignment() const;

  // Moves the assigned partitions of task (partition number) `task` to the offsets stored with the
  // state -- after a restore changed them. Records the state already reflects are also skipped
  // by the applier, so a seek that cannot happen yet costs re-reading, never applying twice.
  void SeekToStored(int32_t task);

  // The next offset this consumer hands over from topic/partition: past everything returned by
  // poll, and past transaction markers and aborted records, which are never returned. nullopt
  // before anything was fetched.
  std::optional<int64_t> Position(const std::string& topic, int32_t partition);

  struct PartitionLag {
    std::string topic;
    int32_t partition = 0;
    int64_t records = 0;
  };
  // How far the state trails each assigned partition's end: the high watermark the last fetch
  // reported minus the next offset stored with the state (records polled but not applied, of a
  // task still restoring or a batch undone, count). A partition is left out until a fetch
  // reported its end. Transaction markers and records of open or aborted transactions count
  // too: a partition written in transactions reads at least 1 when caught up. Any thread.
  std::vector<PartitionLag> Lag() const;

  // Why the consumer failed fatally, once it did (it never consumes again after that). librdkafka
  // raises fatal consumer errors for static members only: fenced by a member with the same
  // group.instance.id -- in librdkafka 2.0.2 also by its own rejoin after a session timeout
  // (librdkafka issue #3437). Any thread.
  std::optional<std::string> FatalError() const;

  // The rebalances since the last call, in order (consumer thread).
  std::vector<AssignmentChange> TakeAssignmentChanges();

  // The end offset (high watermark) of topic/partition, asked of the broker. Blocking.
  absl::StatusOr<int64_t> EndOffset(const std::string& topic, int32_t partition, int timeout_ms);

  rd_kafka_t* handle() { return consumer_.get(); }

  // Counts rebalance callbacks (revocations and assignments); any thread.
  uint64_t rebalances() const { return assignment_generation_.load(); }
  // Held for the whole of every rebalance callback: a writer that takes it around a transaction
  // (TransactionalCommitter) finishes that transaction before the partitions it wrote for are
  // given up, and sees rebalances() change only between transactions. Set before the first poll;
  // null to detach.
  void SetRebalanceLock(Mutex* lock) { rebalance_lock_.store(lock); }

  // The group metadata (generation, member id) of the assignment this instance is working on, as
  // it was when the rebalance callback handed the assignment over; null while nothing is
  // assigned. Transactions send their offsets with it, never with the consumer's current
  // metadata: librdkafka rejoins the group on its own thread, so after a pause past the session
  // timeout the current metadata may already carry a newer generation while this thread still
  // works on records of the old assignment -- offsets sent with it would be accepted for
  // partitions another instance now owns. With the assignment's metadata they are refused
  // (stale generation) and the transaction aborts. Caller owns the copy; null when unassigned.
  rd_kafka_consumer_group_metadata_t* AssignmentMetadata();

 private:
  KafkaConsumer(const Store* store) : store_(store) {}
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque);
  absl::Status AssignFromStore(rd_kafka_topic_partition_list_t* partitions);
  void KeepAssignmentMetadata(rd_kafka_t* rk);
  void ForgetAssignmentMetadata();
  // Seeks every partition in `records` back to the offset stored with the state.
  void RewindToStore(const std::vector<ConsumedRecord>& records);

  const Store* store_;
  HandlePtr consumer_;
  // Bumped by every rebalance; a group collected across one is dropped and read again.
  std::atomic<uint64_t> assignment_generation_ = 0;
  std::atomic<Mutex*> rebalance_lock_ = nullptr;
  // Filled by the rebalance callback (which runs inside poll, on the consumer thread).
  std::vector<AssignmentChange> changes_;
  // Serialized group metadata of the current assignment (empty: none); see AssignmentMetadata.
  Mutex metadata_mutex_;
  std::string assignment_metadata_ ABSL_GUARDED_BY(metadata_mutex_);
};

}  // namespace kam::kafka
