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

#include "bench/book_fill.h"
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
  for (int32_t task = 0; task < 3; ++task) (*engine)->TaskRunning(task);
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

  if (!kam::bench::FillBook(brokers, {accounts, interactions, noisy})) return 1;
  kam::kafka::KafkaOptions options;
  options.brokers = brokers;
  double bare = kam::bench::BareConsume(brokers, kam::kafka_topics::kInteractions, interactions);

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
