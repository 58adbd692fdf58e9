// Consumed records are applied exactly once: state and offset land in one batch; a bad record
// changes no state, goes to the dead-letter topic with its origin, and consumption goes on. A
// group of records committed at once gives the same state as one commit per record.

#include "common/record_applier.h"

#include <gtest/gtest.h>

#include <map>

#include "common/event_envelope.h"
#include "common/trace_context.h"
#include "tests/testing/temp_dir.h"

namespace kam {
namespace {

// Counts records per key in the "state" family; rejects values that say "garbage"; a value
// "storage-error" fails the way a RocksDB read can (UNAVAILABLE) while `fail_storage` is set.
class CountingProcessor : public StreamProcessor {
 public:
  class Unit : public UnitOfWork {
   public:
    Unit(CountingProcessor* processor, StagedBatch* batch, std::vector<OutboundEvent>* events)
        : processor_(processor), batch_(batch), events_(events) {}
    ~Unit() override {
      if (!committed_) processor_->discards_++;
    }
    absl::Status Apply(const ConsumedRecord& record) override {
      if (record.value == "garbage") return absl::InvalidArgumentError("value: not an event");
      if (record.value == "storage-error" && processor_->fail_storage_) {
        return absl::UnavailableError("IO error: injected");
      }
      if (record.value == "emit") {
        events_->push_back(EnvelopeEvent("out", record.key, "kam-test", kam::v1::EventEnvelope()));
      }
      auto current = batch_->Get("state", record.key);
      if (!current.ok()) return current.status();
      int count = current->has_value() ? std::stoi(**current) : 0;
      return batch_->Put("state", record.key, std::to_string(count + 1));
    }
    void Committed() override {
      committed_ = true;
      processor_->commits_++;
    }

   private:
    CountingProcessor* processor_;
    StagedBatch* batch_;
    std::vector<OutboundEvent>* events_;
    bool committed_ = false;
  };

  std::unique_ptr<UnitOfWork> Begin(StagedBatch* batch,
                                    std::vector<OutboundEvent>* events) override {
    return std::make_unique<Unit>(this, batch, events);
  }

  bool fail_storage_ = false;
  int commits_ = 0;
  int discards_ = 0;
};

class RecordApplierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open({.path = dir_.Sub("db")}, {"state"});
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    auto outbox = Outbox::Open(store_.get());
    ASSERT_TRUE(outbox.ok());
    outbox_ = std::move(*outbox);
  }
  std::string State(const std::string& key) {
    auto value = store_->Get("state", key);
    return value.ok() && value->has_value() ? **value : "";
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Outbox> outbox_;
};

TEST_F(RecordApplierTest, StateAndOffsetAdvanceTogether) {
  CountingProcessor processor;
  RecordApplier applier(store_.get(), outbox_.get(), &processor, "kam-test");
  ASSERT_TRUE(applier.Apply({"in", 2, 41, "a", "event", 0}).ok());
  ASSERT_TRUE(applier.Apply({"in", 2, 42, "a", "event", 0}).ok());
  EXPECT_EQ(State("a"), "2");
  auto next = LoadNextOffset(*store_, "in", 2);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->value_or(-1), 43);
  auto other = LoadNextOffset(*store_, "in", 1);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
}

TEST_F(RecordApplierTest, BadRecordIsDeadLetteredWithOriginAndChangesNoState) {
  CountingProcessor processor;
  RecordApplier applier(store_.get(), outbox_.get(), &processor, "kam-test");
  ASSERT_TRUE(applier.Apply({"in", 0, 7, "a", "garbage", 0}).ok());
  ASSERT_TRUE(applier.Apply({"in", 0, 8, "a", "event", 0}).ok());
  EXPECT_EQ(State("a"), "1");
  EXPECT_EQ(applier.dead_lettered_total(), 1u);
  auto next = LoadNextOffset(*store_, "in", 0);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->value_or(-1), 9);

  auto rows = outbox_->ReadPending(0, 10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].topic(), kafka_topics::kDeadLetter);
  kam::v1::EventEnvelope envelope;
  ASSERT_TRUE(envelope.ParseFromString((*rows)[0].value()));
  ASSERT_TRUE(envelope.has_dead_letter());
  EXPECT_EQ(envelope.dead_letter().origin_topic(), "in");
  EXPECT_EQ(envelope.dead_letter().origin_offset(), 7);
  EXPECT_EQ(envelope.dead_letter().original_value(), "garbage");
  EXPECT_NE(envelope.dead_letter().error().find("value"), std::string::npos);
}

