// Writes handed to the group committer from many threads: each one sees the writes staged before
// it, a refused write leaves no trace in the batch it shared, and every caller gets its own answer.

#include "common/group_committer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/testing/temp_dir.h"

namespace kam {
namespace {

class GroupCommitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*Store::Open({.path = dir_.Sub("db")}, {"state"}));
    outbox_ = std::move(*Outbox::Open(store_.get()));
    committer_ = std::make_unique<OutboxCommitter>(store_.get(), outbox_.get());
  }
  std::string State(const std::string& key) {
    auto value = store_->Get("state", key);
    return value.ok() && value->has_value() ? **value : "";
  }
  // Adds one to the counter at `key` (read through the batch) and emits an event; refuses when
  // `refuse`, after having written, so that the rollback has something to undo.
  static GroupCommitter::Stage Increment(const std::string& key, bool refuse = false) {
    return [key, refuse](StagedBatch* batch, std::vector<OutboundEvent>* events,
                         uint64_t) -> absl::Status {
      auto current = batch->Get("state", key);
      if (!current.ok()) return current.status();
      int count = current->has_value() ? std::stoi(**current) : 0;
      KAM_RETURN_IF_ERROR(batch->Put("state", key, std::to_string(count + 1)));
      events->push_back({"topic", key, key + std::to_string(count + 1), std::nullopt, "v"});
      if (refuse) return absl::InvalidArgumentError("refused");
      return absl::OkStatus();
    };
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<OutboxCommitter> committer_;
};

TEST_F(GroupCommitterTest, ConcurrentWritesAllCountAndRefusedOnesLeaveNoTrace) {
  std::atomic<int> ok{0}, refused{0};
  {
    GroupCommitter committer(store_.get(), committer_.get());
    std::vector<std::thread> callers;
    for (int t = 0; t < 8; ++t) {
      callers.emplace_back([&, t] {
        for (int i = 0; i < 100; ++i) {
          absl::Status status = committer.Run(Increment("counter", (t * 100 + i) % 7 == 0));
          (status.ok() ? ok : refused)++;
        }
      });
    }
    for (auto& caller : callers) caller.join();
    EXPECT_LT(committer.commits_total(), 800u) << "concurrent writes should share commits";
  }
  EXPECT_EQ(ok.load() + refused.load(), 800);
  EXPECT_EQ(refused.load(), 115);  // every seventh of 0..799
  EXPECT_EQ(State("counter"), std::to_string(ok.load()));
  auto rows = outbox_->ReadPending(0, 10000);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), static_cast<size_t>(ok.load())) << "refused writes publish nothing";
}

TEST_F(GroupCommitterTest, AsyncCallersAreAnsweredInOrderAndPendingWritesCommitAtShutdown) {
  std::vector<int> answered;
  std::mutex mutex;
  {
    GroupCommitter committer(store_.get(), committer_.get());
    for (int i = 0; i < 50; ++i) {
      committer.Submit(Increment("k", i == 10), [&, i](absl::Status status) {
        std::lock_guard<std::mutex> lock(mutex);
        answered.push_back(status.ok() ? i : -i);
      });
    }
  }  // the destructor commits what is queued before it returns
  ASSERT_EQ(answered.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(answered[i], i == 10 ? -10 : i);
  EXPECT_EQ(State("k"), "49");
}

}  // namespace
}  // namespace kam
