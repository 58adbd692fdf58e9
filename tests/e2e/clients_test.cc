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
  const testing::RunningPlatform platform = testing::StartPlatform(brokers, dir.path());
  ASSERT_EQ(platform.failure, "");

  const std::string run = std::string(KAM_SOURCE_DIR) + "/clients/" + language + "/run";
  testing::Process example({run, "example"}, dir.Sub("example"), platform.AddressEnvironment());
  // The first run of a language installs its toolchain's packages (cached afterwards).
  ASSERT_EQ(example.Wait(std::chrono::minutes(10)).value_or(-1), 0)
      << example.Stdout() << example.Stderr();
  EXPECT_NE(example.Stdout().find("every step behaved as the contract says"), std::string::npos)
      << example.Stdout();

  // The overload the example caused reaches an operations team's consumer as a CloudEvent. The
  // topic is shared with the other tests: the consumer stops at this example's manager.
  const std::string output = example.Stdout();
  const size_t at = output.find("created manager ");
  ASSERT_NE(at, std::string::npos) << output;
  const size_t id_start = at + std::string("created manager ").size();
  const std::string manager = output.substr(id_start, output.find(' ', id_start) - id_start);
  testing::Process consumer({run, "alert-consumer", "--brokers", brokers, "--group",
                             "clients-test-" + language + "-" + std::to_string(getpid()),
                             "--until-manager", manager, "--idle-seconds", "60"},
                            dir.Sub("consumer"));
  ASSERT_EQ(consumer.Wait(std::chrono::minutes(5)).value_or(-1), 0)
      << consumer.Stdout() << consumer.Stderr();
  // The last line printed is the change that stopped it, decoded: type, subject, rule, state (the
  // overload, or an account alert of the example's survey burst, whichever partition came first).
  const std::string lines = consumer.Stdout();
  const std::string last = lines.substr(lines.rfind('\n', lines.size() - 2) + 1);
  EXPECT_EQ(last.rfind("dev.kam.alert.", 0), 0u) << lines;
  EXPECT_NE(last.find(" ALERT_RULE_"), std::string::npos) << lines;
  EXPECT_NE(last.find(" ALERT_STATE_"), std::string::npos) << lines;
}

INSTANTIATE_TEST_SUITE_P(Languages, ClientsTest, ::testing::Values("python", "go", "java"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kam
