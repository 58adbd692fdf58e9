#pragma once

// Group commit for API writes. Concurrent callers hand over their write as a function that stages
// it into a StagedBatch (and may refuse it); one thread applies the waiting writes in arrival
// order to one batch and commits it as one (through the outbox in a single RocksDB write, or in
// one Kafka transaction: BatchCommitter), then answers every caller. Each write sees the writes
// staged before it, so the result is that of committing them one by one under a lock; callers stop
// waiting for each other's commits, and the gRPC threads never block on a lock or a disk write.

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "common/batch_committer.h"
#include "common/mutex.h"
#include "common/outbox.h"
#include "common/staged_batch.h"
#include "common/status.h"

namespace kam {

class GroupCommitter {
 public:
  // Stages one write; an error refuses it (its staged writes and events are dropped).
  // `generation` is the committer's rebalance generation when the group began: a write for a task
  // must check that the task runs here since that generation (TaskTable::RunningSince); the group
  // is committed only if no rebalance came between (BatchCommitter::CommitOwned).
  using Stage =
      std::function<absl::Status(StagedBatch*, std::vector<OutboundEvent>*, uint64_t generation)>;
  // Receives the write's outcome once its batch is durable (or was refused or failed). Runs on
  // the committer thread: it must not block.
  using Done = std::function<void(absl::Status)>;

  GroupCommitter(Store* store, BatchCommitter* committer, size_t max_group = 512);
  // Commits what was handed over, then stops.
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  void Submit(Stage stage, Done done);
  // Submit and wait for the outcome.
  absl::Status Run(Stage stage);

  uint64_t commits_total() const;

 private:
  struct Write {
    Stage stage;
    Done done;
  };
  void Loop();
  void CommitGroup(std::vector<Write>& group);

  Store* store_;
  BatchCommitter* committer_;
  const size_t max_group_;
  mutable Mutex mutex_;
  std::deque<Write> queue_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  uint64_t commits_total_ ABSL_GUARDED_BY(mutex_) = 0;
  std::thread thread_;
};

}  // namespace kam
