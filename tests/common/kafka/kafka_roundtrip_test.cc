// The same producer, relay and consumer code against both brokers: the embedded mock cluster
// (kam-broker) and a real Apache Kafka (KRaft, started by the CTest fixture). Only the bootstrap
// address differs.

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "common/kafka/consumer.h"
#include "common/kafka/kafka_common.h"
#include "common/kafka/publisher.h"
#include "common/outbox_relay.h"
#include "common/record_applier.h"
#include "tests/testing/temp_dir.h"
#include "tools/broker/mock_broker.h"

namespace kam {
namespace {

using kafka::KafkaOptions;

// Remembers every envelope it applies (once its group is committed); the store keeps one row per
// event id.
class CollectingProcessor : public StreamProcessor {
 public:
  class Unit : public UnitOfWork {
   public:
    Unit(CollectingProcessor* processor, StagedBatch* batch)
        : processor_(processor), batch_(batch) {}
    absl::Status Apply(const ConsumedRecord& record) override {
      kam::v1::EventEnvelope envelope;
      if (!envelope.ParseFromString(record.value))
        return absl::InvalidArgumentError("not an envelope");
      pending_.push_back(envelope.event_id());
      return batch_->Put("seen", envelope.event_id(), record.key);
    }
    void Committed() override {
      std::lock_guard<std::mutex> lock(processor_->mutex_);
      processor_->ids_.insert(processor_->ids_.end(), pending_.begin(), pending_.end());
    }

   private:
    CollectingProcessor* processor_;
    StagedBatch* batch_;
    std::vector<std::string> pending_;
  };

  std::unique_ptr<UnitOfWork> Begin(StagedBatch* batch, std::vector<OutboundEvent>*) override {
    return std::make_unique<Unit>(this, batch);
  }
  std::vector<std::string> ids() {
    std::lock_guard<std::mutex> lock(mutex_);
    return ids_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> ids_;
};

class KafkaRoundTripTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    topic_ = "kam.roundtrip." + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "." + std::to_string(counter_++);
    if (GetParam() == "mock") {
      auto broker = MockBroker::Start(1, 3, "127.0.0.1:0");
      ASSERT_TRUE(broker.ok()) << broker.status();
      mock_ = std::move(*broker);
      ASSERT_TRUE(mock_->CreateTopic(topic_, 3).ok());
      options_.brokers = mock_->bootstrap();
    } else {
      options_.brokers = testing::RealKafkaBootstrap();
      ASSERT_FALSE(options_.brokers.empty())
          << "no real Kafka: run through ctest (fixture kafka_broker_start) or set "
             "KAM_TEST_KAFKA_BOOTSTRAP";
      ASSERT_TRUE(kafka::EnsureTopics(options_, {topic_}, 3, 30000).ok());
    }
    // Short sessions: a test's second consumer should not wait out the first one's session.
    options_.extra = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    ASSERT_TRUE(kafka::WaitForBroker(options_, 30000).ok());
    auto store = Store::Open({.path = dir_.Sub("producer")}, {});
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    auto outbox = Outbox::Open(store_.get());
    ASSERT_TRUE(outbox.ok());
    outbox_ = std::move(*outbox);
  }

  void Commit(int first, int count) {
    for (int i = first; i < first + count; ++i) {
      rocksdb::WriteBatch batch;
      OutboundEvent event;
      event.topic = topic_;
      event.key = "account-" + std::to_string(i % 5);
      event.event_id = "event-" + std::to_string(i);
      event.envelope.emplace();
      event.envelope->set_event_id(event.event_id);
      event.envelope->set_subject(event.key);
      ASSERT_TRUE(outbox_->Commit(&batch, {event}).ok());
    }
  }

  void Drain(OutboxRelay* relay) {
    // As the relay's Run does: a broker still loading its coordinators answers a moment later.
    ASSERT_TRUE(testing::WaitFor([&] { return relay->Sync().ok(); }));
    ASSERT_TRUE(testing::WaitFor([&] {
      auto moved = relay->RunOnce();
      EXPECT_TRUE(moved.ok()) << moved.status();
      auto pending = outbox_->CountPending();
      return pending.ok() && *pending == 0;
    }));
  }

