// Roles from bearer tokens on the real services (common/grpc_auth.h): kam-accounts over TLS with
// an --auth-file answers each caller by its role, refuses missing, unknown and too weak tokens
// with UNAUTHENTICATED / PERMISSION_DENIED (counted, logged with the caller, never the token),
// keeps health checks open, picks up a changed file without a restart, carries the caller's token
// on calls it forwards to the writer instance, and kamctl sends --token / KAM_TOKEN.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "common/access_policy.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "kam/v1/accounts.grpc.pb.h"
#include "tests/testing/certificates.h"
#include "tests/testing/process.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"

namespace kam {
namespace {

const std::string kPlatformToken = "kam-test-platform-6f1c0a";    // writer, reader
const std::string kDashboardToken = "kam-test-dashboard-93be11";  // reader
const std::string kAdminToken = "kam-test-admin-5d02e7";          // admin

std::string Line(const std::string& token, const std::string& caller, const std::string& roles) {
  return auth::Sha256Hex(token) + "  " + caller + "  " + roles + "\n";
}

void WriteAuthFile(const std::string& path, const std::string& text) {
  std::ofstream(path + ".next") << "# kam callers\n" << text;
  ASSERT_EQ(std::rename((path + ".next").c_str(), path.c_str()), 0);
}

class Caller {
 public:
  Caller(const std::string& address, const std::string& ca_pem) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ca_pem;
    channel_ = grpc::CreateChannel(address, grpc::SslCredentials(tls));
    accounts_ = kam::v1::AccountsService::NewStub(channel_);
  }

  grpc::Status ListManagers(const std::string& token) {
    grpc::ClientContext context;
    Prepare(&context, token);
    kam::v1::ListManagersResponse response;
    return accounts_->ListManagers(&context, kam::v1::ListManagersRequest(), &response);
  }

  grpc::Status CreateManager(const std::string& token, const std::string& name) {
    grpc::ClientContext context;
    Prepare(&context, token);
    kam::v1::CreateManagerRequest request;
    request.mutable_manager()->set_name(name);
    request.mutable_manager()->set_email(name + "@example.com");
    kam::v1::Manager response;
    return accounts_->CreateManager(&context, request, &response);
  }

  grpc::Status Health() {
    auto stub = grpc::health::v1::Health::NewStub(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::health::v1::HealthCheckResponse response;
    return stub->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
  }

 private:
  static void Prepare(grpc::ClientContext* context, const std::string& token) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<kam::v1::AccountsService::Stub> accounts_;
};

class RolesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = testing::RealKafkaBootstrap();
    ASSERT_FALSE(brokers_.empty()) << "run through ctest: needs the real_kafka fixture";
    ASSERT_TRUE(testing::MakeCertificates(dir_.path()));
    auth_file_ = dir_.Sub("tokens");
    WriteAuthFile(auth_file_, Line(kPlatformToken, "crm-platform", "writer,reader") +
                                  Line(kDashboardToken, "dashboard", "reader") +
                                  Line(kAdminToken, "ops-admin", "admin"));
  }

  testing::RunningService Start(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{
        "--tls-cert", dir_.Sub("server.pem"), "--tls-key",   dir_.Sub("server.key"),
        "--tls-ca",   dir_.Sub("ca.pem"),     "--auth-file", auth_file_};
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::StartService("kam-accounts", brokers_, dir_.Sub(name), dir_.Sub(name + "-log"),
                                 args);
  }

  std::string brokers_;
  testing::TempDir dir_;
  std::string auth_file_;
};

