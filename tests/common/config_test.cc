#include "common/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace kam {
namespace {

const ServiceDefaults kDefaults{"kam-test", "127.0.0.1:50051", "127.0.0.1:9461", "var/test"};

ParseOutcome Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "kam-test");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  return ParseServiceConfig(static_cast<int>(argv.size()), argv.data(), kDefaults);
}

TEST(ConfigTest, FlagsBeatEnvironmentWhichBeatsDefaults) {
  setenv("KAM_LISTEN", "127.0.0.1:6000", 1);
  setenv("KAM_DATA_DIR", "/tmp/from-env", 1);
  ParseOutcome outcome = Parse({"--listen", "127.0.0.1:7000"});
  unsetenv("KAM_LISTEN");
  unsetenv("KAM_DATA_DIR");
  ASSERT_FALSE(outcome.exit);
  EXPECT_EQ(outcome.config.listen, "127.0.0.1:7000");
  EXPECT_EQ(outcome.config.data_dir, "/tmp/from-env");
  EXPECT_EQ(outcome.config.metrics_listen, "127.0.0.1:9461");
}

TEST(ConfigTest, BadValuesStopTheStartWithExitCode2) {
  EXPECT_EQ(Parse({"--listen", "nonsense"}).exit_code, 2);
  EXPECT_EQ(Parse({"--listen", "127.0.0.1:70000"}).exit_code, 2);
  EXPECT_EQ(Parse({"--log-level", "loud"}).exit_code, 2);
  EXPECT_NE(Parse({"--no-such-flag"}).exit_code, 0);
}

TEST(ConfigTest, MembershipFlagsAreCheckedAndNamed) {
  ServiceConfig config;
  config.listen = "127.0.0.1:0";
  config.kafka_brokers = "127.0.0.1:9092";
  config.data_dir = "var/x";
  EXPECT_TRUE(ValidateConfig(config).ok());
  config.instance_id = "alerts a";  // a space cannot be a group.instance.id here
  absl::Status bad = ValidateConfig(config);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("--instance-id"), std::string::npos) << bad;
  config.instance_id = "alerts-1";
  config.session_timeout_ms = 1000;  // below the broker's minimum
  bad = ValidateConfig(config);
  EXPECT_NE(bad.message().find("--session-timeout-ms"), std::string::npos) << bad;
  EXPECT_EQ(Parse({"--session-timeout-ms", "soon"}).exit, true);
}

TEST(ConfigTest, SplitHostPortNamesTheField) {
  std::string host;
  int port = 0;
  absl::Status status = SplitHostPort("localhost", "--metrics-listen", &host, &port);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("--metrics-listen"), std::string::npos);
  ASSERT_TRUE(SplitHostPort("[::1]:0", "--listen", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
}

}  // namespace
}  // namespace kam
