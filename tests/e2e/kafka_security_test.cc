// The platform on a Kafka broker that takes only SASL_SSL (certificates made here with openssl,
// SASL/PLAIN users in the broker's JAAS settings, SCRAM users in the cluster's metadata): the
// three services and kamctl's demo work end to end through it, an operator with credentials reads
// the alert stream with kcat, and a client without credentials, or with a wrong password, gets
// nothing -- a service with a wrong password does not start. Services that log in with
// SCRAM-SHA-256 and SCRAM-SHA-512 work as well.

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/testing/certificates.h"
#include "tests/testing/process.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"

namespace kam {
namespace {

using testing::Shell;

class SecureBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::MakeCertificates(dir_.path()));
    ASSERT_EQ(Shell("cd " + dir_.path() + " && cat server.key server.pem > broker.pem && echo ok"),
              "ok");
    std::ofstream(dir_.Sub("kam.password")) << "kam-secret-7f3a\n";
    std::ofstream(dir_.Sub("wrong.password")) << "guessed\n";
    std::ofstream(dir_.Sub("client.properties"))
        << "security.protocol=sasl_ssl\nsasl.mechanism=PLAIN\nsasl.username=kam\n"
        << "sasl.password=kam-secret-7f3a\nssl.ca.location=" << dir_.Sub("ca.pem") << "\n";
    // Two free ports: the SASL_SSL listener (the only one clients reach) and the controller.
    const std::vector<std::string> ports =
        absl::StrSplit(Shell("python3 -c 'import socket\nss=[socket.socket() for _ in range(2)]\n"
                             "[s.bind((\"127.0.0.1\",0)) for s in ss]\n"
                             "print(\" \".join(str(s.getsockname()[1]) for s in ss))'"),
                       ' ');
    ASSERT_EQ(ports.size(), 2u);
    const std::string& port = ports[0];
    const std::string& controller = ports[1];
    const std::string jaas =
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"broker\" "
        "password=\"broker-secret\" user_broker=\"broker-secret\" user_kam=\"kam-secret-7f3a\";";
    const std::string scram_module =
        "org.apache.kafka.common.security.scram.ScramLoginModule required;";
    const std::vector<std::string> settings = {
        "listeners=SASL_SSL://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controller,
        "advertised.listeners=SASL_SSL://127.0.0.1:" + port,
        "inter.broker.listener.name=SASL_SSL",
        "listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
        "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol=PLAIN",
        "listener.name.sasl_ssl.plain.sasl.jaas.config=" + jaas,
        // SCRAM users live in the cluster's metadata (written at format time below).
        "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=" + scram_module,
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=" + scram_module,
        "ssl.keystore.type=PEM",
        "ssl.keystore.location=" + dir_.Sub("broker.pem"),
        "ssl.truststore.type=PEM",
        "ssl.truststore.location=" + dir_.Sub("ca.pem"),
    };
    std::string command = absl::StrCat(kafka_local_, " start --data-dir ", dir_.Sub("kafka"),
                                       " --port ", port, " --controller-port ", controller,
                                       " --client-config ", dir_.Sub("client.properties"));
    for (const std::string& setting : settings) absl::StrAppend(&command, " --set '", setting, "'");
    for (const char* mechanism : {"SCRAM-SHA-256", "SCRAM-SHA-512"}) {
      absl::StrAppend(&command, " --add-scram '", mechanism, "=[name=ops,password=", kScramPassword,
                      "]'");
    }
    brokers_ = Shell(command + " 2>" + dir_.Sub("kafka-start.err"));
    ASSERT_EQ(brokers_, "127.0.0.1:" + port) << testing::ReadFile(dir_.Sub("kafka-start.err"));
  }

  void TearDown() override {
    (void)system(
        (kafka_local_ + " stop --data-dir " + dir_.Sub("kafka") + " >/dev/null 2>&1").c_str());
  }

  static constexpr char kScramPassword[] = "ops-scram-91c2";

  std::vector<std::string> SecurityFlags(const std::string& password_file,
                                         const std::string& mechanism = "PLAIN",
                                         const std::string& user = "kam") const {
    return {"--kafka-security-protocol",
            "SASL_SSL",
            "--kafka-sasl-mechanism",
            mechanism,
            "--kafka-sasl-username",
            user,
            "--kafka-sasl-password-file",
            password_file,
            "--kafka-ssl-ca",
            dir_.Sub("ca.pem")};
  }

  // kcat's answer (stdout and stderr) with `options`, bounded in time.
  std::string Kcat(const std::string& options) const {
    return Shell("timeout 30 kcat -b " + brokers_ + " " + options + " 2>&1");
  }

  const std::string kafka_local_ = std::string(KAM_SOURCE_DIR) + "/scripts/kafka-local";
  testing::TempDir dir_;
  std::string brokers_;
};