TEST_F(RolesTest, EachCallerGetsWhatItsRoleAllowsAndTheFileIsReloadedWithoutARestart) {
  auto accounts = Start("accounts");
  ASSERT_TRUE(accounts.process) << accounts.address;
  Caller caller(accounts.address, testing::ReadFile(dir_.Sub("ca.pem")));

  EXPECT_TRUE(caller.Health().ok()) << "probes need no token";
  grpc::Status none = caller.ListManagers("");
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED) << none.error_message();
  EXPECT_EQ(caller.ListManagers("guessed-" + kPlatformToken).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(caller.ListManagers(kDashboardToken).ok());
  EXPECT_TRUE(caller.ListManagers(kPlatformToken).ok());
  grpc::Status weak = caller.CreateManager(kPlatformToken, "Ada");
  EXPECT_EQ(weak.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(weak.error_message(),
            "caller crm-platform has the roles writer,reader; "
            "/kam.v1.AccountsService/CreateManager needs the role admin");
  grpc::Status admin = caller.CreateManager(kAdminToken, "Ada");
  EXPECT_TRUE(admin.ok()) << admin.error_message();

  EXPECT_EQ(testing::ScrapeMetric(accounts.metrics_port, "kam_auth_refusals_total"), 3);
  const std::string log = accounts.process->Stderr();
  EXPECT_NE(log.find("\"msg\":\"call refused\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"caller\":\"crm-platform\""), std::string::npos) << log;
  for (const std::string& token : {kPlatformToken, kDashboardToken, kAdminToken}) {
    EXPECT_EQ(log.find(token), std::string::npos) << "a token in the log";
  }

  // The dashboard becomes an admin and the platform's token is revoked, in one file change.
  WriteAuthFile(auth_file_, Line(kDashboardToken, "dashboard", "reader,admin"));
  EXPECT_TRUE(testing::WaitFor([&] { return caller.CreateManager(kDashboardToken, "Grace").ok(); },
                               std::chrono::seconds(20)))
      << "the new role takes effect without a restart";
  EXPECT_EQ(caller.ListManagers(kPlatformToken).error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << "the revoked token stops working with the same change";

  // A broken change is refused and the tokens in force stay.
  std::ofstream(auth_file_, std::ios::app) << "not a line\n";
  EXPECT_FALSE(accounts.process->WaitForLogLine("auth file not reloaded").empty());
  EXPECT_TRUE(caller.ListManagers(kDashboardToken).ok());

  // kamctl: the token from KAM_TOKEN or --token-file; none or a weak one ends with exit code 6.
  auto kamctl = [&](std::vector<std::string> args, const std::string& name,
                    std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv{testing::BinDir() + "/kamctl",
                                  "--accounts",
                                  accounts.address,
                                  "--tls-ca",
                                  dir_.Sub("ca.pem"),
                                  "--timeout",
                                  "5"};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::Process process(argv, dir_.Sub(name), env);
    return process.Wait(std::chrono::seconds(60)).value_or(-1);
  };
  EXPECT_EQ(kamctl({"managers", "list"}, "kamctl-env", {{"KAM_TOKEN", kDashboardToken}}), 0);
  std::ofstream(dir_.Sub("token")) << kDashboardToken << "\n";
  EXPECT_EQ(kamctl({"--token-file", dir_.Sub("token"), "managers", "list"}, "kamctl-file"), 0);
  EXPECT_EQ(kamctl({"managers", "list"}, "kamctl-none"), 6);
  EXPECT_EQ(kamctl({"managers", "list"}, "kamctl-revoked", {{"KAM_TOKEN", kPlatformToken}}), 6);
}

TEST_F(RolesTest, ACallForwardedToTheWriterIsDecidedOnTheCallersOwnToken) {
  // Two instances of one group: one holds the writer role, the other forwards writes to it.
  const std::string group = "roles-" + std::to_string(::getpid());
  auto first = Start("first", {"--consumer-group", group, "--instance-id", "first"});
  ASSERT_TRUE(first.process) << first.address;
  auto second = Start("second", {"--consumer-group", group, "--instance-id", "second"});
  ASSERT_TRUE(second.process) << second.address;
  const std::string ca = testing::ReadFile(dir_.Sub("ca.pem"));
  Caller via_first(first.address, ca);
  Caller via_second(second.address, ca);
  // Whichever instance is not the writer forwards; both must accept the admin's create.
  int created = 0;
  grpc::Status last;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        Caller& next = created == 0 ? via_first : via_second;
        last = next.CreateManager(kAdminToken, "Manager-" + std::to_string(created));
        if (last.ok()) ++created;
        return created == 2;
      },
      std::chrono::seconds(60)))
      << "a forwarded call without the caller's token would be refused by the writer; last: "
      << last.error_code() << " " << last.error_message();
  EXPECT_EQ(via_second.CreateManager(kDashboardToken, "Nobody").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(via_first.CreateManager(kDashboardToken, "Nobody").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST(RolesStartTest, AnAuthFileWithoutTlsStopsTheStart) {
  testing::TempDir dir;
  testing::Process refused({testing::BinDir() + "/kam-accounts", "--data-dir", dir.Sub("data"),
                            "--auth-file", dir.Sub("tokens")},
                           dir.Sub("refused"));
  EXPECT_EQ(refused.Wait(std::chrono::seconds(30)).value_or(-1), 2);
  EXPECT_NE(refused.Stderr().find("--auth-file: needs --tls-cert and --tls-key"), std::string::npos)
      << refused.Stderr();
}

TEST(RolesStartTest, KamctlDoesNotSendATokenInPlaintextBeyondLoopback) {
  testing::TempDir dir;
  testing::Process kamctl(
      {testing::BinDir() + "/kamctl", "--accounts", "192.0.2.10:50051", "managers", "list"},
      dir.Sub("kamctl"), {{"KAM_TOKEN", "a-token-not-to-leak"}});
  EXPECT_EQ(kamctl.Wait(std::chrono::seconds(30)).value_or(-1), 2);
  EXPECT_NE(kamctl.Stderr().find("refusing to send a token in plaintext to 192.0.2.10:50051"),
            std::string::npos)
      << kamctl.Stderr();
}

TEST(RolesStartTest, KamctlRefusesAnUnreadableOrDoubledToken) {
  testing::TempDir dir;
  auto kamctl = [&](std::vector<std::string> args, const std::string& name) {
    std::vector<std::string> argv{testing::BinDir() + "/kamctl"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"managers", "list"});
    testing::Process process(argv, dir.Sub(name));
    const int code = process.Wait(std::chrono::seconds(30)).value_or(-1);
    return std::make_pair(code, process.Stderr());
  };
  auto [missing, missing_err] = kamctl({"--token-file", dir.Sub("none")}, "missing");
  EXPECT_EQ(missing, 2);
  EXPECT_NE(missing_err.find("--token-file: cannot read"), std::string::npos) << missing_err;
  std::ofstream(dir.Sub("empty")) << "\n";
  auto [empty, empty_err] = kamctl({"--token-file", dir.Sub("empty")}, "empty");
  EXPECT_EQ(empty, 2);
  EXPECT_NE(empty_err.find("has an empty first line"), std::string::npos) << empty_err;
  std::ofstream(dir.Sub("token")) << "t\n";
  auto [both, both_err] = kamctl({"--token", "t", "--token-file", dir.Sub("token")}, "both");
  EXPECT_EQ(both, 2);
  EXPECT_NE(both_err.find("not both"), std::string::npos) << both_err;
}

TEST(RolesStartTest, AMalformedAuthFileStopsTheStartBeforeKafka) {
  testing::TempDir dir;
  ASSERT_TRUE(testing::MakeCertificates(dir.path()));
  std::ofstream(dir.Sub("tokens")) << "not a line\n";
  // No broker listens on port 1: the start must fail on the file, not on Kafka.
  testing::Process refused({testing::BinDir() + "/kam-accounts", "--data-dir", dir.Sub("data"),
                            "--kafka-brokers", "127.0.0.1:1", "--tls-cert", dir.Sub("server.pem"),
                            "--tls-key", dir.Sub("server.key"), "--auth-file", dir.Sub("tokens")},
                           dir.Sub("refused"));
  EXPECT_EQ(refused.Wait(std::chrono::seconds(30)).value_or(-1), 2);
  EXPECT_NE(refused.Stderr().find("auth file line 1"), std::string::npos) << refused.Stderr();
}

}  // namespace
}  // namespace kam
