// The outbox's promises, with a crash simulated between every two steps: every committed event
// reaches Kafka exactly once, in commit order per partition, whatever dies when.

#include "common/outbox_relay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "tests/common/fake_publisher.h"
#include "tests/testing/temp_dir.h"

namespace kam {
namespace {

constexpr char kTopic[] = "kam.test.v1";

class OutboxRelayTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  // Drops every in-memory object, as kill -9 would, and opens the same directory again.
  void Reopen() {
    relay_.reset();
    outbox_.reset();
    store_.reset();
    auto store = Store::Open({.path = dir_.Sub("db")}, {"state"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto outbox = Outbox::Open(store_.get());
    ASSERT_TRUE(outbox.ok()) << outbox.status();
    outbox_ = std::move(*outbox);
    relay_ = std::make_unique<OutboxRelay>(outbox_.get(), &kafka_,
                                           RelayOptions{.batch_size = 100, .topics = {kTopic}});
  }

  // Commits `count` events, each with a state row, keyed over a few keys.
  void CommitEvents(int first, int count) {
    for (int i = first; i < first + count; ++i) {
      rocksdb::WriteBatch batch;
      ASSERT_TRUE(batch.Put(store_->Cf("state"), "k" + std::to_string(i), "v").ok());
      OutboundEvent event;
      event.topic = kTopic;
      event.key = "key-" + std::to_string(i % 7);
      event.event_id = "event-" + std::to_string(i);
      event.raw_value = "value-" + std::to_string(i);
      ASSERT_TRUE(outbox_->Commit(&batch, {event}).ok());
    }
  }

  void DrainRelay() {
    ASSERT_TRUE(relay_->Sync().ok());
    for (int i = 0; i < 100; ++i) {
      auto moved = relay_->RunOnce();
      ASSERT_TRUE(moved.ok()) << moved.status();
      if (*moved == 0) return;
    }
    FAIL() << "relay did not drain";
  }

  // Each event id exactly once; within each partition, sequences strictly increase.
  void ExpectExactlyOnceInOrder(int expected) {
    std::multiset<std::string> ids;
    for (const auto& record : kafka_.All(kTopic)) ids.insert(record.event_id);
    EXPECT_EQ(ids.size(), static_cast<size_t>(expected));
    for (int i = 0; i < expected; ++i) {
      EXPECT_EQ(ids.count("event-" + std::to_string(i)), 1u) << "event-" << i;
    }
    for (int p = 0; p < 3; ++p) {
      uint64_t last = 0;
      for (const auto& record : kafka_.Partition(kTopic, p)) {
        EXPECT_GT(record.sequence, last) << "partition " << p << " out of order";
        last = record.sequence;
      }
    }
    auto pending = outbox_->CountPending();
    ASSERT_TRUE(pending.ok());
    EXPECT_EQ(*pending, 0u);
  }

  testing::TempDir dir_;
  testing::FakePublisher kafka_{"kam-test"};
  std::unique_ptr<Store> store_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<OutboxRelay> relay_;
};

TEST_F(OutboxRelayTest, CommitWritesStateAndOutboxRowTogether) {
  CommitEvents(0, 3);
  auto pending = outbox_->CountPending();
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(*pending, 3u);
  auto state = store_->Get("state", "k2");
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->has_value());
  EXPECT_EQ(outbox_->last_sequence(), 3u);
}

TEST_F(OutboxRelayTest, PublishesEveryRowOnceAndEmptiesTheOutbox) {
  CommitEvents(0, 250);
  DrainRelay();
  ExpectExactlyOnceInOrder(250);
  EXPECT_EQ(relay_->published_total(), 250u);
}

TEST_F(OutboxRelayTest, CrashAfterCommitBeforePublishLosesNothing) {
  CommitEvents(0, 20);
  Reopen();
  DrainRelay();
  ExpectExactlyOnceInOrder(20);
}

TEST_F(OutboxRelayTest, CrashAfterPublishBeforeDeleteDoesNotPublishTwice) {
  CommitEvents(0, 20);
  ASSERT_TRUE(relay_->Sync().ok());
  kafka_.lose_acks = true;
  EXPECT_FALSE(relay_->RunOnce().ok());
  auto pending = outbox_->CountPending();
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(*pending, 20u) << "rows must stay until their delivery is confirmed";
  Reopen();
  DrainRelay();
  ExpectExactlyOnceInOrder(20);
  EXPECT_EQ(relay_->skipped_total(), 20u);
  EXPECT_EQ(relay_->published_total(), 0u);
}

TEST_F(OutboxRelayTest, CrashMidBatchResumesWhereKafkaStopped) {
  CommitEvents(0, 40);
  ASSERT_TRUE(relay_->Sync().ok());
  kafka_.deliver_limit = 13;
  kafka_.lose_acks = true;  // and the process never saw the 13 reports either
  EXPECT_FALSE(relay_->RunOnce().ok());
  Reopen();
  DrainRelay();
  ExpectExactlyOnceInOrder(40);
  EXPECT_EQ(relay_->skipped_total(), 13u);
}

TEST_F(OutboxRelayTest, BrokerOutageKeepsRowsUntilItReturns) {
  ASSERT_TRUE(relay_->Sync().ok());
  kafka_.unavailable = true;
  CommitEvents(0, 10);  // writes are accepted while Kafka is down
  EXPECT_FALSE(relay_->RunOnce().ok());
  CommitEvents(10, 5);
  kafka_.unavailable = false;
  DrainRelay();
  ExpectExactlyOnceInOrder(15);
}

TEST_F(OutboxRelayTest, SequenceSurvivesRestartAfterOutboxEmptied) {
  CommitEvents(0, 5);
  DrainRelay();
  Reopen();
  EXPECT_EQ(outbox_->last_sequence(), 5u);
  CommitEvents(5, 5);
  DrainRelay();
  ExpectExactlyOnceInOrder(10);
}

TEST_F(OutboxRelayTest, WipedStoreContinuesAboveWhatKafkaHolds) {
  // Kafka kept sequences 1..50 from an earlier life of this service; the store is new.
  for (uint64_t seq = 1; seq <= 50; ++seq) {
    kafka_.Append(kTopic, static_cast<int32_t>(seq % 3), {"kam-test", seq, "old", "old", "old"});
  }
  ASSERT_TRUE(relay_->Sync().ok());
  EXPECT_EQ(outbox_->last_sequence(), 50u);
  CommitEvents(0, 10);
  DrainRelay();
  int fresh = 0;
  for (const auto& record : kafka_.All(kTopic)) fresh += record.event_id != "old";
  EXPECT_EQ(fresh, 10) << "new events must not be mistaken for already published ones";
}

TEST_F(OutboxRelayTest, OtherProducersOnTheTopicDoNotCount) {
  kafka_.Append(kTopic, 0, {"someone-else", 1000, "k", "v", "foreign"});
  CommitEvents(0, 10);
  DrainRelay();
  int ours = 0;
  for (const auto& record : kafka_.All(kTopic)) ours += record.producer == "kam-test";
  EXPECT_EQ(ours, 10);
}

TEST_F(OutboxRelayTest, RunOnceRefusesToPublishBeforeSync) {
  CommitEvents(0, 1);
  EXPECT_EQ(relay_->RunOnce().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(OutboxRelayTest, EnvelopeCarriesItsProducerSequence) {
  rocksdb::WriteBatch batch;
  OutboundEvent event;
  event.topic = kTopic;
  event.key = "a";
  event.event_id = "e1";
  event.envelope.emplace();
  event.envelope->set_event_id("e1");
  ASSERT_TRUE(outbox_->Commit(&batch, {event}).ok());
  DrainRelay();
  auto all = kafka_.All(kTopic);
  ASSERT_EQ(all.size(), 1u);
  kam::v1::EventEnvelope envelope;
  ASSERT_TRUE(envelope.ParseFromString(all[0].value));
  EXPECT_EQ(envelope.producer_sequence(), all[0].sequence);
}

}  // namespace
}  // namespace kam
