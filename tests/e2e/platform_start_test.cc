// What a newcomer sees after scripts/run: each service process starts against a real Kafka broker,
// reports SERVING on grpc.health.v1, lists its API through reflection (so grpcurl works), exposes
// Prometheus metrics, and stops cleanly on SIGTERM. kam-broker prints its bootstrap address first.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <set>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "tests/testing/process.h"
#include "tests/testing/temp_dir.h"

namespace kam {
namespace {

using testing::Process;

struct ServiceCase {
  std::string binary;
  std::string api;
};

void PrintTo(const ServiceCase& service, std::ostream* os) { *os << service.binary; }

class PlatformStartTest : public ::testing::TestWithParam<ServiceCase> {};

std::set<std::string> ListServices(grpc::Channel* channel) {
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(
      std::shared_ptr<grpc::Channel>(channel, [](grpc::Channel*) {}));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = stub->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("*");
  stream->Write(request);
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  std::set<std::string> names;
  while (stream->Read(&response)) {
    for (const auto& service : response.list_services_response().service()) {
      names.insert(service.name());
    }
  }
  EXPECT_TRUE(stream->Finish().ok());
  return names;
}

TEST_P(PlatformStartTest, ServesHealthReflectionMetricsAndStopsCleanly) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  Process service(
      {testing::BinDir() + "/" + GetParam().binary, "--listen", "127.0.0.1:0", "--metrics-listen",
       "127.0.0.1:0", "--kafka-brokers", brokers, "--data-dir", dir.Sub("data"),
       "--consumer-group", "platform-start-" + GetParam().binary},
      dir.Sub("service"));
  std::string serving = service.WaitForLogLine("\"msg\":\"serving\"");
  ASSERT_FALSE(serving.empty()) << service.Stderr();
  std::string address = testing::JsonField(serving, "grpc");
  int metrics_port = std::stoi(testing::JsonField(serving, "metrics"));

  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  // SERVING once the instance's stream tasks run (at once for kam-accounts); a load balancer
  // polls, and so does this test.
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_TRUE(testing::WaitFor([&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::health::v1::HealthCheckRequest request;
    return health->Check(&context, request, &response).ok() &&
           response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  })) << response.status();

  std::set<std::string> services = ListServices(channel.get());
  EXPECT_TRUE(services.count(GetParam().api)) << GetParam().api;
  EXPECT_TRUE(services.count("grpc.health.v1.Health"));

  httplib::Client http("127.0.0.1", metrics_port);
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("# TYPE kam_outbox_last_sequence gauge"), std::string::npos);

  service.Signal(SIGTERM);
  auto code = service.Wait(std::chrono::seconds(30));
  ASSERT_TRUE(code.has_value()) << "did not stop within 30 s of SIGTERM";
  EXPECT_EQ(*code, 0);
  EXPECT_NE(service.Stderr().find("\"msg\":\"stopped\""), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Services, PlatformStartTest,
                         ::testing::Values(ServiceCase{"kam-accounts", "kam.v1.AccountsService"},
                                           ServiceCase{"kam-interactions",
                                                       "kam.v1.InteractionsService"},
                                           ServiceCase{"kam-alerts", "kam.v1.AlertsService"}),
                         [](const auto& info) { return info.param.binary.substr(4); });

TEST(KamBrokerTest, PrintsBootstrapFirstAndServesKafka) {
  testing::TempDir dir;
  Process broker({testing::BinDir() + "/kam-broker", "--listen", "127.0.0.1:0"}, dir.Sub("broker"));
  ASSERT_TRUE(testing::WaitFor([&] { return broker.Stdout().find('\n') != std::string::npos; }));
  std::string bootstrap = broker.Stdout().substr(0, broker.Stdout().find('\n'));
  EXPECT_EQ(bootstrap.rfind("127.0.0.1:", 0), 0u) << bootstrap;
  // A service needs nothing but this address.
  Process service(
      {testing::BinDir() + "/kam-accounts", "--listen", "127.0.0.1:0", "--metrics-listen", "",
       "--kafka-brokers", bootstrap, "--data-dir", dir.Sub("data")},
      dir.Sub("service"));
  EXPECT_FALSE(service.WaitForLogLine("\"msg\":\"serving\"").empty()) << service.Stderr();
  service.Signal(SIGTERM);
  EXPECT_EQ(service.Wait(std::chrono::seconds(30)).value_or(-1), 0);
  broker.Signal(SIGTERM);
  EXPECT_EQ(broker.Wait(std::chrono::seconds(30)).value_or(-1), 0);
}

TEST(ServiceConfigTest, BadFlagExitsWithClearMessage) {
  testing::TempDir dir;
  Process service({testing::BinDir() + "/kam-accounts", "--listen", "nowhere"}, dir.Sub("bad"));
  EXPECT_EQ(service.Wait(std::chrono::seconds(30)).value_or(-1), 2);
  EXPECT_NE(service.Stderr().find("--listen"), std::string::npos) << service.Stderr();
  Process alerts({testing::BinDir() + "/kam-alerts", "--watch-history", "5"}, dir.Sub("history"));
  EXPECT_EQ(alerts.Wait(std::chrono::seconds(30)).value_or(-1), 2);
  EXPECT_NE(alerts.Stderr().find("--watch-history"), std::string::npos) << alerts.Stderr();
}

TEST(ServiceConfigTest, AReplicationTheClusterCannotMeetStopsTheStartNamingTheFlag) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  // The test cluster has one broker; production asks for three replicas.
  Process service({testing::BinDir() + "/kam-interactions", "--listen", "127.0.0.1:0",
                   "--metrics-listen", "", "--kafka-brokers", brokers, "--data-dir",
                   dir.Sub("data"), "--replication-factor", "3"},
                  dir.Sub("rf"));
  EXPECT_EQ(service.Wait(std::chrono::seconds(60)).value_or(-1), 1);
  EXPECT_NE(service.Stderr().find("--replication-factor 3: the cluster has 1 broker"),
            std::string::npos)
      << service.Stderr();
}

}  // namespace
}  // namespace kam
