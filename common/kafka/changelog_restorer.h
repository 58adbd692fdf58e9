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
#include <functional>
#include <string>
#include <vector>

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
  // Also what a standby calls over and over to follow the changelog of a task it does not run.
  absl::Status Restore(int32_t partition, std::atomic<uint64_t>* remaining);

  // Told about every write a restore makes to the store, right after it (restore thread): the
  // rows, the checkpoint after them, and whether the task's state was wiped first. For state kept
  // in memory too (kam-accounts' book). Set before the first Restore.
  using OnRestored = std::function<void(int32_t task, const std::vector<StoreRow>& rows,
                                        int64_t next, bool wiped)>;
  void SetListener(OnRestored listener) { listener_ = std::move(listener); }

  uint64_t restored_records_total() const { return restored_records_total_.load(); }
  uint64_t full_restores_total() const { return full_restores_total_.load(); }

 private:
  ChangelogRestorer(Store* store, ChangelogSpec changelog)
      : store_(store), changelog_(std::move(changelog)) {}
  // Deletes everything local of task `partition`: its key range, its input offsets, its checkpoint.
  absl::Status Wipe(int32_t partition);

  Store* store_;
  ChangelogSpec changelog_;
  OnRestored listener_;
  HandlePtr consumer_;
  std::atomic<uint64_t> restored_records_total_ = 0;
  std::atomic<uint64_t> full_restores_total_ = 0;
};

}  // namespace kam::kafka
