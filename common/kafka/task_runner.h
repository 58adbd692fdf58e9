#pragma once

// The consumer thread of a service: drives the task lifecycle (common/stream_task.h) from the
// group's rebalances, restores tasks that must catch up before they run, applies what arrives in
// batches through the RecordApplier, and punctuates the running tasks about once a second.
// Rebalance callbacks only record what changed; everything that may block (asking the broker for
// end offsets, applying) happens here, between polls.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/kafka/consumer.h"
#include "common/record_applier.h"
#include "common/stream_task.h"

namespace kam::kafka {

struct TaskRunnerOptions {
  // The input topics; a task spans the partition of its number on each.
  std::vector<std::string> input_topics;
  // A task restores before it runs: it reads its input up to the end offsets measured when it was
  // assigned. For services whose input IS their state (a replica of another service's table):
  // until then they would answer from a stale table.
  bool restore_to_end = false;
  absl::Duration punctuate_every = absl::Seconds(1);
  absl::Duration poll_timeout = absl::Milliseconds(200);
  // How long to wait before retrying after an aborted batch.
  absl::Duration retry_after = absl::Milliseconds(500);
  std::function<int64_t()> wall_clock;  // milliseconds since the epoch
  // Restores a task's state from its changelog before it runs (null: the state is local only).
  // `remaining` counts the records still to read.
  std::function<absl::Status(int32_t task, std::atomic<uint64_t>* remaining)> restore;
  // Called once, from the consumer thread, when the consumer failed fatally (it never consumes
  // again); Run() then closes every task and returns. Default: crash.
  std::function<void(const std::string& reason)> on_consumer_failed;
};

class TaskRunner {
 public:
  TaskRunner(KafkaConsumer* consumer, const Store* store, RecordApplier* applier,
             StreamProcessor* processor, TaskTable* tasks, TaskRunnerOptions options);

  // Runs until `stop` is set or the consumer failed fatally; then closes every task.
  void Run(const std::atomic<bool>& stop);

  // Input records that restoring tasks still have to read (metrics; any thread).
  uint64_t restore_remaining() const { return restore_remaining_.load(); }

 private:
  void HandleAssignmentChanges();
  void StartTask(int32_t task);
  void RunTask(int32_t task);
  // Runs `task`, after reading its input up to the end when the options ask for that.
  void CatchUpOrRun(int32_t task);
  // Moves restoring tasks that have reached their end offsets to running.
  void CheckRestored();
  // Restores the changelog of the tasks that wait for it; runs those that are done.
  void RestorePending();

  KafkaConsumer* consumer_;
  const Store* store_;
  RecordApplier* applier_;
  StreamProcessor* processor_;
  TaskTable* tasks_;
  TaskRunnerOptions options_;
  // Restoring task -> topic -> end offset it must reach.
  std::map<int32_t, std::map<std::string, int64_t>> restoring_;
  // Tasks whose changelog restore failed (broker unreachable): tried again every loop.
  std::set<int32_t> restore_pending_;
  std::atomic<uint64_t> restore_remaining_ = 0;
};

}  // namespace kam::kafka