TEST_F(SecureBrokerTest, ThePlatformWorksOverSaslSslAndNobodyElseGetsIn) {
  const auto flags = SecurityFlags(dir_.Sub("kam.password"));
  auto accounts =
      testing::StartService("kam-accounts", brokers_, dir_.Sub("a"), dir_.Sub("a-log"), flags);
  auto interactions =
      testing::StartService("kam-interactions", brokers_, dir_.Sub("i"), dir_.Sub("i-log"), flags);
  auto alerts =
      testing::StartService("kam-alerts", brokers_, dir_.Sub("x"), dir_.Sub("x-log"), flags);
  ASSERT_TRUE(accounts.process) << accounts.address;
  ASSERT_TRUE(interactions.process) << interactions.address;
  ASSERT_TRUE(alerts.process) << alerts.address;

  // The demo's stories need every hop: accounts -> Kafka -> alerts and interactions -> alerts.
  testing::Process demo(
      {testing::BinDir() + "/kamctl", "demo", "--seed", "11", "--accounts", "40", "--months", "2"},
      dir_.Sub("demo"),
      {{"KAM_ACCOUNTS_ADDR", accounts.address},
       {"KAM_INTERACTIONS_ADDR", interactions.address},
       {"KAM_ALERTS_ADDR", alerts.address}});
  ASSERT_EQ(demo.Wait(std::chrono::seconds(240)).value_or(-1), 0) << demo.Stderr();
  EXPECT_NE(demo.Stdout().find("demo: Max's overload alert "), std::string::npos) << demo.Stdout();

  // An operator with the credentials reads the alert stream.
  const std::string stream = Kcat("-F " + dir_.Sub("client.properties") +
                                  " -C -t kam.alerts.v1 -o beginning -e -q -f '%k\\n'");
  EXPECT_GT(std::count(stream.begin(), stream.end(), '\n'), 0) << stream;
  EXPECT_EQ(stream.find("ERROR"), std::string::npos) << stream;

  // Without credentials: not even the topic list.
  const std::string plaintext = Kcat("-L -m 5");
  EXPECT_NE(plaintext.find("Failed to acquire metadata"), std::string::npos) << plaintext;
  EXPECT_EQ(plaintext.find("kam.alerts.v1"), std::string::npos) << plaintext;
  const std::string guessed = Kcat(
      "-L -m 5 -X security.protocol=sasl_ssl -X sasl.mechanism=PLAIN -X sasl.username=kam "
      "-X sasl.password=guessed -X ssl.ca.location=" +
      dir_.Sub("ca.pem"));
  EXPECT_NE(guessed.find("Authentication failed"), std::string::npos) << guessed;
  EXPECT_EQ(guessed.find("kam.alerts.v1"), std::string::npos) << guessed;

  // Secrets stay out of the logs.
  for (const auto* service : {&accounts, &interactions, &alerts}) {
    EXPECT_EQ(service->process->Stderr().find("kam-secret-7f3a"), std::string::npos);
  }
}

