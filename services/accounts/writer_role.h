#pragma once

// The writer election, seen from the book: kam-accounts' instances form one consumer group on a
// topic with ONE partition (`<group>.writer.v1`); the member the group gives it to runs task 0 --
// the book -- and is the writer. Kafka's group protocol is the election, the rebalance generation
// the epoch: every write is committed in a transaction fenced by that generation, so an instance
// that lost the role (paused, partitioned away) can publish nothing (BatchCommitter::CommitOwned,
// TransactionalCommitter). Nothing is ever written to the topic; this processor only reports the
// role's changes.

#include <atomic>
#include <cstdint>
#include <memory>

#include "common/logging.h"
#include "common/stream_task.h"

namespace kam::accounts {

class WriterRole : public StreamProcessor {
 public:
  std::unique_ptr<UnitOfWork> Begin(StagedBatch*, std::vector<OutboundEvent>*) override {
    return std::make_unique<Ignore>();
  }
  void TaskRunning(int32_t task) override {
    if (task != 0) return;
    ++elections_won_;
    writer_ = true;
    log::Info("writer role taken: this instance now takes the book's writes",
              {{"elections_won", std::to_string(elections_won_.load())}});
  }
  void TaskClosed(int32_t task) override {
    if (task != 0 || !writer_.exchange(false)) return;
    log::Warn("writer role lost: this instance is a standby now and forwards writes", {});
  }

  bool writer() const { return writer_.load(); }
  uint64_t elections_won() const { return elections_won_.load(); }

 private:
  // Records on the election topic carry nothing (none are written).
  class Ignore : public UnitOfWork {
    absl::Status Apply(const ConsumedRecord&) override { return absl::OkStatus(); }
  };
  std::atomic<bool> writer_{false};
  std::atomic<uint64_t> elections_won_{0};
};

}  // namespace kam::accounts