  // Consumes the topic from a fresh store until `expected` events arrived (or the deadline).
  std::vector<std::string> ConsumeAll(size_t expected) {
    auto store = Store::Open({.path = dir_.Sub("consumer")}, {"seen"});
    EXPECT_TRUE(store.ok());
    auto outbox = Outbox::Open(store->get());
    CollectingProcessor processor;
    RecordApplier applier(store->get(), outbox->get(), &processor, "kam-roundtrip");
    auto consumer =
        kafka::KafkaConsumer::Create(options_, "roundtrip-" + topic_, {topic_}, store->get());
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    auto handler = [&](const std::vector<ConsumedRecord>& records) {
      return applier.Apply(records);
    };
    testing::WaitFor(
        [&] {
          auto polled = (*consumer)->PollGroup(100, kafka::KafkaConsumer::kMaxGroup, handler);
          EXPECT_TRUE(polled.ok()) << polled.status();
          return processor.ids().size() >= expected;
        },
        std::chrono::seconds(60));
    // A little longer, to catch duplicates arriving after the expected count.
    for (int i = 0; i < 5; ++i) {
      auto polled = (*consumer)->PollGroup(100, kafka::KafkaConsumer::kMaxGroup, handler);
      EXPECT_TRUE(polled.ok());
    }
    return processor.ids();
  }

  static inline int counter_ = 0;
  std::string topic_;
  std::unique_ptr<MockBroker> mock_;
  KafkaOptions options_;
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Outbox> outbox_;
  std::atomic<bool> stop_{false};
};

TEST_P(KafkaRoundTripTest, EveryCommittedEventArrivesOnceInKeyOrder) {
  auto publisher = kafka::KafkaPublisher::Create(options_, "kam-roundtrip", &stop_);
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  OutboxRelay relay(outbox_.get(), publisher->get(), {.batch_size = 64, .topics = {topic_}});
  Commit(0, 200);
  Drain(&relay);
  std::vector<std::string> ids = ConsumeAll(200);
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(ids.size(), 200u);
  EXPECT_EQ(unique.size(), 200u);
}

TEST_P(KafkaRoundTripTest, RestartAfterPublishBeforeDeleteSendsNothingTwice) {
  Commit(0, 30);
  {
    // A first life: publish every row but "die" before deleting any of them.
    auto publisher = kafka::KafkaPublisher::Create(options_, "kam-roundtrip", &stop_);
    ASSERT_TRUE(publisher.ok());
    auto rows = outbox_->ReadPending(0, 100);
    ASSERT_TRUE(rows.ok());
    std::vector<PublishRecord> records;
    for (const auto& row : *rows) {
      auto partition = (*publisher)->PartitionFor(row.topic(), row.key());
      ASSERT_TRUE(partition.ok());
      records.push_back(
          {row.sequence(), row.topic(), *partition, row.key(), row.value(), row.event_id()});
    }
    std::vector<bool> delivered;
    ASSERT_TRUE((*publisher)->Publish(records, &delivered).ok());
  }
  // The second life reads the partition tails and only sends what is new.
  Commit(30, 10);
  auto publisher = kafka::KafkaPublisher::Create(options_, "kam-roundtrip", &stop_);
  ASSERT_TRUE(publisher.ok());
  OutboxRelay relay(outbox_.get(), publisher->get(), {.batch_size = 64, .topics = {topic_}});
  Drain(&relay);
  EXPECT_EQ(relay.skipped_total(), 30u);
  EXPECT_EQ(relay.published_total(), 10u);
  std::vector<std::string> ids = ConsumeAll(40);
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(ids.size(), 40u);
  EXPECT_EQ(unique.size(), 40u);
}

TEST_P(KafkaRoundTripTest, ConsumerResumesFromOffsetsStoredWithState) {
  auto publisher = kafka::KafkaPublisher::Create(options_, "kam-roundtrip", &stop_);
  ASSERT_TRUE(publisher.ok());
  OutboxRelay relay(outbox_.get(), publisher->get(), {.batch_size = 64, .topics = {topic_}});
  Commit(0, 20);
  Drain(&relay);
  EXPECT_EQ(ConsumeAll(20).size(), 20u);
  Commit(20, 7);
  Drain(&relay);
  // Same consumer store, new process: only the 7 new events are applied.
  EXPECT_EQ(ConsumeAll(7).size(), 7u);
}

INSTANTIATE_TEST_SUITE_P(Brokers, KafkaRoundTripTest, ::testing::Values("mock", "real"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kam
