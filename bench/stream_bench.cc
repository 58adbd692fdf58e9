// Stream-processing benchmark: how many input events per second kam-alerts' engine applies from a
// pre-filled real-Kafka topic (state, offsets and outbox rows written as in production: one
// RocksDB WriteBatch per record), next to a bare librdkafka consumer reading the same topic (the
// ceiling), in the same run.
//
//   bench/run-stream-bench [--interactions 100000] [--accounts 2000]
// (starts a throw-away Apache Kafka broker and passes --brokers to this program)
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "common/kafka/consumer.h"
#include "common/kafka/kafka_common.h"
#include "common/kafka_topics.h"
#include "common/logging.h"
#include "common/record_applier.h"
#include "common/time_util.h"
#include "services/alerts/alerts_engine.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace {

using Clock = std::chrono::steady_clock;

double BareConsume(const std::string& brokers, const std::string& topic, int64_t expected) {
  kam::kafka::KafkaOptions options;
  options.brokers = brokers;
  auto conf = kam::kafka::NewConf(options, {{"group.id", "bench-bare"},
                                            {"enable.auto.commit", "false"},
                                            {"auto.offset.reset", "earliest"}});
  auto consumer = kam::kafka::NewHandle(RD_KAFKA_CONSUMER, *conf);
  auto partitions = kam::kafka::PartitionCount(consumer->get(), topic, 10000);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(*partitions);
  for (int32_t p = 0; p < *partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(consumer->get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  int64_t seen = 0;
  uint64_t bytes = 0;
  auto start = Clock::now();
  while (seen < expected) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer->get(), 1000);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++seen;
      bytes += message->len;  // touch the payload, as any consumer would
    }
    rd_kafka_message_destroy(message);
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  rd_kafka_consumer_close(consumer->get());
  return seen / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  std::string brokers;
  int interactions = 100000;
  int accounts = 2000;
  CLI::App app{"kam-bench-stream: alerts engine vs a bare consumer on real Kafka"};
  app.add_option("--brokers", brokers, "a real Kafka broker (bench/run-stream-bench starts one)")
      ->required();
  app.add_option("--interactions", interactions)->capture_default_str();
  app.add_option("--accounts", accounts)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  kam::log::SetLevel(kam::log::Level::kWarn);

  kam::kafka::KafkaOptions options;
  options.brokers = brokers;
  if (!kam::kafka::EnsureTopics(options,
                                {kam::kafka_topics::kAccounts, kam::kafka_topics::kManagers,
                                 kam::kafka_topics::kInteractions, kam::kafka_topics::kAlerts,
                                 kam::kafka_topics::kDeadLetter},
                                3, 30000)
           .ok()) {
    std::fprintf(stderr, "cannot create topics on %s\n", brokers.c_str());
    return 1;
  }
  // Pre-fill: accounts, then a year of weekly survey answers and calls spread over them.
  const int64_t start = kam::MillisFromTimestamp(kam::NowTimestamp()) - 365LL * 86400000;
  std::vector<std::vector<std::pair<std::string, std::string>>> account_records(3),
      interaction_records(3);
  auto partition_of = [](const std::string& key) {
    return static_cast<int>(std::hash<std::string>()(key) % 3);
  };
  for (int a = 0; a < accounts; ++a) {
    std::string id = "acc_" + std::to_string(a);
    kam::v1::EventEnvelope envelope;
    *envelope.mutable_time() = kam::TimestampFromMillis(start);
    auto* account = envelope.mutable_account_created()->mutable_account();
    account->set_id(id);
    account->set_name("Account " + id);
    account->set_tier(a % 10 == 0 ? kam::v1::TIER_A : kam::v1::TIER_C);
    account->set_owner_manager_id("mgr_" + std::to_string(a % 50));
    account_records[partition_of(id)].emplace_back(id, envelope.SerializeAsString());
  }
  for (int i = 0; i < interactions; ++i) {
    std::string account = "acc_" + std::to_string(i % accounts);
    kam::v1::EventEnvelope envelope;
    auto* interaction = envelope.mutable_interaction_recorded()->mutable_interaction();
    interaction->set_id("int_" + std::to_string(i));
    interaction->set_account_id(account);
    int64_t at = start + static_cast<int64_t>(i / accounts) * 7 * 86400000LL;
    *interaction->mutable_occur_time() = kam::TimestampFromMillis(at);
    *envelope.mutable_time() = interaction->occur_time();
    if (i % 2 == 0) {
      interaction->set_type(kam::v1::INTERACTION_TYPE_SURVEY);
      interaction->mutable_survey()->set_nps(static_cast<int>((i / accounts + i) % 11));
    } else {
      interaction->set_type(kam::v1::INTERACTION_TYPE_CALL);
      interaction->set_note("weekly call");
    }
    interaction_records[partition_of(account)].emplace_back(account, envelope.SerializeAsString());
  }
  auto fill_start = Clock::now();
  for (int p = 0; p < 3; ++p) {
    if (!kam::testing::ProduceRecords(brokers, kam::kafka_topics::kAccounts, p,
                                      account_records[p]) ||
        !kam::testing::ProduceRecords(brokers, kam::kafka_topics::kInteractions, p,
                                      interaction_records[p])) {
      std::fprintf(stderr, "pre-fill failed\n");
      return 1;
    }
  }
  std::printf("pre-filled %d accounts and %d interactions in %.1f s\n", accounts, interactions,
              std::chrono::duration<double>(Clock::now() - fill_start).count());

  double bare = BareConsume(brokers, kam::kafka_topics::kInteractions, interactions);

  kam::testing::TempDir dir;
  auto store =
      kam::Store::Open({.path = dir.Sub("db")}, kam::alerts::AlertsEngine::ColumnFamilies());
  auto outbox = kam::Outbox::Open(store->get());
  auto engine = kam::alerts::AlertsEngine::Open(store->get(), outbox->get(), {});
  kam::RecordApplier applier(store->get(), outbox->get(), engine->get(), "bench");
  auto consumer = kam::kafka::KafkaConsumer::Create(
      options, "bench-alerts", {kam::kafka_topics::kAccounts, kam::kafka_topics::kInteractions},
      store->get());
  if (!store.ok() || !outbox.ok() || !engine.ok() || !consumer.ok()) return 1;
  const uint64_t total = static_cast<uint64_t>(accounts) + interactions;
  auto handler = [&](const kam::ConsumedRecord& record) { return applier.Apply(record); };
  Clock::time_point first{};
  while (applier.applied_total() + applier.dead_lettered_total() < total) {
    auto polled = (*consumer)->PollOnce(1000, handler);
    if (!polled.ok()) {
      std::fprintf(stderr, "consume failed: %s\n", polled.status().ToString().c_str());
      return 1;
    }
    if (*polled && first == Clock::time_point{}) first = Clock::now();
  }
  double seconds = std::chrono::duration<double>(Clock::now() - first).count();
  double applied = total / seconds;
  auto pending = (*outbox)->CountPending();
  std::printf("\n| consumer | events/s |\n|---|---:|\n");
  std::printf("| bare librdkafka consumer (ceiling), interactions topic | %.0f |\n", bare);
  std::printf("| alerts engine: state + offsets + outbox, one WriteBatch per record | %.0f |\n",
              applied);
  std::printf("| ratio | %.0f%% |\n", 100 * applied / bare);
  std::printf("\nalert changes produced: %lu (outbox rows: %lu); dead letters: %lu\n",
              static_cast<unsigned long>((*engine)->changes_total()),
              static_cast<unsigned long>(pending.value_or(0)),
              static_cast<unsigned long>(applier.dead_lettered_total()));
  return 0;
}
