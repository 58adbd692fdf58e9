// The consumer side as stream tasks, seen from outside: a kam-alerts killed with -9 and restarted
// on the same disk processes again within seconds (static group membership: it is not made to
// wait for the group's session timeout), health says NOT_SERVING until its tasks run, and a store
// written against one Kafka cluster is refused against another.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "common/time_util.h"
#include "kam/v1/events.pb.h"
#include "tests/testing/process.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace kam {
namespace {

using Clock = std::chrono::steady_clock;

std::string AccountCreated(const std::string& id) {
  kam::v1::EventEnvelope envelope;
  *envelope.mutable_time() = NowTimestamp();
  auto* account = envelope.mutable_account_created()->mutable_account();
  account->set_id(id);
  account->set_name(id);
  account->set_owner_manager_id("mgr-restart");
  return envelope.SerializeAsString();
}

// Writes one account event to every partition of kam.accounts.v1 and waits until `service` has
// applied at least `at_least` records in total.
bool AppliesARecord(const testing::RunningService& service, const std::string& brokers,
                    const std::string& tag, double at_least) {
  for (int32_t partition = 0; partition < 3; ++partition) {
    std::string id = "acc-" + tag + "-" + std::to_string(partition);
    if (!testing::ProduceRecords(brokers, "kam.accounts.v1", partition,
                                 {{id, AccountCreated(id)}})) {
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
  auto first = testing::StartService("kam-alerts", brokers, dir.Sub("alerts"), dir.Sub("first"),
                                     args);
  ASSERT_TRUE(first.process) << first.address;
  ASSERT_TRUE(AppliesARecord(first, brokers, "before", 3)) << first.process->Stderr();

  first.process->Signal(SIGKILL);
  first.process->Wait(std::chrono::seconds(10));
  const auto restarted_at = Clock::now();
  auto second = testing::StartService("kam-alerts", brokers, dir.Sub("alerts"), dir.Sub("second"),
                                      args);
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
  testing::Process refused({testing::BinDir() + "/kam-alerts", "--listen", "127.0.0.1:0",
                            "--metrics-listen", "", "--kafka-brokers", bootstrap, "--data-dir",
                            dir.Sub("alerts")},
                           dir.Sub("refused"));
  EXPECT_EQ(refused.Wait(std::chrono::seconds(60)), 1);
  const std::string log = refused.Stderr();
  EXPECT_NE(log.find("holds state written against Kafka cluster"), std::string::npos) << log;
  EXPECT_NE(log.find("empty --data-dir"), std::string::npos) << log;
  EXPECT_EQ(log.find("\"msg\":\"serving\""), std::string::npos) << "it must not start";
}

}  // namespace
}  // namespace kam
