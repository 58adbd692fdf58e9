#include "common/task_ownership.h"

#include "common/store.h"

namespace kam {

std::string TaskKeyPrefix(int32_t task) {
  return EncodeUint64(static_cast<uint64_t>(static_cast<uint32_t>(task))).substr(4);
}

std::vector<int32_t> TableOwnership::RunningTasks() const {
  std::vector<int32_t> running;
  for (const auto& [task, state] : tasks_->Snapshot()) {
    if (state == TaskState::kRunning) running.push_back(task);
  }
  return running;
}

}  // namespace kam
