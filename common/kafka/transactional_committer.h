#pragma once

// Exactly once across partition moves (Kafka's exactly-once v2, KIP-447): a unit of work's
// events, a CHANGELOG of the state it wrote and its input offsets go into ONE Kafka transaction;
// only after the commit is the batch written to the local RocksDB, so the local store is always a
// prefix of the committed changelog (Quix Streams' order; Kafka Streams writes first and must wipe
// after a crash). A task that moves restores its state from the changelog (ChangelogRestorer).
//
// The changelog is a compacted topic with one partition per task: key = column family + NUL +
// store key, value = the stored value (a tombstone for a delete). Which task a store key belongs
// to: the 4-byte partition prefix of the task's column families, or the partition of an input
// offset row. Keys of other column families stay local (the WatchAlerts change log, meta).
//
// Fencing: every transaction sends the consumer group's metadata with its offsets; an instance
// that lost its partitions (paused past the session timeout, partitioned away) has a stale
// generation, its commit fails and nothing it produced becomes visible to read_committed
// consumers. A producer fenced by a newer one with the same transactional id stops the process.
//
// Two producers, used in turn. After commit_transaction returns, the coordinator still writes the
// commit markers; until it has, it refuses the same transactional id's next AddPartitionsToTxn
// with CONCURRENT_TRANSACTIONS, and librdkafka 2.0.2 retries only after a fixed 20 ms -- most of a
// hop's latency under steady load. The next transaction therefore runs on the other producer
// (its own transactional id, "<id>:alt"), whose markers had a whole transaction's time to land.
// Order is kept: a transaction begins only after the previous one's commit is decided, so its
// records follow the previous ones in every partition, and read_committed readers see them in
// that order (the last stable offset never passes an undecided transaction); the group
// coordinator keeps the later of two transactional offset commits.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/batch_committer.h"
#include "common/kafka/consumer.h"
#include "common/kafka/kafka_common.h"
#include "common/mutex.h"

namespace kam::kafka {

struct ChangelogSpec {
  std::string topic;
  // Column families whose keys start with the task's partition number (4 bytes big-endian).
  std::vector<std::string> task_column_families;
};

// The steps of a transaction, in order; each one's time is what a latency tail is made of.
enum class TransactionStep {
  kProduce,  // begin_transaction and handing the records to librdkafka
  kFlush,    // until every record is acknowledged: AddPartitionsToTxn (which the coordinator
             // refuses with CONCURRENT_TRANSACTIONS while the previous commit's markers are still
             // being written; librdkafka then waits a fixed 20 ms) and the produce requests
  kOffsets,  // send_offsets_to_transaction: AddOffsetsToTxn and TxnOffsetCommit
  kCommit,   // commit_transaction: EndTxn
};

class TransactionalCommitter : public BatchCommitter {
 public:
  using StepObserver = std::function<void(TransactionStep, double seconds)>;

  // `transactional_id` must be stable per instance (a restarted instance fences its previous
  // incarnation; the second producer uses `transactional_id` + ":alt"); `producer_header` goes
  // into the kam-producer header.
  static absl::StatusOr<std::unique_ptr<TransactionalCommitter>> Create(
      const KafkaOptions& options, const std::string& transactional_id, std::string producer_header,
      Store* store, KafkaConsumer* consumer, ChangelogSpec changelog);
  ~TransactionalCommitter() override;

  absl::Status Commit(StagedBatch* batch, std::vector<OutboundEvent> events,
                      const InputOffsets& next_offsets) override;
  // Holds the transaction lock across the check: the consumer's rebalance callback takes the same
  // lock, so partitions are given up only between transactions.
  absl::Status CommitOwned(StagedBatch* batch, std::vector<OutboundEvent> events,
                           uint64_t generation) override;
  uint64_t CurrentGeneration() const override {
    KafkaConsumer* consumer = consumer_.load();
    return consumer ? consumer->rebalances() : 0;
  }
  // The group member whose assignment fences the transactions; until then nothing commits (a
  // service joins its group only once its gRPC address is known). Once, before polling starts.
  void AttachConsumer(KafkaConsumer* consumer);

  // Called with each step's duration of every committed transaction. Once, before the first
  // transaction.
  void SetStepObserver(StepObserver observer) { step_observer_ = std::move(observer); }

  uint64_t transactions_total() const { return transactions_total_.load(); }
  // Producers replaced after a fatal error that was not a fencing.
  uint64_t producers_renewed() const { return producers_renewed_.load(); }
  uint64_t aborted_total() const { return aborted_total_.load(); }

 private:
  struct Record {
    std::string topic;
    int32_t partition = -1;  // -1: Kafka's default partitioner on the key
    std::string key;
    std::optional<std::string> value;  // nullopt: a tombstone
    std::string event_id;
    std::string traceparent;
    bool changelog = false;
  };

  TransactionalCommitter(Store* store, KafkaConsumer* consumer, std::string producer_header,
                         ChangelogSpec changelog)
      : store_(store),
        consumer_(consumer),
        producer_header_(std::move(producer_header)),
        changelog_(std::move(changelog)) {}
  static constexpr int kProducers = 2;
  // A new producer in `slot` with the slot's transactional id (init_transactions bumps the epoch).
  absl::Status NewProducer(int slot);
  // The producer in `slot` failed fatally: exits when it was fenced by a twin, else starts a new
  // one in its place.
  void OnFatal(int slot, const absl::Status& status);
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  // The changelog records of the writes staged in `batch`.
  absl::StatusOr<std::vector<Record>> ChangelogOf(StagedBatch* batch) const;
  // The offsets the transaction sends: `next_offsets` plus the stored offsets of every other
  // assigned partition, so that even a transaction without input is fenced.
  absl::StatusOr<rd_kafka_topic_partition_list_t*> OffsetsToSend(const InputOffsets& next_offsets);
  absl::Status Produce(rd_kafka_t* producer, const Record& record);
  // Runs the transaction on the producer whose turn it is, and passes the turn on.
  absl::Status RunTransaction(const std::vector<Record>& records, const InputOffsets& next_offsets)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The records of `events` and of the changelog of `batch`.
  absl::StatusOr<std::vector<Record>> RecordsOf(StagedBatch* batch,
                                                std::vector<OutboundEvent> events) const;
  // Runs the transaction, then writes `batch` locally with the changelog checkpoints.
  absl::Status CommitLocked(StagedBatch* batch, const std::vector<Record>& records,
                            const InputOffsets& next_offsets) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  Store* store_;
  std::atomic<KafkaConsumer*> consumer_;
  std::string producer_header_;
  ChangelogSpec changelog_;
  KafkaOptions options_;
  std::string transactional_ids_[kProducers];
  HandlePtr producers_[kProducers];
  int turn_ ABSL_GUARDED_BY(mutex_) = 0;  // the slot of the next transaction
  std::atomic<uint64_t> producers_renewed_ = 0;
  Mutex mutex_;  // one transaction at a time (consumer thread, API calls)
  // Changelog partition -> next offset after the highest delivered record (delivery reports).
  std::map<int32_t, int64_t> delivered_ ABSL_GUARDED_BY(mutex_);
  StepObserver step_observer_;
  std::atomic<uint64_t> transactions_total_ = 0;
  std::atomic<uint64_t> aborted_total_ = 0;
};

}  // namespace kam::kafka
