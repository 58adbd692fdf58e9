// The example clients in clients/ against the whole platform on the real broker: what a CRM
// (Java), a ticketing integration (Go) and a survey tool (Python) would do -- create accounts,
// record a burst with request ids, read health, follow WatchAlerts across a reconnect, decode a
// rich error -- and an operations team's consumer of kam.alerts.v1. Each example checks kam's
// answers itself and exits non-zero when the contract is not kept; the stubs are generated
// from proto/ on every run, so a proto change that breaks an example fails here.

#include <gtest/gtest.h>

#include <string>

#include "tests/testing/process.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"

namespace kam {
namespace {

class ClientsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ClientsTest, TheExampleCallsAndTheAlertConsumerWorkAgainstThePlatform) {
  const std::string language = GetParam();
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  auto accounts = testing::StartService("kam-accounts", brokers, dir.Sub("a"), dir.Sub("a-log"));
  ASSERT_TRUE(accounts.process) << accounts.address;
  auto interactions =
      testing::StartService("kam-interactions", brokers, dir.Sub("i"), dir.Sub("i-log"));
  ASSERT_TRUE(interactions.process) << interactions.address;
  auto alerts = testing::StartService("kam-alerts", brokers, dir.Sub("x"), dir.Sub("x-log"));
  ASSERT_TRUE(alerts.process) << alerts.address;

  const std::string run = std::string(KAM_SOURCE_DIR) + "/clients/" + language + "/run";
  testing::Process example({run, "example"}, dir.Sub("example"),
                           {{"KAM_ACCOUNTS_ADDR", accounts.address},
                            {"KAM_INTERACTIONS_ADDR", interactions.address},
                            {"KAM_ALERTS_ADDR", alerts.address}});
  // The first run of a language installs its toolchain's packages (cached afterwards).
  ASSERT_EQ(example.Wait(std::chrono::minutes(10)).value_or(-1), 0)
      << example.Stdout() << example.Stderr();
  EXPECT_NE(example.Stdout().find("every step behaved as the contract says"), std::string::npos)
      << example.Stdout();

  // The overload the example caused reaches an operations team's consumer as a CloudEvent.
  testing::Process consumer(
      {run, "alert-consumer", "--brokers", brokers, "--group",
       "clients-test-" + language + "-" + std::to_string(getpid()), "--idle-seconds", "20"},
      dir.Sub("consumer"));
  ASSERT_EQ(consumer.Wait(std::chrono::minutes(5)).value_or(-1), 0)
      << consumer.Stdout() << consumer.Stderr();
  EXPECT_NE(consumer.Stdout().find("dev.kam.alert.fired"), std::string::npos) << consumer.Stdout();
  EXPECT_NE(consumer.Stdout().find("MANAGER_OVERLOADED"), std::string::npos) << consumer.Stdout();
}

INSTANTIATE_TEST_SUITE_P(Languages, ClientsTest, ::testing::Values("python", "go", "java"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kam