// SCRAM users are in the broker (a wrong SCRAM password is refused either way). A librdkafka
// from 2.6.1 on logs in with both SCRAM mechanisms and the services work; an older one -- Debian
// 12's 2.0.2 -- is refused by Kafka 4.x (confluentinc/librdkafka#4895), and then the service
// stops its start with an error that says so and names the way out instead of retrying blindly.
TEST_F(SecureBrokerTest, ScramLogsInOrTheStartExplainsWhyThisLibrdkafkaCannot) {
  std::ofstream(dir_.Sub("ops.password")) << kScramPassword << "\n";
  const std::string scram_login =
      " -X security.protocol=sasl_ssl -X sasl.username=ops -X ssl.ca.location=" +
      dir_.Sub("ca.pem");
  const std::string guessed =
      Kcat("-L -m 5 -X sasl.mechanism=SCRAM-SHA-512 -X sasl.password=guessed" + scram_login);
  EXPECT_NE(guessed.find("Authentication failed"), std::string::npos) << guessed;
  EXPECT_EQ(guessed.find("kam.managers.v1"), std::string::npos) << guessed;

  if (rd_kafka_version() < 0x020601ff) {
    // The broker's SCRAM users work: Kafka's own Java client logs in with them.
    std::ofstream(dir_.Sub("java-scram.properties"))
        << "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
        << "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        << "username=\"ops\" password=\"" << kScramPassword << "\";\n"
        << "ssl.truststore.type=PEM\nssl.truststore.location=" << dir_.Sub("ca.pem") << "\n";
    const std::string java_login =
        Shell("timeout 60 java -cp \"$(" + std::string(KAM_SOURCE_DIR) +
              "/scripts/kafka-fetch)/*\" org.apache.kafka.tools.ClusterTool cluster-id "
              "--bootstrap-server " +
              brokers_ + " --config " + dir_.Sub("java-scram.properties") + " 2>&1");
    EXPECT_NE(java_login.find("Cluster ID: "), std::string::npos) << java_login;

    std::vector<std::string> argv = {testing::BinDir() + "/kam-accounts",
                                     "--kafka-brokers",
                                     brokers_,
                                     "--data-dir",
                                     dir_.Sub("a"),
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--metrics-listen",
                                     "",
                                     "--kafka-wait-seconds",
                                     "5"};
    for (const std::string& flag :
         SecurityFlags(dir_.Sub("ops.password"), "SCRAM-SHA-512", "ops")) {
      argv.push_back(flag);
    }
    testing::Process refused(argv, dir_.Sub("a-log"));
    EXPECT_NE(refused.Wait(std::chrono::seconds(60)).value_or(0), 0);
    const std::string log = refused.Stderr();
    const size_t failed = log.find("\"msg\":\"start failed\"");
    ASSERT_NE(failed, std::string::npos) << log;
    const std::string failure = log.substr(failed, log.find('\n', failed) - failed);
    EXPECT_NE(failure.find("cannot log in with SCRAM to Apache Kafka 4.x brokers"),
              std::string::npos)
        << failure;
    EXPECT_NE(failure.find("--kafka-sasl-mechanism PLAIN"), std::string::npos) << failure;
    EXPECT_EQ(log.find(kScramPassword), std::string::npos) << "the password is not logged";
    return;
  }

  auto accounts =
      testing::StartService("kam-accounts", brokers_, dir_.Sub("a"), dir_.Sub("a-log"),
                            SecurityFlags(dir_.Sub("ops.password"), "SCRAM-SHA-512", "ops"));
  auto interactions =
      testing::StartService("kam-interactions", brokers_, dir_.Sub("i"), dir_.Sub("i-log"),
                            SecurityFlags(dir_.Sub("ops.password"), "SCRAM-SHA-256", "ops"));
  ASSERT_TRUE(accounts.process) << accounts.address;
  ASSERT_TRUE(interactions.process) << interactions.address;
  // A write over gRPC reaches Kafka through the SCRAM-SHA-512 login, and an operator logging in
  // with SCRAM-SHA-256 reads it back.
  testing::Process create(
      {testing::BinDir() + "/kamctl", "--accounts", accounts.address, "--json", "managers",
       "create", "--name", "Scram Tester", "--email", "scram@example.com"},
      dir_.Sub("create"));
  ASSERT_EQ(create.Wait(std::chrono::seconds(30)).value_or(-1), 0) << create.Stderr();
  const std::string managers =
      Kcat("-C -t kam.managers.v1 -o beginning -e -q -f '%s\\n' -X sasl.mechanism=SCRAM-SHA-256" +
           scram_login + " -X sasl.password=" + kScramPassword);
  EXPECT_NE(managers.find("scram@example.com"), std::string::npos) << managers;
  for (const auto* service : {&accounts, &interactions}) {
    EXPECT_EQ(service->process->Stderr().find(kScramPassword), std::string::npos);
  }
}

TEST_F(SecureBrokerTest, AServiceWithAWrongPasswordDoesNotStart) {
  std::vector<std::string> argv = {testing::BinDir() + "/kam-interactions",
                                   "--kafka-brokers",
                                   brokers_,
                                   "--data-dir",
                                   dir_.Sub("wrong"),
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--metrics-listen",
                                   "",
                                   "--kafka-wait-seconds",
                                   "5"};
  for (const std::string& flag : SecurityFlags(dir_.Sub("wrong.password"))) argv.push_back(flag);
  testing::Process refused(argv, dir_.Sub("wrong-log"));
  EXPECT_NE(refused.Wait(std::chrono::seconds(60)).value_or(0), 0);
  EXPECT_NE(refused.Stderr().find("SASL authentication error"), std::string::npos)
      << refused.Stderr();
  EXPECT_EQ(refused.Stderr().find("guessed"), std::string::npos) << "the password is not logged";
}

}  // namespace
}  // namespace kam
