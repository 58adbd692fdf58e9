#pragma once

// Restore before processing: brings a task's local state up to the end of its changelog
// partition (common/kafka/transactional_committer.h) before the task applies a single input
// record. From the local checkpoint when the store is current; from scratch -- the task's key
// range wiped first -- when there is no checkpoint, when the checkpoint lies beyond the
// changelog's end (the topic was recreated), or below its start (the records in between are
// gone). Reads read_committed with a consumer of its own, outside any group (Kafka Streams'
// restore consumer), until the partition's end.

#include <atomic>
#include <cstdint>
#include <string>

#include "common/kafka/kafka_common.h"
#include "common/kafka/transactional_committer.h"
#include "common/store.h"

namespace kam::kafka {

class ChangelogRestorer {
 public:
  static absl::StatusOr<std::unique_ptr<ChangelogRestorer>> Create(const KafkaOptions& options,
                                                                   Store* store,
                                                                   ChangelogSpec changelog);

  // Restores task `partition`; `remaining` (optional) counts down the records still to read.
  absl::Status Restore(int32_t partition, std::atomic<uint64_t>* remaining);

  uint64_t restored_records_total() const { return restored_records_total_.load(); }
  uint64_t full_restores_total() const { return full_restores_total_.load(); }

 private:
  ChangelogRestorer(Store* store, ChangelogSpec changelog)
      : store_(store), changelog_(std::move(changelog)) {}
  // Deletes everything local of task `partition`: its key range, its input offsets, its checkpoint.
  absl::Status Wipe(int32_t partition);

  Store* store_;
  ChangelogSpec changelog_;
  HandlePtr consumer_;
  std::atomic<uint64_t> restored_records_total_ = 0;
  std::atomic<uint64_t> full_restores_total_ = 0;
};

}  // namespace kam::kafka
