#pragma once

// Makes one unit of work durable: the state it staged, the input offsets it consumed and the
// events it emits -- all of it or nothing. Two ways:
// - OutboxCommitter (here): offsets and outbox rows join the state in ONE RocksDB write; the
//   relay publishes the rows later. For state that lives on one instance.
// - kafka::TransactionalCommitter (common/kafka/transactional_committer.h): events and a changelog
//   of the state are produced in ONE Kafka transaction with the input offsets; the local RocksDB
//   write follows the commit. For state that moves with its partition.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/outbox.h"
#include "common/staged_batch.h"
#include "common/status.h"
#include "common/store.h"

namespace kam {

// Input topic/partition -> next offset to read.
using InputOffsets = std::map<std::pair<std::string, int32_t>, int64_t>;

// Adds "next offset to read" for every input partition in `offsets` to `batch`.
absl::Status PutInputOffsets(const Store* store, StagedBatch* batch, const InputOffsets& offsets);

class BatchCommitter {
 public:
  virtual ~BatchCommitter() = default;
  // On error nothing is durable (the caller retries from the stored offsets).
  virtual absl::Status Commit(StagedBatch* batch, std::vector<OutboundEvent> events,
                              const InputOffsets& next_offsets) = 0;
  // An API write (no input): committed only if no rebalance happened since rebalance
  // `generation`, in which the writer checked that it owns the tasks it wrote for (TaskTable::
  // RunningSince). Else UNAVAILABLE and nothing is durable. State local to one instance has no
  // owner to check.
  virtual absl::Status CommitOwned(StagedBatch* batch, std::vector<OutboundEvent> events,
                                   uint64_t generation) {
    return Commit(batch, std::move(events), {});
  }
  // The generation CommitOwned compares with (0 where there is no group).
  virtual uint64_t CurrentGeneration() const { return 0; }
};

class OutboxCommitter : public BatchCommitter {
 public:
  OutboxCommitter(Store* store, Outbox* outbox) : store_(store), outbox_(outbox) {}
  absl::Status Commit(StagedBatch* batch, std::vector<OutboundEvent> events,
                      const InputOffsets& next_offsets) override;

 private:
  Store* store_;
  Outbox* outbox_;
};

}  // namespace kam
