// gRPC over TLS on the real broker: kam-accounts with mutual TLS answers a client that presents a
// certificate signed by its client CA, refuses plaintext and certificate-less clients, and kamctl
// reaches it with --tls-ca/--tls-cert/--tls-key; a service asked to serve plaintext beyond
// loopback refuses to start. Certificates are made here with openssl.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <string>

#include "kam/v1/accounts.grpc.pb.h"
#include "tests/testing/certificates.h"
#include "tests/testing/process.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"

namespace kam {
namespace {

grpc::Status ListManagers(const std::string& address,
                          std::shared_ptr<grpc::ChannelCredentials> credentials) {
  auto stub = kam::v1::AccountsService::NewStub(grpc::CreateChannel(address, credentials));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  kam::v1::ListManagersResponse response;
  return stub->ListManagers(&context, kam::v1::ListManagersRequest(), &response);
}

TEST(TlsTest, MutualTlsAdmitsCertifiedClientsOnlyAndKamctlSpeaksIt) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  ASSERT_TRUE(testing::MakeCertificates(dir.path()));
  auto accounts =
      testing::StartService("kam-accounts", brokers, dir.Sub("a"), dir.Sub("a-log"),
                            {"--tls-cert", dir.Sub("server.pem"), "--tls-key",
                             dir.Sub("server.key"), "--tls-client-ca", dir.Sub("ca.pem")});
  ASSERT_TRUE(accounts.process) << accounts.address;

  grpc::SslCredentialsOptions certified;
  certified.pem_root_certs = testing::ReadFile(dir.Sub("ca.pem"));
  certified.pem_cert_chain = testing::ReadFile(dir.Sub("client.pem"));
  certified.pem_private_key = testing::ReadFile(dir.Sub("client.key"));
  grpc::Status status = ListManagers(accounts.address, grpc::SslCredentials(certified));
  EXPECT_TRUE(status.ok()) << status.error_message();

  grpc::SslCredentialsOptions anonymous;
  anonymous.pem_root_certs = certified.pem_root_certs;
  EXPECT_FALSE(ListManagers(accounts.address, grpc::SslCredentials(anonymous)).ok())
      << "no client certificate: refused";
  EXPECT_FALSE(ListManagers(accounts.address, grpc::InsecureChannelCredentials()).ok())
      << "plaintext: refused";

  auto kamctl = [&](std::vector<std::string> tls, const std::string& name) {
    std::vector<std::string> argv{testing::BinDir() + "/kamctl", "--accounts", accounts.address,
                                  "--timeout", "3"};
    argv.insert(argv.end(), tls.begin(), tls.end());
    argv.insert(argv.end(), {"managers", "list"});
    testing::Process process(argv, dir.Sub(name));
    return process.Wait(std::chrono::seconds(60)).value_or(-1);
  };
  EXPECT_EQ(kamctl({"--tls-ca", dir.Sub("ca.pem"), "--tls-cert", dir.Sub("client.pem"), "--tls-key",
                    dir.Sub("client.key")},
                   "kamctl-mtls"),
            0);
  EXPECT_NE(kamctl({"--tls-ca", dir.Sub("ca.pem")}, "kamctl-no-cert"), 0);
  EXPECT_EQ(kamctl({"--tls-ca", dir.Sub("missing.pem")}, "kamctl-bad-ca"), 2);
}

TEST(TlsTest, MetricsAreServedOverHttpsWhenGivenACertificate) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  ASSERT_TRUE(testing::MakeCertificates(dir.path()));
  auto accounts = testing::StartService(
      "kam-accounts", brokers, dir.Sub("a"), dir.Sub("a-log"),
      {"--metrics-tls-cert", dir.Sub("server.pem"), "--metrics-tls-key", dir.Sub("server.key")});
  ASSERT_TRUE(accounts.process) << accounts.address;
  const std::string url = "127.0.0.1:" + std::to_string(accounts.metrics_port) + "/metrics";
  const std::string https =
      testing::Shell("curl -sS --max-time 10 --cacert " + dir.Sub("ca.pem") + " https://" + url);
  EXPECT_NE(https.find("kam_outbox_last_sequence"), std::string::npos) << https.substr(0, 500);
  const std::string http = testing::Shell("curl -sS --max-time 10 http://" + url + " 2>&1");
  EXPECT_EQ(http.find("kam_outbox_last_sequence"), std::string::npos) << "plain HTTP gets no metrics";
  const std::string untrusted =
      testing::Shell("curl -sS --max-time 10 https://" + url + " 2>&1 || true");
  EXPECT_EQ(untrusted.find("kam_outbox_last_sequence"), std::string::npos) << "the certificate is verified";

  testing::Process half({testing::BinDir() + "/kam-accounts", "--data-dir", dir.Sub("h"),
                         "--metrics-tls-cert", dir.Sub("server.pem")},
                        dir.Sub("half"));
  EXPECT_EQ(half.Wait(std::chrono::seconds(30)).value_or(-1), 2);
  EXPECT_NE(half.Stderr().find("--metrics-tls-cert, --metrics-tls-key: give both or neither"),
            std::string::npos)
      << half.Stderr();
}

TEST(TlsTest, PlaintextBeyondLoopbackIsRefusedUnlessAllowed) {
  testing::TempDir dir;
  testing::Process refused(
      {testing::BinDir() + "/kam-accounts", "--listen", "0.0.0.0:0", "--data-dir", dir.Sub("data")},
      dir.Sub("refused"));
  EXPECT_EQ(refused.Wait(std::chrono::seconds(30)).value_or(-1), 2);
  EXPECT_NE(refused.Stderr().find("refusing plaintext gRPC"), std::string::npos)
      << refused.Stderr();
  testing::Process half({testing::BinDir() + "/kam-accounts", "--tls-key", dir.Sub("x.key")},
                        dir.Sub("half"));
  EXPECT_EQ(half.Wait(std::chrono::seconds(30)).value_or(-1), 2);
  EXPECT_NE(half.Stderr().find("--tls-cert, --tls-key: give both or neither"), std::string::npos)
      << half.Stderr();
}

}  // namespace
}  // namespace kam
