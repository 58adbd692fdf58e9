#pragma once

// The consumer side of a kam service as a stream processor, in Kafka Streams' terms: one TASK per
// input partition number (the same partition of every co-partitioned input topic), each with an
// explicit lifecycle, and a processor that applies records through a UNIT OF WORK.
//
//   assigned ──► restoring ──► running ──► closed
//       └───────────────────────────────────┘   (revoked before it ran)
//
// - assigned:  the group gave this instance the partition; its offsets come from the store.
// - restoring: the task's state is being brought up to date before any input is processed (for a
//              table such as the interactions service's account replica: read up to the end
//              offset measured at assignment).
// - running:   input records are applied; timers run.
// - closed:    the partition was revoked; the processor forgets its clocks and timers.
//
// A unit of work is created for one batch of records (or one punctuation), applied to, then
// either committed by the runtime -- its state changes, the input offsets and its events in ONE
// RocksDB write -- or destroyed without commit, which discards everything it staged. There is no
// other way for a processor to learn whether its writes are durable.
//
// No librdkafka or gRPC here: processors and their tests include this header only.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "absl/base/thread_annotations.h"
#include "common/consumer_offsets.h"
#include "common/outbox.h"
#include "common/staged_batch.h"
#include "common/status.h"

namespace kam {

enum class TaskState { kAssigned, kRestoring, kRunning, kClosed };
const char* TaskStateName(TaskState state);

// True for the errors that say "this record is bad" (it is dead-lettered and consumption goes
// on); any other error (storage, broker, a bug) aborts the batch, which is retried from the
// offsets in the store. A transient RocksDB error must never cost a record its effect.
bool IsInputError(const absl::Status& status);

class UnitOfWork {
 public:
  // Destroying a unit that was not committed discards what it staged (memory and batch alike).
  virtual ~UnitOfWork() = default;
  // Adds the state change for `record` to the batch and the events it causes to the unit's
  // events. An input error refuses the record: the unit is then dropped and the batch applied
  // again without it, so Apply must be deterministic given the state it reads.
  virtual absl::Status Apply(const ConsumedRecord& record) = 0;
  // Work driven by the passage of wall time (idle clocks, expiries), for the running tasks.
  virtual absl::Status Punctuate(int64_t wall_millis) { return absl::OkStatus(); }
  // Writes out what the unit kept in memory; called once, right before the commit.
  virtual absl::Status Seal() { return absl::OkStatus(); }
  // The unit's batch is durable. Called once, after the commit.
  virtual void Committed() {}
};

class StreamProcessor {
 public:
  virtual ~StreamProcessor() = default;
  // A unit of work writing to `batch` and `events` (both outlive the unit). A unit may hold a
  // lock for its whole life when its state is also changed by API calls.
  virtual std::unique_ptr<UnitOfWork> Begin(StagedBatch* batch,
                                            std::vector<OutboundEvent>* events) = 0;
  // Lifecycle: the task of partition number `task` starts running, or was closed (revoked).
  // Called on the consumer thread, between batches.
  virtual void TaskRunning(int32_t task) {}
  virtual void TaskClosed(int32_t task) {}
};

// The tasks of one instance and their states; written by the consumer thread, read by health
// and metrics. A transition that the lifecycle does not allow is a bug: the process stops.
class TaskTable {
 public:
  using Listener = std::function<void()>;

  // Called (outside the table's lock) after every change.
  void SetListener(Listener listener);

  // An assignment arrived (possibly empty: more instances than partitions).
  void AssignmentReceived();
  // The group assigned partition number `task` (again) in rebalance `generation`
  // (KafkaConsumer::rebalances()). A task that was closed starts over.
  void Assigned(int32_t task, uint64_t generation = 0);
  void Restoring(int32_t task);
  void Running(int32_t task);
  // Revoked: the task is gone from this instance.
  void Closed(int32_t task);

  // At least one assignment was received, and every assigned task is running.
  bool AllRunning() const;
  std::map<int32_t, TaskState> Snapshot() const;
  // The rebalance generation that assigned `task`, while the task runs here; nullopt otherwise.
  // An API write for the task is staged only when this equals the consumer's current generation
  // (no rebalance since), and committed only if that still holds (TaskOwnership).
  std::optional<uint64_t> RunningSince(int32_t task) const;
  // How many tasks are in `state` now.
  int Count(TaskState state) const;
  uint64_t transitions_total() const;

 private:
  void Move(int32_t task, TaskState to);

  mutable Mutex mutex_;
  std::map<int32_t, TaskState> tasks_ ABSL_GUARDED_BY(mutex_);
  std::map<int32_t, uint64_t> assigned_in_ ABSL_GUARDED_BY(mutex_);
  bool ever_assigned_ ABSL_GUARDED_BY(mutex_) = false;
  uint64_t transitions_ ABSL_GUARDED_BY(mutex_) = 0;
  Listener listener_;
};

}  // namespace kam
