#pragma once

// Applies consumed records exactly once, a group at a time: the processor's state changes for
// every record of the group, the records' next offsets and the events they emit go into ONE
// WriteBatch committed through the outbox. Within the group each record sees what the records
// before it wrote (StagedBatch), so the result equals committing every record alone; the group
// only saves the per-commit cost. A record the processor rejects changes no state: the records
// before it are committed, it goes to the dead-letter topic (also through the outbox, in the same
// batch as its offset) and consumption goes on with the records after it.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "common/consumer_offsets.h"
#include "common/kafka_topics.h"
#include "common/outbox.h"
#include "common/staged_batch.h"
#include "common/status.h"

namespace kam {

class RecordProcessor {
 public:
  virtual ~RecordProcessor() = default;
  // Adds the state change for `record` to `batch` and the events it causes to `events`. Reads go
  // through `batch`, which holds the writes of the group's earlier records. An error says the
  // record is malformed or cannot apply; the group is then abandoned (Committed(false)) and
  // applied again without it, so Apply must be deterministic given the state it reads.
  virtual absl::Status Apply(const ConsumedRecord& record, StagedBatch* batch,
                             std::vector<OutboundEvent>* events) = 0;
  // Called about once a second while consuming, also when no record arrived: for work driven by
  // the passage of time (timers). Same contract as Apply, without an offset.
  virtual absl::Status Tick(int64_t wall_millis, StagedBatch* batch,
                            std::vector<OutboundEvent>* events) {
    return absl::OkStatus();
  }
  // After the group's last Apply (or a Tick), before the commit: writes out what the processor
  // kept in memory across the group.
  virtual absl::Status FinishGroup(StagedBatch* batch, std::vector<OutboundEvent>* events) {
    return absl::OkStatus();
  }
  // Held around a group (or Tick) and its commit, when the processor's state is also changed by
  // others (e.g. an API call); null when not needed.
  virtual std::mutex* commit_mutex() { return nullptr; }
  // The group's batch is durable (true), or was discarded (false): forget what it staged.
  virtual void Committed(bool written) {}
};

// The dead-letter event for `record`: origin, error and the original bytes.
OutboundEvent MakeDeadLetter(const ConsumedRecord& record, const std::string& error,
                             const std::string& consumer);

class RecordApplier {
 public:
  RecordApplier(Store* store, Outbox* outbox, RecordProcessor* processor, std::string consumer_name)
      : store_(store),
        outbox_(outbox),
        processor_(processor),
        consumer_(std::move(consumer_name)) {}

  // Applies `records` (in consumption order). An error here is a storage failure: a prefix of the
  // records may be committed; the consumer resumes from the offsets in the store.
  absl::Status Apply(const std::vector<ConsumedRecord>& records);
  absl::Status Apply(const ConsumedRecord& record) { return Apply(std::vector{record}); }
  // Runs the processor's Tick and commits what it produced.
  absl::Status Tick(int64_t wall_millis);

  // Read by the metrics thread while the consumer thread applies.
  uint64_t applied_total() const { return applied_total_.load(); }
  uint64_t dead_lettered_total() const { return dead_lettered_total_.load(); }
  uint64_t groups_total() const { return groups_total_.load(); }

 private:
  // Applies records[begin, end) and commits them as one batch. Returns the index of the first
  // record the processor refused (nothing was committed then; its error in *refusal), else `end`.
  absl::StatusOr<size_t> CommitRange(const std::vector<ConsumedRecord>& records, size_t begin,
                                     size_t end, absl::Status* refusal);
  absl::Status CommitDeadLetter(const ConsumedRecord& record, const absl::Status& error);

  Store* store_;
  Outbox* outbox_;
  RecordProcessor* processor_;
  std::string consumer_;
  std::atomic<uint64_t> applied_total_ = 0;
  std::atomic<uint64_t> dead_lettered_total_ = 0;
  std::atomic<uint64_t> groups_total_ = 0;
};

}  // namespace kam
