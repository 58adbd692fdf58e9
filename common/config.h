#pragma once

// Service configuration: command-line flags, then KAM_* environment variables, then defaults
// (CLI11 resolves the first two; it was chosen over hand-written parsing for --help, env
// fallbacks and validation in one place). Validated at start with a message naming the option.

#include <functional>
#include <string>

#include "common/kafka_security.h"
#include "common/status.h"

namespace CLI {
class App;
}

namespace kam {

struct ServiceConfig {
  std::string service_name;    // e.g. "kam-accounts"
  std::string listen;          // gRPC host:port; port 0 picks one
  std::string kafka_brokers;   // bootstrap.servers
  std::string data_dir;        // RocksDB lives here
  std::string metrics_listen;  // host:port of /metrics; empty disables it
  std::string metrics_tls_cert, metrics_tls_key;  // /metrics over HTTPS when both are set
  std::string log_level = "info";
  int topic_partitions = 3;     // used when creating missing topics
  bool sync_writes = false;     // fsync the RocksDB WAL on every write
  int kafka_wait_seconds = 60;  // how long to wait for the broker at start
  std::string consumer_group;   // Kafka consumer group; empty = the service name
  // Stable name of this instance in its consumer group (static membership); empty = one kept in
  // the store, so a restart on the same disk is recognised.
  std::string instance_id;
  int session_timeout_ms = 10000;  // consumer group session timeout
  // host:port other instances forward calls to; empty = the listen address with its bound port.
  std::string advertise_address;
  // Topics this service creates (common/topic_policy.h): 0 = automatic (3 and 2 on a cluster of
  // three brokers or more).
  int replication_factor = 0;
  int min_insync_replicas = 0;
  int alerts_retention_days = 90;
  // gRPC over TLS (common/grpc_tls.h): --tls-cert/--tls-key turn it on, --tls-client-ca requires
  // client certificates, --tls-ca verifies the peers this instance forwards calls to.
  std::string tls_cert, tls_key, tls_client_ca, tls_ca;
  // Serve plaintext on an address other than loopback (a trusted network, or TLS terminated in
  // front); refused without it.
  bool allow_plaintext = false;
  // Bearer tokens and their roles (common/access_policy.h); empty: every call is allowed (roles
  // off, for development). Needs TLS.
  std::string auth_file;
  // How to reach Kafka securely (SASL, SSL); PLAINTEXT by default.
  KafkaSecurity kafka_security;
};

struct ServiceDefaults {
  std::string service_name;
  std::string listen;
  std::string metrics_listen;
  std::string data_dir;
};

// Parses argv. Returns the config, or an exit code when parsing ended the program (--help prints
// and yields 0, bad input prints the error and yields 2). `add_options` lets a service declare
// its own flags on the same parser.
struct ParseOutcome {
  bool exit = false;
  int exit_code = 0;
  ServiceConfig config;
};
ParseOutcome ParseServiceConfig(int argc, char** argv, const ServiceDefaults& defaults,
                                const std::function<void(CLI::App&)>& add_options = {});

// Checks the values that flags alone cannot (host:port shape, ranges).
absl::Status ValidateConfig(const ServiceConfig& config);

// Splits "host:port" into its parts; INVALID_ARGUMENT naming `field` when malformed.
absl::Status SplitHostPort(const std::string& address, const std::string& field, std::string* host,
                           int* port);

}  // namespace kam