TEST_F(RecordApplierTest, WhatARecordCausesContinuesItsTraceAlsoInAGroupAndWhenDeadLettered) {
  CountingProcessor processor;
  RecordApplier applier(store_.get(), outbox_.get(), &processor, "kam-test");
  const std::string first = "00-11111111111111111111111111111111-1111111111111111-01";
  const std::string second = "00-22222222222222222222222222222222-2222222222222222-01";
  const std::string third = "00-33333333333333333333333333333333-3333333333333333-01";
  ConsumedRecord a{"in", 0, 1, "a", "emit", 0, first};
  ConsumedRecord untraced{"in", 0, 2, "b", "emit", 0, ""};
  ConsumedRecord b{"in", 0, 3, "c", "emit", 0, second};
  ConsumedRecord bad{"in", 0, 4, "d", "garbage", 0, third};
  ASSERT_TRUE(applier.Apply(std::vector<ConsumedRecord>{a, untraced, b, bad}).ok());
  EXPECT_EQ(trace::Current(), nullptr) << "nothing stays current after the batch";
  auto rows = outbox_->ReadPending(0, 10);
  ASSERT_TRUE(rows.ok());
  std::map<std::string, std::string> trace_by_key;
  const std::map<std::string, std::string> parent_span = {
      {"a", "1111111111111111"}, {"c", "2222222222222222"}, {"d", "3333333333333333"}};
  for (const auto& row : *rows) {
    std::optional<trace::TraceContext> parsed = trace::Parse(row.traceparent());
    trace_by_key[row.key()] = parsed ? parsed->trace_id : "";
    // A span of this consumer, under the producer's.
    if (parsed && parent_span.count(row.key())) {
      EXPECT_NE(parsed->span_id, parent_span.at(row.key())) << row.key();
    }
  }
  EXPECT_EQ(trace_by_key["a"], "11111111111111111111111111111111");
  EXPECT_EQ(trace_by_key["b"], "");
  EXPECT_EQ(trace_by_key["c"], "22222222222222222222222222222222");
  EXPECT_EQ(trace_by_key["d"], "33333333333333333333333333333333") << "the dead letter too";
}

TEST_F(RecordApplierTest, AGroupSeesItsOwnWritesAndStepsOverABadRecord) {
  CountingProcessor processor;
  RecordApplier applier(store_.get(), outbox_.get(), &processor, "kam-test");
  std::vector<ConsumedRecord> group = {
      {"in", 0, 10, "a", "event", 0}, {"in", 1, 5, "b", "event", 0},
      {"in", 0, 11, "a", "event", 0}, {"in", 0, 12, "a", "garbage", 0},
      {"in", 0, 13, "a", "event", 0}, {"in", 1, 6, "b", "event", 0}};
  ASSERT_TRUE(applier.Apply(group).ok());
  // Same result as six single commits: every good record counted once, the bad one not at all.
  EXPECT_EQ(State("a"), "3");
  EXPECT_EQ(State("b"), "2");
  EXPECT_EQ(applier.applied_total(), 5u);
  EXPECT_EQ(applier.dead_lettered_total(), 1u);
  // Records before the bad one, then those after it: two commits, one abandoned attempt.
  EXPECT_EQ(applier.batches_total(), 2u);
  EXPECT_EQ(processor.commits_, 2);
  EXPECT_EQ(processor.discards_, 1);
  auto next0 = LoadNextOffset(*store_, "in", 0);
  auto next1 = LoadNextOffset(*store_, "in", 1);
  ASSERT_TRUE(next0.ok() && next1.ok());
  EXPECT_EQ(next0->value_or(-1), 14);
  EXPECT_EQ(next1->value_or(-1), 7);
  auto rows = outbox_->ReadPending(0, 10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  kam::v1::EventEnvelope envelope;
  ASSERT_TRUE(envelope.ParseFromString((*rows)[0].value()));
  EXPECT_EQ(envelope.dead_letter().origin_offset(), 12);
}

TEST_F(RecordApplierTest, AGroupWhoseFirstRecordIsBadCommitsTheRest) {
  CountingProcessor processor;
  RecordApplier applier(store_.get(), outbox_.get(), &processor, "kam-test");
  ASSERT_TRUE(applier.Apply({{"in", 0, 0, "a", "garbage", 0}, {"in", 0, 1, "a", "event", 0}}).ok());
  EXPECT_EQ(State("a"), "1");
  EXPECT_EQ(applier.dead_lettered_total(), 1u);
  auto next = LoadNextOffset(*store_, "in", 0);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->value_or(-1), 2);
}

