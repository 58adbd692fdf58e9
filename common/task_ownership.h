#pragma once

// Which task (input partition number) a key belongs to, and whether this instance may serve it:
// what an API call on partitioned state checks before it reads or writes. A write is staged only
// when its task runs here since the current rebalance generation, and committed only if no
// rebalance came in between (GroupCommitter, BatchCommitter::CommitOwned), so a write never lands
// in a task another instance has started to restore.
//
// No librdkafka here: the partitioner comes in as a function (Kafka's murmur2, from main).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/stream_task.h"

namespace kam {

// The 4-byte big-endian task number that starts every key of a task's column families (the
// changelog routes each write to its task's partition by it).
std::string TaskKeyPrefix(int32_t task);

class TaskOwnership {
 public:
  virtual ~TaskOwnership() = default;
  // The task `key` belongs to: the partition its records have on the co-partitioned topics.
  virtual int32_t TaskOf(std::string_view key) const = 0;
  // The rebalance generation that assigned `task` here, while it runs here; nullopt otherwise
  // (another instance owns it, or it is still restoring).
  virtual std::optional<uint64_t> RunningSince(int32_t task) const = 0;
  // The tasks running here, for lookups whose task is not known from the request.
  virtual std::vector<int32_t> RunningTasks() const = 0;
};

// One instance with one task that always runs (unit tests, benchmarks of the logic).
class SingleTaskOwnership : public TaskOwnership {
 public:
  int32_t TaskOf(std::string_view) const override { return 0; }
  std::optional<uint64_t> RunningSince(int32_t task) const override {
    return task == 0 ? std::optional<uint64_t>(0) : std::nullopt;
  }
  std::vector<int32_t> RunningTasks() const override { return {0}; }
};

// The tasks of this instance's TaskTable; `task_of` is the input topics' partitioner.
class TableOwnership : public TaskOwnership {
 public:
  TableOwnership(const TaskTable* tasks, std::function<int32_t(std::string_view)> task_of)
      : tasks_(tasks), task_of_(std::move(task_of)) {}
  int32_t TaskOf(std::string_view key) const override { return task_of_(key); }
  std::optional<uint64_t> RunningSince(int32_t task) const override {
    return tasks_->RunningSince(task);
  }
  std::vector<int32_t> RunningTasks() const override;

 private:
  const TaskTable* tasks_;
  std::function<int32_t(std::string_view)> task_of_;
};

}  // namespace kam
