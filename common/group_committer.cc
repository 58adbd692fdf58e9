#include "common/group_committer.h"

#include <future>

namespace kam {

GroupCommitter::GroupCommitter(Store* store, BatchCommitter* committer, size_t max_group)
    : store_(store), committer_(committer), max_group_(max_group), thread_([this] { Loop(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    MutexLock lock(&mutex_);
    stopping_ = true;
  }
  thread_.join();
}

void GroupCommitter::Submit(Stage stage, Done done) {
  {
    MutexLock lock(&mutex_);
    queue_.push_back({std::move(stage), std::move(done)});
  }
}

absl::Status GroupCommitter::Run(Stage stage) {
  std::promise<absl::Status> outcome;
  std::future<absl::Status> result = outcome.get_future();
  Submit(std::move(stage), [&outcome](absl::Status status) { outcome.set_value(status); });
  return result.get();
}

uint64_t GroupCommitter::commits_total() const {
  MutexLock lock(&mutex_);
  return commits_total_;
}

void GroupCommitter::Loop() {
  std::vector<Write> group;
  while (true) {
    {
      MutexLock lock(&mutex_);
      auto has_work = [this] {
        mutex_.AssertHeld();
        return stopping_ || !queue_.empty();
      };
      mutex_.Await(has_work);
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
    MutexLock lock(&mutex_);
    ++commits_total_;
  }
  for (size_t i = 0; i < group.size(); ++i) {
    // A failed commit fails every write in it, refused or not: none of them is stored.
    group[i].done(storage.ok() ? outcomes[i] : storage);
  }
}

}  // namespace kam
