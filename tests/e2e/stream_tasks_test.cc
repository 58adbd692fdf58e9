// The consumer side as stream tasks, seen from outside: a kam-alerts killed with -9 and restarted
// on the same disk processes again within seconds (static group membership: it is not made to
// wait for the group's session timeout), health says NOT_SERVING until its tasks run, and a store
// written against one Kafka cluster is refused against another.

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "common/kafka/kafka_common.h"
#include "common/store.h"
#include "common/time_util.h"
#include "kam/v1/events.pb.h"
#include "nlohmann/json.hpp"
#include "rocksdb/db.h"
#include "tests/testing/alert_stream.h"
#include "tests/testing/process.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace kam {
namespace {

using Clock = std::chrono::steady_clock;

// Writes one account event to every partition of kam.accounts.v1 and waits until `service` has
// applied at least `at_least` records in total.
bool AppliesARecord(const testing::RunningService& service, const std::string& brokers,
                    const std::string& tag, double at_least) {
  for (int32_t partition = 0; partition < 3; ++partition) {
    std::string id = "acc-" + tag + "-" + std::to_string(partition);
    if (!testing::ProduceRecords(brokers, "kam.accounts.v1", partition,
                                 {{id, testing::AccountCreatedEvent(id, "mgr-restart")}})) {
      return false;
    }
  }
  return testing::WaitFor(
      [&] {
        return testing::ScrapeMetric(service.metrics_port, "kam_consumer_applied_total") >=
               at_least;
      },
      std::chrono::seconds(120));
}

TEST(StreamTasksTest, KilledAndRestartedOnTheSameDiskProcessesAgainWithinSeconds) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  // A session timeout far above what a restart may take: if the restarted instance had to wait
  // for its old membership to expire, it would not be processing within 30 s.
  const std::vector<std::string> args = {"--session-timeout-ms", "60000"};
  auto first =
      testing::StartService("kam-alerts", brokers, dir.Sub("alerts"), dir.Sub("first"), args);
  ASSERT_TRUE(first.process) << first.address;
  ASSERT_TRUE(AppliesARecord(first, brokers, "before", 3)) << first.process->Stderr();

  first.process->Signal(SIGKILL);
  first.process->Wait(std::chrono::seconds(10));
  const auto restarted_at = Clock::now();
  auto second =
      testing::StartService("kam-alerts", brokers, dir.Sub("alerts"), dir.Sub("second"), args);
  ASSERT_TRUE(second.process) << second.address;
  const auto serving_after = Clock::now() - restarted_at;
  // Processing, not only SERVING: fresh records on every partition are applied.
  ASSERT_TRUE(AppliesARecord(second, brokers, "after", 3)) << second.process->Stderr();
  const auto processing_after = Clock::now() - restarted_at;
  const auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  ::testing::Test::RecordProperty("serving_after_restart_ms", std::to_string(ms(serving_after)));
  ::testing::Test::RecordProperty("processing_after_restart_ms",
                                  std::to_string(ms(processing_after)));
  std::printf("kill -9 -> restart: SERVING after %lld ms, processing after %lld ms\n",
              static_cast<long long>(ms(serving_after)),
              static_cast<long long>(ms(processing_after)));
  EXPECT_LT(processing_after, std::chrono::seconds(30))
      << "the restarted instance waited for its old membership to expire";
  // It took its own partitions back: every task of the group runs here.
  EXPECT_EQ(testing::ScrapeMetric(second.metrics_port, "kam_tasks{state=\"running\"}"), 3);
}

