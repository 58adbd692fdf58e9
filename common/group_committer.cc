#include "common/group_committer.h"

#include <future>

namespace kam {

GroupCommitter::GroupCommitter(Store* store, BatchCommitter* committer, size_t max_group)
    : store_(store), committer_(committer), max_group_(max_group), thread_([this] { Loop(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  pending_.notify_all();
  thread_.join();
}

void GroupCommitter::Submit(Stage stage, Done done) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back({std::move(stage), std::move(done)});
  }
  pending_.notify_one();
}

absl::Status GroupCommitter::Run(Stage stage) {
  std::promise<absl::Status> outcome;
  std::future<absl::Status> result = outcome.get_future();
  Submit(std::move(stage), [&outcome](absl::Status status) { outcome.set_value(status); });
  return result.get();
}

uint64_t GroupCommitter::commits_total() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return commits_total_;
}

void GroupCommitter::Loop() {
  std::vector<Write> group;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      pending_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything handed over is answered
      while (!queue_.empty() && group.size() < max_group_) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitGroup(group);
    group.clear();
  }
}

void GroupCommitter::CommitGroup(std::vector<Write>& group) {
  StagedBatch batch(store_);
  std::vector<OutboundEvent> events;
  std::vector<absl::Status> outcomes;
  outcomes.reserve(group.size());
  absl::Status storage = absl::OkStatus();
  const uint64_t generation = committer_->CurrentGeneration();
  for (Write& write : group) {
    const size_t events_before = events.size();
    batch.SetSavePoint();
    absl::Status staged = write.stage(&batch, &events, generation);
    absl::Status restored = staged.ok() ? batch.PopSavePoint() : batch.RollbackToSavePoint();
    if (!staged.ok()) events.resize(events_before);
    if (!restored.ok()) storage = restored;
    outcomes.push_back(std::move(staged));
  }
  if (storage.ok() && (batch.Count() > 0 || !events.empty())) {
    storage = committer_->CommitOwned(&batch, std::move(events), generation);
    std::lock_guard<std::mutex> lock(mutex_);
    ++commits_total_;
  }
  for (size_t i = 0; i < group.size(); ++i) {
    // A failed commit fails every write in it, refused or not: none of them is stored.
    group[i].done(storage.ok() ? outcomes[i] : storage);
  }
}

}  // namespace kam