TEST_F(RecordApplierTest, AStorageErrorAbortsTheBatchAndTheRetryAppliesEveryRecord) {
  CountingProcessor processor;
  RecordApplier applier(store_.get(), outbox_.get(), &processor, "kam-test");
  ASSERT_TRUE(applier.Apply({"in", 0, 0, "a", "event", 0}).ok());
  std::vector<ConsumedRecord> batch = {{"in", 0, 1, "a", "event", 0},
                                       {"in", 0, 2, "a", "storage-error", 0},
                                       {"in", 0, 3, "a", "event", 0}};
  processor.fail_storage_ = true;
  absl::Status aborted = applier.Apply(batch);
  // Not a bad record: nothing of the batch is committed, nothing is dead-lettered, the offset
  // stays where the state is.
  EXPECT_EQ(aborted.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(State("a"), "1");
  EXPECT_EQ(applier.dead_lettered_total(), 0u);
  EXPECT_EQ(applier.aborted_total(), 1u);
  auto next = LoadNextOffset(*store_, "in", 0);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->value_or(-1), 1);
  auto rows = outbox_->ReadPending(0, 10);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());

  // The consumer retries the same records from the stored offset once the store recovers.
  processor.fail_storage_ = false;
  ASSERT_TRUE(applier.Apply(batch).ok());
  EXPECT_EQ(State("a"), "4") << "every record's effect, once";
  next = LoadNextOffset(*store_, "in", 0);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->value_or(-1), 4);
}

TEST_F(RecordApplierTest, AUnitThatIsNotCommittedIsDiscarded) {
  CountingProcessor processor;
  RecordApplier applier(store_.get(), outbox_.get(), &processor, "kam-test");
  processor.fail_storage_ = true;
  EXPECT_FALSE(applier.Apply({"in", 0, 0, "a", "storage-error", 0}).ok());
  EXPECT_EQ(processor.commits_, 0);
  EXPECT_EQ(processor.discards_, 1);
}

// After a restore from a changelog (or a rewind) the consumer may read records the state already
// reflects: they are skipped, never applied twice.
TEST_F(RecordApplierTest, RecordsBelowTheStoredOffsetAreSkipped) {
  CountingProcessor processor;
  RecordApplier applier(store_.get(), outbox_.get(), &processor, "kam-test");
  ASSERT_TRUE(applier.Apply({{"in", 0, 5, "a", "event", 0}, {"in", 0, 6, "a", "event", 0}}).ok());
  ASSERT_TRUE(applier
                  .Apply({{"in", 0, 5, "a", "event", 0},
                          {"in", 0, 6, "a", "event", 0},
                          {"in", 0, 7, "a", "event", 0},
                          {"in", 1, 0, "b", "event", 0}})
                  .ok());
  EXPECT_EQ(State("a"), "3");
  EXPECT_EQ(State("b"), "1");
  EXPECT_EQ(applier.skipped_total(), 2u);
}

TEST(TaskTableTest, HealthyOnlyWhenEveryAssignedTaskRuns) {
  TaskTable tasks;
  int changes = 0;
  tasks.SetListener([&] { ++changes; });
  EXPECT_FALSE(tasks.AllRunning()) << "no assignment yet";
  tasks.AssignmentReceived();
  EXPECT_TRUE(tasks.AllRunning()) << "an empty assignment: nothing to wait for";
  tasks.Assigned(0);
  tasks.Assigned(2);
  EXPECT_FALSE(tasks.AllRunning());
  tasks.Restoring(0);
  tasks.Running(2);
  EXPECT_FALSE(tasks.AllRunning());
  EXPECT_EQ(tasks.Count(TaskState::kRestoring), 1);
  tasks.Running(0);
  EXPECT_TRUE(tasks.AllRunning());
  tasks.Closed(2);
  EXPECT_EQ(tasks.Snapshot().size(), 1u);
  EXPECT_EQ(tasks.Snapshot().at(0), TaskState::kRunning);
  EXPECT_EQ(changes, 7);
}

TEST(TaskTableDeathTest, RunningATaskThatWasNeverAssignedIsABug) {
  TaskTable tasks;
  EXPECT_DEATH(tasks.Running(5), "task lifecycle violated");
}

}  // namespace
}  // namespace kam