// The views (alerts, KPIs, silences) keep a local copy of what they read from the changelog: a
// restarted instance starts them from it and reads from Kafka only what the changelog gained since,
// not the whole changelog again.
TEST(StreamTasksTest, ARestartedInstanceStartsItsViewsFromTheirLocalCopy) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  // No idle punctuation: the changelog grows only with the records written here.
  const std::vector<std::string> args = {"--idle-seconds", "3600"};
  auto first =
      testing::StartService("kam-alerts", brokers, dir.Sub("alerts"), dir.Sub("first"), args);
  ASSERT_TRUE(first.process) << first.address;
  ASSERT_TRUE(AppliesARecord(first, brokers, "copied", 3)) << first.process->Stderr();
  const std::string changelog = first.group + ".changelog.v1";
  // Stopped once its views have read every record of the changelog.
  double first_read = 0;
  ASSERT_TRUE(testing::WaitFor([&] {
    first_read =
        testing::ScrapeMetric(first.metrics_port, "kam_alerts_view_changelog_records_total");
    return first_read >= 3 && first_read == testing::ReadTopic(brokers, changelog).size();
  }));
  const double alerts_before = testing::ScrapeMetric(first.metrics_port, "kam_alerts_view_alerts");
  const double kpis_before = testing::ScrapeMetric(first.metrics_port, "kam_kpi_accounts");
  ASSERT_GT(kpis_before, 0) << "the views hold something to hand over";
  first.process->Signal(SIGTERM);
  ASSERT_EQ(first.process->Wait(std::chrono::seconds(30)), 0) << first.process->Stderr();

  auto second =
      testing::StartService("kam-alerts", brokers, dir.Sub("alerts"), dir.Sub("second"), args);
  ASSERT_TRUE(second.process) << second.address;
  EXPECT_NE(second.process->Stderr().find("\"changelog view restored from its local copy\""),
            std::string::npos)
      << second.process->Stderr();
  // What it read from Kafka is at most what the changelog gained since the stop (its own first
  // transactions may add some): not the records the first instance had read.
  const double second_read =
      testing::ScrapeMetric(second.metrics_port, "kam_alerts_view_changelog_records_total");
  const double now_in_changelog = testing::ReadTopic(brokers, changelog).size();
  ASSERT_GE(second_read, 0) << "no metric";
  EXPECT_LE(second_read, now_in_changelog - first_read)
      << "the restarted views read the changelog again from its beginning";
  // ... and hold what they held before the stop.
  EXPECT_EQ(testing::ScrapeMetric(second.metrics_port, "kam_kpi_accounts"), kpis_before);
  EXPECT_EQ(testing::ScrapeMetric(second.metrics_port, "kam_alerts_view_alerts"), alerts_before);
}

TEST(StreamTasksTest, AStoreWrittenAgainstAnotherClusterIsRefusedWithAClearMessage) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  auto alerts = testing::StartService("kam-alerts", brokers, dir.Sub("alerts"), dir.Sub("real"));
  ASSERT_TRUE(alerts.process) << alerts.address;
  ASSERT_TRUE(AppliesARecord(alerts, brokers, "bound", 3)) << alerts.process->Stderr();
  alerts.process->Signal(SIGTERM);
  ASSERT_EQ(alerts.process->Wait(std::chrono::seconds(30)), 0);

  // Another cluster: the embedded broker.
  testing::Process broker({testing::BinDir() + "/kam-broker", "--listen", "127.0.0.1:0"},
                          dir.Sub("broker"));
  std::string bootstrap;
  ASSERT_TRUE(testing::WaitFor([&] {
    bootstrap = broker.Stdout();
    return !bootstrap.empty() && bootstrap.back() == '\n';
  }));
  bootstrap.pop_back();
  testing::Process refused(
      {testing::BinDir() + "/kam-alerts", "--listen", "127.0.0.1:0", "--metrics-listen", "",
       "--kafka-brokers", bootstrap, "--data-dir", dir.Sub("alerts")},
      dir.Sub("refused"));
  EXPECT_EQ(refused.Wait(std::chrono::seconds(60)), 1);
  const std::string log = refused.Stderr();
  EXPECT_NE(log.find("holds state written against Kafka cluster"), std::string::npos) << log;
  EXPECT_NE(log.find("empty --data-dir"), std::string::npos) << log;
  EXPECT_EQ(log.find("\"msg\":\"serving\""), std::string::npos) << "it must not start";
}

