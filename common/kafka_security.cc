#include "common/kafka_security.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/secret_file.h"

namespace kam {
namespace {

absl::Status CheckReadable(const std::string& path, const char* flag) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read \"", path, "\""));
  return absl::OkStatus();
}

}  // namespace

void AddKafkaSecurityOptions(CLI::App& app, KafkaSecurity* security) {
  app.add_option("--kafka-security-protocol", security->protocol,
                 "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (docs/SECURITY.md)")
      ->envname("KAM_KAFKA_SECURITY_PROTOCOL")
      ->capture_default_str();
  app.add_option("--kafka-sasl-mechanism", security->sasl_mechanism,
                 "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (with SASL_*)")
      ->envname("KAM_KAFKA_SASL_MECHANISM");
  app.add_option("--kafka-sasl-username", security->sasl_username, "SASL user name")
      ->envname("KAM_KAFKA_SASL_USERNAME");
  app.add_option("--kafka-sasl-password-file", security->sasl_password_file,
                 "file whose first line is the SASL password (a secret: never a flag value)")
      ->envname("KAM_KAFKA_SASL_PASSWORD_FILE");
  app.add_option("--kafka-ssl-ca", security->ssl_ca,
                 "PEM CA of the brokers' certificates (default: the system's roots)")
      ->envname("KAM_KAFKA_SSL_CA");
  app.add_option("--kafka-ssl-cert", security->ssl_cert,
                 "PEM client certificate for brokers that require one")
      ->envname("KAM_KAFKA_SSL_CERT");
  app.add_option("--kafka-ssl-key", security->ssl_key, "PEM key of --kafka-ssl-cert")
      ->envname("KAM_KAFKA_SSL_KEY");
  app.add_option("--kafka-ssl-key-password-file", security->ssl_key_password_file,
                 "file whose first line is the passphrase of --kafka-ssl-key")
      ->envname("KAM_KAFKA_SSL_KEY_PASSWORD_FILE");
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> LibrdkafkaSecurityProperties(
    const KafkaSecurity& security) {
  const std::string protocol = absl::AsciiStrToUpper(security.protocol);
  if (protocol != "PLAINTEXT" && protocol != "SSL" && protocol != "SASL_PLAINTEXT" &&
      protocol != "SASL_SSL") {
    return absl::InvalidArgumentError(
        absl::StrCat("--kafka-security-protocol: expected PLAINTEXT, SSL, SASL_PLAINTEXT or "
                     "SASL_SSL, got \"",
                     security.protocol, "\""));
  }
  const bool sasl = absl::StartsWith(protocol, "SASL_");
  const bool ssl = absl::EndsWith(protocol, "SSL");
  std::vector<std::pair<std::string, std::string>> properties = {
      {"security.protocol", absl::AsciiStrToLower(protocol)}};
  if (sasl) {
    const std::string mechanism = absl::AsciiStrToUpper(security.sasl_mechanism);
    if (mechanism != "PLAIN" && mechanism != "SCRAM-SHA-256" && mechanism != "SCRAM-SHA-512") {
      return absl::InvalidArgumentError(absl::StrCat(
          "--kafka-sasl-mechanism: ", protocol,
          " needs PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got \"", security.sasl_mechanism, "\""));
    }
    if (security.sasl_username.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--kafka-sasl-username: ", protocol, " needs a user name"));
    }
    if (security.sasl_password_file.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--kafka-sasl-password-file: ", protocol, " needs the password's file"));
    }
    KAM_ASSIGN_OR_RETURN(std::string password,
                         ReadSecretFile(security.sasl_password_file, "--kafka-sasl-password-file"));
    if (!ssl && mechanism == "PLAIN") {
      log::Warn("SASL PLAIN over SASL_PLAINTEXT sends the Kafka password unencrypted; use SASL_SSL",
                {{"flag", "--kafka-security-protocol"}});
    }
    properties.insert(properties.end(), {{"sasl.mechanism", mechanism},
                                         {"sasl.username", security.sasl_username},
                                         {"sasl.password", std::move(password)}});
  } else if (!security.sasl_mechanism.empty() || !security.sasl_username.empty() ||
             !security.sasl_password_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--kafka-sasl-*: SASL settings need --kafka-security-protocol SASL_SSL or "
                     "SASL_PLAINTEXT, not ",
                     protocol));
  }
  if (ssl) {
    if (!security.ssl_ca.empty()) {
      KAM_RETURN_IF_ERROR(CheckReadable(security.ssl_ca, "--kafka-ssl-ca"));
      properties.emplace_back("ssl.ca.location", security.ssl_ca);
    }
    if (security.ssl_cert.empty() != security.ssl_key.empty()) {
      return absl::InvalidArgumentError("--kafka-ssl-cert, --kafka-ssl-key: give both or neither");
    }
    if (!security.ssl_cert.empty()) {
      KAM_RETURN_IF_ERROR(CheckReadable(security.ssl_cert, "--kafka-ssl-cert"));
      KAM_RETURN_IF_ERROR(CheckReadable(security.ssl_key, "--kafka-ssl-key"));
      properties.emplace_back("ssl.certificate.location", security.ssl_cert);
      properties.emplace_back("ssl.key.location", security.ssl_key);
    }
    if (!security.ssl_key_password_file.empty() && security.ssl_key.empty()) {
      return absl::InvalidArgumentError(
          "--kafka-ssl-key-password-file: a passphrase needs --kafka-ssl-key");
    }
    if (!security.ssl_key_password_file.empty()) {
      KAM_ASSIGN_OR_RETURN(std::string passphrase, ReadSecretFile(security.ssl_key_password_file,
                                                                  "--kafka-ssl-key-password-file"));
      properties.emplace_back("ssl.key.password", std::move(passphrase));
    }
  } else if (!security.ssl_ca.empty() || !security.ssl_cert.empty() || !security.ssl_key.empty() ||
             !security.ssl_key_password_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--kafka-ssl-*: SSL settings need --kafka-security-protocol SSL or SASL_SSL, not ",
        protocol));
  }
  return properties;
}

std::string ScramCompatibilityNote(const KafkaSecurity& security, int librdkafka_version) {
  constexpr int kFirstFixedVersion = 0x020601ff;  // 2.6.1 (major, minor, revision, pre-release)
  if (!absl::StartsWith(absl::AsciiStrToUpper(security.sasl_mechanism), "SCRAM-") ||
      librdkafka_version >= kFirstFixedVersion) {
    return "";
  }
  return absl::StrCat("librdkafka ", (librdkafka_version >> 24) & 0xff, ".",
                      (librdkafka_version >> 16) & 0xff, ".", (librdkafka_version >> 8) & 0xff,
                      " cannot log in with SCRAM to Apache Kafka 4.x brokers, which refuse its "
                      "proof as invalid credentials (fixed in librdkafka 2.6.1, "
                      "confluentinc/librdkafka#4895); with a 4.x broker use "
                      "--kafka-sasl-mechanism PLAIN over SASL_SSL (docs/SECURITY.md)");
}

}  // namespace kam
