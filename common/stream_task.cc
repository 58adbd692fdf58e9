#include "common/stream_task.h"

#include "common/logging.h"

namespace kam {

const char* TaskStateName(TaskState state) {
  switch (state) {
    case TaskState::kAssigned:
      return "assigned";
    case TaskState::kRestoring:
      return "restoring";
    case TaskState::kRunning:
      return "running";
    case TaskState::kClosed:
      return "closed";
  }
  return "unknown";
}

bool IsInputError(const absl::Status& status) {
  return absl::IsInvalidArgument(status) || absl::IsFailedPrecondition(status);
}

void TaskTable::SetListener(Listener listener) { listener_ = std::move(listener); }

void TaskTable::AssignmentReceived() {
  {
    MutexLock lock(&mutex_);
    ever_assigned_ = true;
  }
  if (listener_) listener_();
}

int TaskTable::Count(TaskState state) const {
  MutexLock lock(&mutex_);
  int count = 0;
  for (const auto& [task, current] : tasks_) count += current == state ? 1 : 0;
  return count;
}

void TaskTable::Assigned(int32_t task, uint64_t generation) {
  {
    MutexLock lock(&mutex_);
    assigned_in_[task] = generation;
  }
  Move(task, TaskState::kAssigned);
}

std::optional<uint64_t> TaskTable::RunningSince(int32_t task) const {
  MutexLock lock(&mutex_);
  auto it = tasks_.find(task);
  if (it == tasks_.end() || it->second != TaskState::kRunning) return std::nullopt;
  auto generation = assigned_in_.find(task);
  return generation == assigned_in_.end() ? 0 : generation->second;
}
void TaskTable::Restoring(int32_t task) { Move(task, TaskState::kRestoring); }
void TaskTable::Running(int32_t task) { Move(task, TaskState::kRunning); }
void TaskTable::Closed(int32_t task) { Move(task, TaskState::kClosed); }

void TaskTable::Move(int32_t task, TaskState to) {
  {
    MutexLock lock(&mutex_);
    auto it = tasks_.find(task);
    const bool known = it != tasks_.end();
    const TaskState from = known ? it->second : TaskState::kClosed;
    bool allowed = false;
    switch (to) {
      case TaskState::kAssigned:
        allowed = true;  // a new assignment (eager rebalancing re-assigns running tasks too)
        break;
      case TaskState::kRestoring:
        allowed = known && from == TaskState::kAssigned;
        break;
      case TaskState::kRunning:
        allowed = known && (from == TaskState::kAssigned || from == TaskState::kRestoring);
        break;
      case TaskState::kClosed:
        allowed = true;  // revoking an unknown task is a no-op
        break;
    }
    if (!allowed) {
      log::Fatal("task lifecycle violated", {{"task", std::to_string(task)},
                                             {"from", TaskStateName(from)},
                                             {"to", TaskStateName(to)}});
    }
    if (to == TaskState::kAssigned) ever_assigned_ = true;
    if (to == TaskState::kClosed) {
      if (!known) return;
      tasks_.erase(it);
    } else {
      tasks_[task] = to;
    }
    ++transitions_;
    log::Info("task state", {{"task", std::to_string(task)},
                             {"from", known ? TaskStateName(from) : "none"},
                             {"to", TaskStateName(to)}});
  }
  if (listener_) listener_();
}

bool TaskTable::AllRunning() const {
  MutexLock lock(&mutex_);
  if (!ever_assigned_) return false;
  for (const auto& [task, state] : tasks_) {
    if (state != TaskState::kRunning) return false;
  }
  return true;
}

std::map<int32_t, TaskState> TaskTable::Snapshot() const {
  MutexLock lock(&mutex_);
  return tasks_;
}

uint64_t TaskTable::transitions_total() const {
  MutexLock lock(&mutex_);
  return transitions_;
}

}  // namespace kam