// Every key and value of the column families that make up a task's state (and the input offsets),
// read from a stopped service's data dir.
std::map<std::string, std::string> DumpTaskState(const std::string& path) {
  std::map<std::string, std::string> dump;
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(
      rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, descriptors, &handles, &raw).ok());
  if (raw == nullptr) return dump;
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::set<std::string> task_state = {"alert_accounts", "alert_managers", "alerts",
                                            "latest",         "timers",         "parked",
                                            "clock",          "offsets"};
  for (size_t i = 0; i < names.size(); ++i) {
    if (task_state.count(names[i])) {
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        dump[names[i] + "/" + it->key().ToString()] = it->value().ToString();
      }
    }
    db->DestroyColumnFamilyHandle(handles[i]);
  }
  return dump;
}

// The restore test of the stream-tasks issue: an instance's data dir is deleted; after a restart
// its state equals the state before -- every key of every task column family -- restored from
// the changelog alone (no input record is applied again), and its offsets equal the ones Kafka
// committed for the group inside the transactions.
TEST(StreamTasksTest, ADeletedDataDirIsRestoredFromTheChangelogKeyForKey) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  const std::string tag = "restore" + std::to_string(MillisFromTimestamp(NowTimestamp()));
  // StartService names the group after the data dir: the same for both lives.
  const std::string group =
      "kam-alerts-" + std::to_string(std::hash<std::string>()(dir.Sub("alerts")));
  // A fixed instance id: the second life replaces the first one's static membership at once.
  const std::vector<std::string> args = {"--instance-id", tag};
  auto first =
      testing::StartService("kam-alerts", brokers, dir.Sub("alerts"), dir.Sub("first"), args);
  ASSERT_TRUE(first.process) << first.address;
  // Accounts on every partition, each with answers sliding over six weeks: alerts, timers, signals.
  const int64_t start = MillisFromTimestamp(NowTimestamp()) - 60LL * 24 * 3600 * 1000;
  const int64_t week = 7LL * 24 * 3600 * 1000;
  std::map<int32_t, std::vector<std::pair<std::string, std::string>>> accounts, surveys;
  const int answers[] = {9, 9, 8, 6, 4, 3};
  for (int a = 0; a < 30; ++a) {
    const std::string id = tag + "-acc-" + std::to_string(a);
    const int32_t p = a % 3;
    accounts[p].emplace_back(id, testing::AccountCreatedEvent(id, "mgr-restart"));
    for (int w = 0; w < 6; ++w) {
      surveys[p].emplace_back(id, testing::SurveyEvent(id, id + "-s" + std::to_string(w),
                                                       start + w * week, a % 2 ? answers[w] : 9));
    }
  }
  for (int32_t p = 0; p < 3; ++p) {
    ASSERT_TRUE(testing::ProduceRecords(brokers, "kam.accounts.v1", p, accounts[p]));
    ASSERT_TRUE(testing::ProduceRecords(brokers, "kam.interactions.v1", p, surveys[p]));
  }
  // Everything applied: the ends of the inputs are where the store resumes.
  auto ends_accounts = testing::EndOffsets(brokers, "kam.accounts.v1");
  auto ends_interactions = testing::EndOffsets(brokers, "kam.interactions.v1");
  // 30 account events, 180 answers and at least one portfolio fact per account; then quiet.
  double applied = 0;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return testing::ScrapeMetric(first.metrics_port, "kam_alert_changes_total") >= 15 &&
               (applied =
                    testing::ScrapeMetric(first.metrics_port, "kam_consumer_applied_total")) >= 240;
      },
      std::chrono::seconds(120)))
      << first.process->Stderr();
  ASSERT_TRUE(testing::WaitFor([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    double now = testing::ScrapeMetric(first.metrics_port, "kam_consumer_applied_total");
    return std::exchange(applied, now) == now;
  }));
  // Every committed transaction's steps are timed for operators (where an alert's latency goes).
  EXPECT_GT(testing::ScrapeMetric(first.metrics_port,
                                  "kam_changelog_transaction_step_seconds_count{step=\"flush\"}"),
            0);
  first.process->Signal(SIGTERM);
  ASSERT_EQ(first.process->Wait(std::chrono::seconds(30)), 0);
  const auto before = DumpTaskState(dir.Sub("alerts"));
  ASSERT_GT(before.size(), 100u);

  std::filesystem::remove_all(dir.Sub("alerts"));
  auto second =
      testing::StartService("kam-alerts", brokers, dir.Sub("alerts"), dir.Sub("second"), args);
  ASSERT_TRUE(second.process) << second.address;
  EXPECT_GT(testing::ScrapeMetric(second.metrics_port, "kam_changelog_restored_records_total"), 0);
  second.process->Signal(SIGTERM);
  ASSERT_EQ(second.process->Wait(std::chrono::seconds(30)), 0);
  const std::string log = second.process->Stderr();
  const auto after = DumpTaskState(dir.Sub("alerts"));

  // Key for key, value for value.
  std::vector<std::string> differing;
  for (const auto& [key, value] : before) {
    auto it = after.find(key);
    if (it == after.end() || it->second != value) differing.push_back(key);
  }
  for (const auto& [key, value] : after) {
    if (!before.count(key)) differing.push_back(key);
  }
  EXPECT_TRUE(differing.empty()) << differing.size() << " keys differ, e.g. " << differing[0];

  // The offsets in the store are the ones Kafka committed for the group in the transactions, and
  // every record produced above was applied.
  auto committed =
      testing::CommittedOffsets(brokers, group, {"kam.accounts.v1", "kam.interactions.v1"});
  for (int32_t p = 0; p < 3; ++p) {
    for (const auto& [topic, ends] : {std::pair{"kam.accounts.v1", &ends_accounts},
                                      std::pair{"kam.interactions.v1", &ends_interactions}}) {
      const std::string key = std::string("offsets/") + topic + std::string(1, '\0') +
                              EncodeUint64(static_cast<uint64_t>(p));
      ASSERT_TRUE(after.count(key)) << topic << "/" << p;
      const auto stored = static_cast<int64_t>(DecodeUint64(after.at(key)));
      EXPECT_EQ(committed[std::string(topic) + "/" + std::to_string(p)], stored) << topic << p;
      EXPECT_GE(stored, (*ends)[p]) << topic << "/" << p;
    }
  }
}

