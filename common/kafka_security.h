#pragma once

// How a kam process authenticates to Kafka and encrypts the connection: security.protocol, SASL
// (PLAIN, SCRAM-SHA-256/512) and SSL, as flags and KAM_KAFKA_* variables shared by the services
// and the Alertmanager bridge, turned into librdkafka properties. Secrets (the SASL password, the
// key's passphrase) are read from files, never taken from the command line, where every user of
// the host could read them in the process list.

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace CLI {
class App;
}

namespace kam {

struct KafkaSecurity {
  std::string protocol = "PLAINTEXT";  // PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
  std::string sasl_mechanism;          // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
  std::string sasl_username;
  std::string sasl_password_file;     // first line: the password
  std::string ssl_ca;                 // PEM CA of the brokers' certificates (default: system roots)
  std::string ssl_cert;               // PEM client certificate (mutual TLS to the brokers)
  std::string ssl_key;                // PEM key of ssl_cert
  std::string ssl_key_password_file;  // first line: the key's passphrase, when it has one
};

// Declares --kafka-security-protocol, --kafka-sasl-mechanism, --kafka-sasl-username,
// --kafka-sasl-password-file, --kafka-ssl-ca, --kafka-ssl-cert, --kafka-ssl-key and
// --kafka-ssl-key-password-file (each also as its KAM_ variable) on `app`.
void AddKafkaSecurityOptions(CLI::App& app, KafkaSecurity* security);

// The librdkafka properties for `security`, secrets read from their files. INVALID_ARGUMENT
// naming the flag for an unknown protocol or mechanism, SASL without a user or password, a
// setting the protocol does not use, or a file that cannot be read. Never names a secret.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> LibrdkafkaSecurityProperties(
    const KafkaSecurity& security);

// librdkafka before 2.6.1 builds a SCRAM proof that Apache Kafka 4.x brokers refuse as "invalid
// credentials" (confluentinc/librdkafka#4895; Debian 12 ships 2.0.2). For SCRAM on such a
// librdkafka (`librdkafka_version` as rd_kafka_version() returns it), the explanation and the way
// out, for the start log and for the error of a start that could not log in; empty otherwise.
std::string ScramCompatibilityNote(const KafkaSecurity& security, int librdkafka_version);

}  // namespace kam
