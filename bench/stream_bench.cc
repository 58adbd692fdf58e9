// Stream-processing benchmark: how many input events per second kam-alerts' engine applies from a
// pre-filled real-Kafka topic (state, offsets and outbox rows written as in production), once with
// one RocksDB commit per record and once with groups of records per commit (what the service
// does), next to a bare librdkafka consumer reading the same topic (the ceiling), in the same run.
//
//   bench/run-stream-bench [--interactions 100000] [--accounts 2000]
// (starts a throw-away Apache Kafka broker and passes --brokers to this program)
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>

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

struct EngineRun {
  double rate = 0;
  uint64_t changes = 0;
  uint64_t commits = 0;
  uint64_t dead_letters = 0;
  size_t open_alerts = 0;
};

// Applies every pre-filled record with a fresh store, as kam-alerts does, handing the engine
// groups of at most `max_group` records per commit.
std::optional<EngineRun> RunEngine(const kam::kafka::KafkaOptions& options, uint64_t total,
                                   size_t max_group) {
  kam::testing::TempDir dir;
  auto store =
      kam::Store::Open({.path = dir.Sub("db")}, kam::alerts::AlertsEngine::ColumnFamilies());
  if (!store.ok()) return std::nullopt;
  auto outbox = kam::Outbox::Open(store->get());
  if (!outbox.ok()) return std::nullopt;
  auto engine = kam::alerts::AlertsEngine::Open(store->get(), outbox->get(), {});
  if (!engine.ok()) return std::nullopt;
  kam::RecordApplier applier(store->get(), outbox->get(), engine->get(), "bench");
  auto consumer = kam::kafka::KafkaConsumer::Create(
      options, "bench-alerts-" + std::to_string(max_group),
      {kam::kafka_topics::kAccounts, kam::kafka_topics::kInteractions}, store->get());
  if (!consumer.ok()) return std::nullopt;
  auto handler = [&](const std::vector<kam::ConsumedRecord>& records) {
    return applier.Apply(records);
  };
  Clock::time_point first{};
  while (applier.applied_total() + applier.dead_lettered_total() < total) {
    auto polled = (*consumer)->PollGroup(1000, max_group, handler);
    if (!polled.ok()) {
      std::fprintf(stderr, "consume failed: %s\n", polled.status().ToString().c_str());
      return std::nullopt;
    }
    if (*polled > 0 && first == Clock::time_point{}) first = Clock::now();
  }
  EngineRun run;
  run.rate = total / std::chrono::duration<double>(Clock::now() - first).count();
  run.changes = (*engine)->changes_total();
  run.commits = applier.batches_total();
  run.dead_letters = applier.dead_lettered_total();
  kam::v1::ListAlertsRequest request;
  request.set_state(kam::v1::ALERT_STATE_FIRING);
  request.set_page_size(1000);
  while (true) {
    auto page = (*engine)->ListAlerts(request);
    if (!page.ok()) return std::nullopt;
    run.open_alerts += page->alerts_size();
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  std::string brokers;
  int interactions = 100000;
  int accounts = 2000;
  CLI::App app{"kam-bench-stream: alerts engine vs a bare consumer on real Kafka"};
  app.add_option("--brokers", brokers, "a real Kafka broker (bench/run-stream-bench starts one)")
      ->required();
  app.add_option("--interactions", interactions)->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--accounts", accounts)->check(CLI::PositiveNumber)->capture_default_str();
  bool noisy = false;
  app.add_flag("--noisy", noisy,
               "answers unrelated week to week (alert changes for about a quarter of the events) "
               "instead of steady accounts and one in 20 sliding");
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
      const int week = i / accounts;
      int nps;
      if (noisy) {
        nps = (week + i) % 11;  // every answer unrelated to the last: alerts churn
      } else if ((i % accounts) % 20 == 0) {
        nps = std::max(0, 9 - week * 8 / 52);  // one account in 20 slides over the year
      } else {
        nps = 8 + static_cast<int>(std::hash<int>()(i * 7919) % 3);  // steady, 8 to 10
      }
      interaction->mutable_survey()->set_nps(nps);
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

  const uint64_t total = static_cast<uint64_t>(accounts) + interactions;
  auto per_record = RunEngine(options, total, 1);
  auto grouped = RunEngine(options, total, kam::kafka::KafkaConsumer::kMaxGroup);
  if (!per_record || !grouped) return 1;
  std::printf("\n| consumer | events/s | ratio to ceiling |\n|---|---:|---:|\n");
  std::printf("| bare librdkafka consumer (ceiling), interactions topic | %.0f | 100%% |\n", bare);
  std::printf("| alerts engine, one commit per record | %.0f | %.1f%% |\n", per_record->rate,
              100 * per_record->rate / bare);
  std::printf("| alerts engine, groups of up to %zu records per commit | %.0f | %.1f%% |\n",
              kam::kafka::KafkaConsumer::kMaxGroup, grouped->rate, 100 * grouped->rate / bare);
  std::printf(
      "\nalert changes produced: %lu / %lu (per record / grouped; must be equal); "
      "commits: %lu / %lu; dead letters: %lu / %lu\n",
      static_cast<unsigned long>(per_record->changes), static_cast<unsigned long>(grouped->changes),
      static_cast<unsigned long>(per_record->commits), static_cast<unsigned long>(grouped->commits),
      static_cast<unsigned long>(per_record->dead_letters),
      static_cast<unsigned long>(grouped->dead_letters));
  if (per_record->changes != grouped->changes || per_record->open_alerts != grouped->open_alerts) {
    std::fprintf(stderr, "grouped and per-record runs disagree (open alerts %zu vs %zu)\n",
                 per_record->open_alerts, grouped->open_alerts);
    return 1;
  }
  return 0;
}