// Accounts on every partition with answers sliding (odd ones) or steady, `weeks` answers each
// from week `from`.
void ProduceBook(const std::string& brokers, const std::string& tag, int from, int weeks,
                 bool accounts_too) {
  const int64_t start = 1'790'000'000'000;
  const int64_t week = 7LL * 24 * 3600 * 1000;
  const int answers[] = {9, 9, 8, 6, 4, 3, 2, 2};
  std::map<int32_t, std::vector<std::pair<std::string, std::string>>> accounts, surveys;
  for (int a = 0; a < 30; ++a) {
    const std::string id = tag + "-acc-" + std::to_string(a);
    const int32_t p = a % 3;
    if (accounts_too) accounts[p].emplace_back(id, testing::AccountCreatedEvent(id, "mgr-restart"));
    for (int w = from; w < from + weeks; ++w) {
      surveys[p].emplace_back(id, testing::SurveyEvent(id, id + "-s" + std::to_string(w),
                                                       start + w * week, a % 2 ? answers[w] : 9));
    }
  }
  for (int32_t p = 0; p < 3; ++p) {
    if (accounts_too) {
      ASSERT_TRUE(testing::ProduceRecords(brokers, "kam.accounts.v1", p, accounts[p]));
    }
    ASSERT_TRUE(testing::ProduceRecords(brokers, "kam.interactions.v1", p, surveys[p]));
  }
}

