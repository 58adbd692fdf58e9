#include "common/kafka/task_runner.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "common/logging.h"
#include "common/time_util.h"

namespace kam::kafka {

TaskRunner::TaskRunner(KafkaConsumer* consumer, const Store* store, RecordApplier* applier,
                       StreamProcessor* processor, TaskTable* tasks, TaskRunnerOptions options)
    : consumer_(consumer),
      store_(store),
      applier_(applier),
      processor_(processor),
      tasks_(tasks),
      options_(std::move(options)) {
  if (!options_.wall_clock)
    options_.wall_clock = [] { return MillisFromTimestamp(NowTimestamp()); };
}

void TaskRunner::HandleAssignmentChanges() {
  for (const AssignmentChange& change : consumer_->TakeAssignmentChanges()) {
    if (!change.assigned) {
      for (int32_t task : change.tasks) {
        restoring_.erase(task);
        restore_pending_.erase(task);
        processor_->TaskClosed(task);
        tasks_->Closed(task);
      }
      continue;
    }
    // All of the assignment is ASSIGNED before any of it may count as running.
    for (int32_t task : change.tasks) tasks_->Assigned(task, change.generation);
    tasks_->AssignmentReceived();
    for (int32_t task : change.tasks) StartTask(task);
  }
}

void TaskRunner::StartTask(int32_t task) {
  if (options_.restore) {
    tasks_->Restoring(task);
    restore_pending_.insert(task);
    RestorePending();
    return;
  }
  CatchUpOrRun(task);
}

void TaskRunner::CatchUpOrRun(int32_t task) {
  if (!options_.restore_to_end) {
    RunTask(task);
    return;
  }
  std::map<std::string, int64_t>& ends = restoring_[task];
  for (const std::string& topic : options_.input_topics) {
    // Without the end offset the task cannot know when it is current: keep asking (the broker may
    // be moving leaders), and stay restoring meanwhile.
    absl::StatusOr<int64_t> end = absl::UnavailableError("not asked yet");
    for (int attempt = 0; attempt < 5 && !end.ok(); ++attempt) {
      end = consumer_->EndOffset(topic, task, 5000);
      if (!end.ok())
        log::Warn("end offset unknown", {{"topic", topic}, {"error", end.status().ToString()}});
    }
    ends[topic] = end.ok() ? *end : INT64_MAX;
  }
  if (!options_.restore) tasks_->Restoring(task);  // else restoring since its changelog began
  CheckRestored();
}

void TaskRunner::RestorePending() {
  for (auto it = restore_pending_.begin(); it != restore_pending_.end();) {
    const int32_t task = *it;
    absl::Status restored = options_.restore(task, &restore_remaining_);
    if (!restored.ok()) {
      log::Error("task restore failed; it stays restoring and is retried",
                 {{"task", std::to_string(task)}, {"error", restored.ToString()}});
      ++it;
      continue;
    }
    // The restored state may resume its inputs elsewhere than the local store did.
    consumer_->SeekToStored(task);
    it = restore_pending_.erase(it);
    // A table restored from its changelog may still trail its input: read that up to the end too.
    CatchUpOrRun(task);
  }
}

void TaskRunner::RunTask(int32_t task) {
  processor_->TaskRunning(task);
  tasks_->Running(task);
}

void TaskRunner::CheckRestored() {
  uint64_t remaining = 0;
  std::vector<int32_t> done;
  for (const auto& [task, ends] : restoring_) {
    bool current = true;
    for (const auto& [topic, end] : ends) {
      absl::StatusOr<std::optional<int64_t>> next = LoadNextOffset(*store_, topic, task);
      if (!next.ok()) {
        log::Error("stored offset unreadable", {{"error", next.status().ToString()}});
        current = false;
        continue;
      }
      // The stored offset follows applied records; the consumer's position also moves past
      // transaction markers and aborted records at the end of the partition, which are never
      // applied (a transactional producer's last transaction always ends in a marker).
      int64_t position = std::max(next->value_or(0), consumer_->Position(topic, task).value_or(0));
      if (position < end) {
        current = false;
        if (end != INT64_MAX) remaining += static_cast<uint64_t>(end - position);
      }
    }
    if (current) done.push_back(task);
  }
  restore_remaining_ = remaining;
  for (int32_t task : done) {
    restoring_.erase(task);
    log::Info("task restored", {{"task", std::to_string(task)}});
    RunTask(task);
  }
}

void TaskRunner::Run(const std::atomic<bool>& stop) {
  auto next_punctuation = std::chrono::steady_clock::now();
  auto handler = [this](const std::vector<ConsumedRecord>& records) {
    // A rebalance inside this poll: tasks start before their first record is applied.
    HandleAssignmentChanges();
    if (restore_pending_.empty()) return applier_->Apply(records);
    // A task still waiting for its changelog applies nothing; it is sought back to its stored
    // offsets once restored.
    std::vector<ConsumedRecord> ready;
    for (const ConsumedRecord& record : records) {
      if (!restore_pending_.count(record.partition)) ready.push_back(record);
    }
    return applier_->Apply(ready);
  };
  while (!stop.load()) {
    HandleAssignmentChanges();
    if (std::chrono::steady_clock::now() >= next_punctuation) {
      absl::Status punctuated = applier_->Punctuate(options_.wall_clock());
      if (!punctuated.ok()) log::Warn("punctuation failed", {{"error", punctuated.ToString()}});
      next_punctuation =
          std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(options_.punctuate_every);
    }
    absl::StatusOr<size_t> handled =
        consumer_->PollGroup(static_cast<int>(absl::ToInt64Milliseconds(options_.poll_timeout)),
                             KafkaConsumer::kMaxGroup, handler);
    if (!handled.ok()) {
      if (std::optional<std::string> fatal = consumer_->FatalError()) {
        // Nothing will ever arrive again: retrying would only leave the tasks restoring forever.
        if (!options_.on_consumer_failed) log::Fatal("consumer failed", {{"reason", *fatal}});
        options_.on_consumer_failed(*fatal);
        break;
      }
      log::Error("batch aborted; retrying from the stored offsets",
                 {{"error", handled.status().ToString()}});
      std::this_thread::sleep_for(absl::ToChronoMilliseconds(options_.retry_after));
    }
    // The poll may have delivered a rebalance: act on it before judging restore progress.
    HandleAssignmentChanges();
    if (!restoring_.empty()) CheckRestored();
    if (!restore_pending_.empty()) {
      std::this_thread::sleep_for(absl::ToChronoMilliseconds(options_.retry_after));
      RestorePending();
    }
  }
  for (const auto& [task, state] : tasks_->Snapshot()) {
    processor_->TaskClosed(task);
    tasks_->Closed(task);
  }
}

}  // namespace kam::kafka
