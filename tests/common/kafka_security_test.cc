// Kafka security settings: what librdkafka is given for each protocol, secrets read from files
// (and never echoed in errors), and the mistakes that stop a start, each naming its flag.

#include "common/kafka_security.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>

#include "tests/testing/temp_dir.h"

namespace kam {
namespace {

std::map<std::string, std::string> Properties(const KafkaSecurity& security) {
  auto properties = LibrdkafkaSecurityProperties(security);
  EXPECT_TRUE(properties.ok()) << properties.status();
  if (!properties.ok()) return {};
  return {properties->begin(), properties->end()};
}

std::string Error(const KafkaSecurity& security) {
  auto properties = LibrdkafkaSecurityProperties(security);
  return properties.ok() ? "ok" : std::string(properties.status().message());
}

TEST(KafkaSecurityTest, PlaintextIsTheDefaultAndAddsNothingElse) {
  EXPECT_EQ(Properties(KafkaSecurity{}),
            (std::map<std::string, std::string>{{"security.protocol", "plaintext"}}));
}

TEST(KafkaSecurityTest, SaslSslReadsThePasswordFromItsFile) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("password")) << "s3cret\n";
  std::ofstream(dir.Sub("ca.pem")) << "-----BEGIN CERTIFICATE-----\n";
  KafkaSecurity security{"sasl_ssl", "scram-sha-512", "kam", dir.Sub("password"),
                         dir.Sub("ca.pem")};
  EXPECT_EQ(Properties(security), (std::map<std::string, std::string>{
                                      {"security.protocol", "sasl_ssl"},
                                      {"sasl.mechanism", "SCRAM-SHA-512"},
                                      {"sasl.username", "kam"},
                                      {"sasl.password", "s3cret"},
                                      {"ssl.ca.location", dir.Sub("ca.pem")},
                                  }));
}

TEST(KafkaSecurityTest, ASecretKeepsItsSpacesButNotAWindowsLineEnd) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("password")) << " pass word \r\n";
  auto properties = Properties(KafkaSecurity{"SASL_SSL", "PLAIN", "kam", dir.Sub("password")});
  EXPECT_EQ(properties["sasl.password"], " pass word ");
}

TEST(KafkaSecurityTest, MistakesNameTheFlagAndNeverTheSecret) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("password")) << "s3cret\n";
  std::ofstream(dir.Sub("empty")) << "\n";
  EXPECT_EQ(Error({"TLS"}),
            "--kafka-security-protocol: expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got "
            "\"TLS\"");
  EXPECT_EQ(Error({"SASL_SSL", "GSSAPI", "kam", dir.Sub("password")}),
            "--kafka-sasl-mechanism: SASL_SSL needs PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got "
            "\"GSSAPI\"");
  EXPECT_EQ(Error({"SASL_SSL", "PLAIN", "", dir.Sub("password")}),
            "--kafka-sasl-username: SASL_SSL needs a user name");
  EXPECT_EQ(Error({"SASL_SSL", "PLAIN", "kam", ""}),
            "--kafka-sasl-password-file: SASL_SSL needs the password's file");
  EXPECT_EQ(Error({"SASL_SSL", "PLAIN", "kam", dir.Sub("none")}),
            "--kafka-sasl-password-file: cannot read \"" + dir.Sub("none") + "\"");
  EXPECT_EQ(Error({"SASL_SSL", "PLAIN", "kam", dir.Sub("empty")}),
            "--kafka-sasl-password-file: \"" + dir.Sub("empty") + "\" has an empty first line");
  EXPECT_EQ(Error({"PLAINTEXT", "PLAIN", "kam", dir.Sub("password")}),
            "--kafka-sasl-*: SASL settings need --kafka-security-protocol SASL_SSL or "
            "SASL_PLAINTEXT, not PLAINTEXT");
  EXPECT_EQ(Error({"SASL_PLAINTEXT", "PLAIN", "kam", dir.Sub("password"), dir.Sub("ca.pem")}),
            "--kafka-ssl-*: SSL settings need --kafka-security-protocol SSL or SASL_SSL, not "
            "SASL_PLAINTEXT");
  KafkaSecurity half;
  half.protocol = "SSL";
  half.ssl_cert = dir.Sub("password");
  EXPECT_EQ(Error(half), "--kafka-ssl-cert, --kafka-ssl-key: give both or neither");
  KafkaSecurity passphrase_only;
  passphrase_only.protocol = "SSL";
  passphrase_only.ssl_key_password_file = dir.Sub("password");
  EXPECT_EQ(Error(passphrase_only),
            "--kafka-ssl-key-password-file: a passphrase needs --kafka-ssl-key");
}

TEST(KafkaSecurityTest, ScramOnALibrdkafkaThatKafka4RefusesIsExplained) {
  KafkaSecurity scram{"sasl_ssl", "scram-sha-256", "kam", "password"};
  const std::string note = ScramCompatibilityNote(scram, 0x020002ff);  // Debian 12's 2.0.2
  EXPECT_NE(note.find("librdkafka 2.0.2 cannot log in with SCRAM to Apache Kafka 4.x"),
            std::string::npos)
      << note;
  EXPECT_NE(note.find("2.6.1"), std::string::npos) << note;
  EXPECT_NE(note.find("--kafka-sasl-mechanism PLAIN"), std::string::npos) << note;
  EXPECT_EQ(ScramCompatibilityNote(scram, 0x020601ff), "") << "fixed from 2.6.1 on";
  EXPECT_EQ(ScramCompatibilityNote(scram, 0x020a00ff), "");
  KafkaSecurity plain{"sasl_ssl", "PLAIN", "kam", "password"};
  EXPECT_EQ(ScramCompatibilityNote(plain, 0x020002ff), "") << "PLAIN works with every version";
}

}  // namespace
}  // namespace kam