// Two instances in one group share the partitions. One of them fails half-way:
// - "kill": killed with -9, never back. The survivor takes its partitions over after the session
//   timeout and restores their state from the changelog.
// - "stop": stopped with SIGSTOP past the session timeout (a zombie), the survivor takes over, then
//   the zombie continues: whatever it still tries to commit is fenced (stale group generation),
//   it rejoins, and the tasks it gets back come with the survivor's state.
// Either way the open alerts and every alert's changes on kam.alerts.v1 equal those of a single
// instance that ran the same input without a fault, and no change is published twice.
class TakeOverTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TakeOverTest, TheSurvivorTakesTheTasksOverWithTheirState) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  const std::string stamp = std::to_string(MillisFromTimestamp(NowTimestamp()));

  kafka::KafkaOptions options;
  options.brokers = brokers;
  ASSERT_TRUE(
      kafka::EnsureTopics(options, {"kam.accounts.v1", "kam.interactions.v1"}, 3, 30000).ok());

  // The reference: one instance, no fault.
  const std::string reference_tag = "ref" + stamp;
  ProduceBook(brokers, reference_tag, 0, 4, true);
  ProduceBook(brokers, reference_tag, 4, 4, false);
  auto reference =
      testing::StartService("kam-alerts", brokers, dir.Sub("reference"), dir.Sub("reference-log"));
  ASSERT_TRUE(reference.process) << reference.address;
  testing::AlertOutcome expected;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        expected = testing::ReadAlertOutcome(brokers, reference_tag, {reference.producer});
        return expected.open.size() >= 15;
      },
      std::chrono::seconds(120)));
  // Let it settle: nothing more changes.
  ASSERT_TRUE(testing::WaitFor([&] {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    testing::AlertOutcome now =
        testing::ReadAlertOutcome(brokers, reference_tag, {reference.producer});
    return std::exchange(expected, now).changes == now.changes;
  }));
  ASSERT_EQ(expected.duplicates, 0);
  reference.process->Signal(SIGTERM);
  reference.process->Wait(std::chrono::seconds(30));

  // The same input (other account ids) through two instances, one of them killed half-way.
  const std::string tag = "two" + stamp;
  const std::string group = "kam-alerts-two-" + stamp;
  auto start = [&](const std::string& name) {
    return testing::StartService(
        "kam-alerts", brokers, dir.Sub(name), dir.Sub(name + "-log"),
        {"--consumer-group", group, "--instance-id", name, "--session-timeout-ms", "6000"});
  };
  auto a = start("a");
  ASSERT_TRUE(a.process) << a.address;
  auto b = start("b");
  ASSERT_TRUE(b.process) << b.address;
  ASSERT_TRUE(testing::WaitFor([&] {
    return testing::ScrapeMetric(a.metrics_port, "kam_tasks{state=\"running\"}") +
               testing::ScrapeMetric(b.metrics_port, "kam_tasks{state=\"running\"}") ==
           3;
  })) << "the group spreads the three tasks over both instances";
  ProduceBook(brokers, tag, 0, 4, true);
  ASSERT_TRUE(testing::WaitFor([&] {
    return testing::ScrapeMetric(a.metrics_port, "kam_consumer_applied_total") +
               testing::ScrapeMetric(b.metrics_port, "kam_consumer_applied_total") >=
           150;
  }));
  const bool zombie = GetParam() == "stop";
  a.process->Signal(zombie ? SIGSTOP : SIGKILL);
  if (!zombie) a.process->Wait(std::chrono::seconds(10));
  ProduceBook(brokers, tag, 4, 4, false);
  // The survivor owns every task after the session timeout, their state restored.
  ASSERT_TRUE(testing::WaitFor(
      [&] { return testing::ScrapeMetric(b.metrics_port, "kam_tasks{state=\"running\"}") == 3; },
      std::chrono::seconds(60)))
      << b.process->Stderr();
  testing::AlertOutcome actual;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        actual = testing::ReadAlertOutcome(brokers, tag, {a.producer, b.producer});
        return actual.open.size() == expected.open.size() &&
               actual.changes.size() == expected.changes.size();
      },
      std::chrono::seconds(120)))
      << "open " << actual.open.size() << " vs " << expected.open.size() << ", alerts "
      << actual.changes.size() << " vs " << expected.changes.size();
  // Change histories, alert by alert (ids differ with the account ids: compare as a multiset).
  // The counts above can match while the survivor still works through the last records (an
  // alert fired, its severity change not yet): wait until it settles like the reference did.
  std::multiset<std::vector<std::string>> expected_histories, actual_histories;
  for (const auto& [id, kinds] : expected.changes) expected_histories.insert(kinds);
  std::multiset<std::string> expected_severities, actual_severities;
  for (const auto& [id, severity] : expected.open) expected_severities.insert(severity);
  testing::WaitFor(
      [&] {
        actual = testing::ReadAlertOutcome(brokers, tag, {a.producer, b.producer});
        actual_histories.clear();
        actual_severities.clear();
        for (const auto& [id, kinds] : actual.changes) actual_histories.insert(kinds);
        for (const auto& [id, severity] : actual.open) actual_severities.insert(severity);
        return actual_histories == expected_histories && actual_severities == expected_severities;
      },
      std::chrono::seconds(60));
  EXPECT_EQ(actual.duplicates, 0) << "a change was published twice";
  EXPECT_EQ(actual_histories, expected_histories);
  EXPECT_EQ(actual_severities, expected_severities);
  EXPECT_GT(testing::ScrapeMetric(b.metrics_port, "kam_changelog_restored_records_total"), 0)
      << "the failed instance's tasks came with their state";
  if (zombie) {
    // The zombie wakes up. Either it rejoins and takes some tasks back, or -- when it was stopped
    // inside a transaction that the coordinator has since aborted, which fences its producer --
    // it stops itself saying it lost the role. Either way it publishes nothing stale.
    const size_t logged_before_waking = a.process->Stderr().size();
    a.process->Signal(SIGCONT);
    ASSERT_TRUE(testing::WaitFor(
        [&] {
          return !a.process->Running() ||
                 testing::ScrapeMetric(a.metrics_port, "kam_tasks{state=\"running\"}") +
                         testing::ScrapeMetric(b.metrics_port, "kam_tasks{state=\"running\"}") ==
                     3;
        },
        std::chrono::seconds(90)));
    const bool stopped_itself = !a.process->Running();
    if (stopped_itself) {
      EXPECT_NE(a.process->Stderr().find("lost the role"), std::string::npos)
          << a.process->Stderr();
      ASSERT_TRUE(testing::WaitFor(
          [&] {
            return testing::ScrapeMetric(b.metrics_port, "kam_tasks{state=\"running\"}") == 3;
          },
          std::chrono::seconds(60)));
    } else {
      // Either its first transaction after waking (a punctuation at least) was refused, or
      // librdkafka saw on waking that the session had expired and gave the partitions up before
      // any transaction (its tasks closed) -- both keep it from publishing anything stale, which
      // the histories below check.
      const std::string woken = a.process->Stderr().substr(logged_before_waking);
      EXPECT_TRUE(woken.find("offsets refused in transaction") != std::string::npos ||
                  woken.find("\"from\":\"running\",\"to\":\"closed\"") != std::string::npos)
          << woken;
      // Whatever stale work it had, it tried first: wait until it has committed twice since
      // (its punctuations commit every second in its new role).
      const double committed =
          testing::ScrapeMetric(a.metrics_port, "kam_changelog_transactions_total");
      EXPECT_TRUE(testing::WaitFor(
          [&] {
            return testing::ScrapeMetric(a.metrics_port, "kam_changelog_transactions_total") >=
                   committed + 2;
          },
          std::chrono::seconds(30)))
          << a.process->Stderr();
    }
    testing::AlertOutcome after = testing::ReadAlertOutcome(brokers, tag, {a.producer, b.producer});
    EXPECT_EQ(after.duplicates, 0);
    std::multiset<std::vector<std::string>> after_histories;
    for (const auto& [id, kinds] : after.changes) after_histories.insert(kinds);
    EXPECT_EQ(after_histories, expected_histories) << "the zombie published something stale";
  }
}

INSTANTIATE_TEST_SUITE_P(Faults, TakeOverTest, ::testing::Values("kill", "stop"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kam
