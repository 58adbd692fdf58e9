#include "common/config.h"

#include <CLI/CLI.hpp>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/auth_file.h"
#include "common/logging.h"
#include "common/tls_files.h"

namespace kam {

absl::Status SplitHostPort(const std::string& address, const std::string& field, std::string* host,
                           int* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": expected host:port, got \"", address, "\""));
  }
  int value = -1;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &value) || value < 0 || value > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": port must be 0..65535, got \"", address.substr(colon + 1), "\""));
  }
  *host = address.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  *port = value;
  return absl::OkStatus();
}

absl::Status ValidateConfig(const ServiceConfig& config) {
  std::string host;
  int port = 0;
  KAM_RETURN_IF_ERROR(SplitHostPort(config.listen, "--listen", &host, &port));
  KAM_RETURN_IF_ERROR(
      CheckTlsFiles({config.tls_cert, config.tls_key, config.tls_client_ca, config.tls_ca}));
  if (config.tls_cert.empty() && !config.allow_plaintext && !IsLoopbackHost(host)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen ", config.listen,
        ": refusing plaintext gRPC on an address other than "
        "loopback; give --tls-cert and --tls-key, or --allow-plaintext on a trusted network"));
  }
  KAM_RETURN_IF_ERROR(LibrdkafkaSecurityProperties(config.kafka_security).status());
  if (!config.auth_file.empty() && config.tls_cert.empty()) {
    return absl::InvalidArgumentError(
        "--auth-file: needs --tls-cert and --tls-key; a bearer token sent in plaintext can be "
        "read and replayed by anyone on the path");
  }
  if (!config.auth_file.empty()) {
    // Read now, so a bad file stops the start at once (exit 2), before RocksDB and Kafka.
    KAM_RETURN_IF_ERROR(auth::AuthFile::Open(config.auth_file, nullptr).status());
  }
  if (config.metrics_tls_cert.empty() != config.metrics_tls_key.empty()) {
    return absl::InvalidArgumentError(
        "--metrics-tls-cert, --metrics-tls-key: give both or neither");
  }
  for (const auto& [path, flag] : {std::pair<std::string, const char*>{config.metrics_tls_cert,
                                                                        "--metrics-tls-cert"},
                                   std::pair<std::string, const char*>{config.metrics_tls_key,
                                                                        "--metrics-tls-key"}}) {
    if (!path.empty() && !std::ifstream(path)) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read \"", path, "\""));
    }
  }
  if (!config.metrics_listen.empty()) {
    KAM_RETURN_IF_ERROR(SplitHostPort(config.metrics_listen, "--metrics-listen", &host, &port));
  }
  if (config.kafka_brokers.empty()) {
    return absl::InvalidArgumentError("--kafka-brokers: must name at least one broker");
  }
  if (config.data_dir.empty()) return absl::InvalidArgumentError("--data-dir: must not be empty");
  log::Level level;
  if (!log::ParseLevel(config.log_level, &level)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--log-level: expected debug|info|warn|error, got \"", config.log_level, "\""));
  }
  if (config.topic_partitions < 1 || config.topic_partitions > 1000) {
    return absl::InvalidArgumentError("--topic-partitions: must be 1..1000");
  }
  if (config.instance_id.size() > 100 ||
      config.instance_id.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--instance-id: at most 100 of A-Z a-z 0-9 . _ -, got \"", config.instance_id, "\""));
  }
  if (config.replication_factor < 0 || config.replication_factor > 7) {
    return absl::InvalidArgumentError("--replication-factor: must be 0 (automatic) to 7");
  }
  if (config.min_insync_replicas < 0 || config.min_insync_replicas > 7) {
    return absl::InvalidArgumentError("--min-insync-replicas: must be 0 (automatic) to 7");
  }
  if (config.alerts_retention_days < 1 || config.alerts_retention_days > 3650) {
    return absl::InvalidArgumentError("--alerts-retention-days: must be 1..3650");
  }
  if (config.session_timeout_ms < 6000 || config.session_timeout_ms > 300000) {
    return absl::InvalidArgumentError(
        "--session-timeout-ms: must be 6000..300000 (the broker's "
        "group.min/max.session.timeout.ms)");
  }
  return absl::OkStatus();
}

ParseOutcome ParseServiceConfig(int argc, char** argv, const ServiceDefaults& defaults,
                                const std::function<void(CLI::App&)>& add_options) {
  ParseOutcome outcome;
  ServiceConfig& config = outcome.config;
  config.service_name = defaults.service_name;
  config.listen = defaults.listen;
  config.metrics_listen = defaults.metrics_listen;
  config.data_dir = defaults.data_dir;
  config.kafka_brokers = "127.0.0.1:9092";

  CLI::App app{absl::StrCat(defaults.service_name, ": part of kam, the key-account platform")};
  app.option_defaults()->always_capture_default();
  app.add_option("--listen", config.listen, "gRPC address host:port (port 0 picks a free one)")
      ->envname("KAM_LISTEN");
  app.add_option("--kafka-brokers", config.kafka_brokers,
                 "Kafka bootstrap servers (embedded kam-broker or real Kafka)")
      ->envname("KAM_KAFKA_BROKERS");
  app.add_option("--data-dir", config.data_dir, "directory for the RocksDB state")
      ->envname("KAM_DATA_DIR");
  app.add_option("--metrics-listen", config.metrics_listen,
                 "Prometheus /metrics address host:port (empty disables)")
      ->envname("KAM_METRICS_LISTEN");
  app.add_option("--metrics-tls-cert", config.metrics_tls_cert,
                 "PEM certificate chain: serve /metrics over HTTPS")
      ->envname("KAM_METRICS_TLS_CERT");
  app.add_option("--metrics-tls-key", config.metrics_tls_key, "PEM key of --metrics-tls-cert")
      ->envname("KAM_METRICS_TLS_KEY");
  app.add_option("--log-level", config.log_level, "debug, info, warn or error")
      ->envname("KAM_LOG_LEVEL");
  app.add_option("--topic-partitions", config.topic_partitions,
                 "partitions for topics this service creates when missing")
      ->envname("KAM_TOPIC_PARTITIONS");
  app.add_option("--kafka-wait-seconds", config.kafka_wait_seconds,
                 "how long to wait for the broker at start")
      ->envname("KAM_KAFKA_WAIT_SECONDS");
  app.add_option("--consumer-group", config.consumer_group,
                 "Kafka consumer group for input topics (default: the service name)")
      ->envname("KAM_CONSUMER_GROUP");
  app.add_option("--instance-id", config.instance_id,
                 "stable name of this instance in its consumer group (static membership: a restart "
                 "gets its partitions back at once); default: an id kept in the data dir")
      ->envname("KAM_INSTANCE_ID");
  app.add_option("--advertise-address", config.advertise_address,
                 "host:port at which the other instances of this service reach this one (they "
                 "forward calls for the partitions it owns); default: the --listen address with "
                 "its bound port -- set it when listening on 0.0.0.0")
      ->envname("KAM_ADVERTISE_ADDRESS");
  app.add_option("--session-timeout-ms", config.session_timeout_ms,
                 "how long the group waits for a silent instance before moving its partitions")
      ->envname("KAM_SESSION_TIMEOUT_MS");
  app.add_option("--replication-factor", config.replication_factor,
                 "replicas of each partition of the topics this service creates (0: 3, or the "
                 "broker count on a smaller cluster); checked against the cluster at start")
      ->envname("KAM_REPLICATION_FACTOR");
  app.add_option("--min-insync-replicas", config.min_insync_replicas,
                 "replicas that must have a write before Kafka acknowledges it (0: 2 with three "
                 "replicas or more, else 1)")
      ->envname("KAM_MIN_INSYNC_REPLICAS");
  app.add_option("--alerts-retention-days", config.alerts_retention_days,
                 "how long kam.alerts.v1 keeps alert changes for replay, when created here")
      ->envname("KAM_ALERTS_RETENTION_DAYS");
  app.add_option("--tls-cert", config.tls_cert, "PEM certificate chain: serve gRPC over TLS")
      ->envname("KAM_TLS_CERT");
  app.add_option("--tls-key", config.tls_key, "PEM private key of --tls-cert")
      ->envname("KAM_TLS_KEY");
  app.add_option("--tls-client-ca", config.tls_client_ca,
                 "PEM CA: require client certificates signed by it (mutual TLS)")
      ->envname("KAM_TLS_CLIENT_CA");
  app.add_option("--tls-ca", config.tls_ca,
                 "PEM CA that signed the other instances' certificates (calls forwarded to them); "
                 "default: --tls-client-ca")
      ->envname("KAM_TLS_CA");
  app.add_flag("--allow-plaintext", config.allow_plaintext,
               "serve plaintext gRPC on an address other than loopback (a trusted network)")
      ->envname("KAM_ALLOW_PLAINTEXT");
  AddKafkaSecurityOptions(app, &config.kafka_security);
  app.add_option("--auth-file", config.auth_file,
                 "file of bearer-token hashes and their roles (writer, reader, acknowledger, "
                 "admin), re-read when it changes; every call then needs a token with the "
                 "method's role (docs/SECURITY.md). Needs --tls-cert")
      ->envname("KAM_AUTH_FILE");
  app.add_flag("--sync-writes", config.sync_writes,
               "fsync the write-ahead log on every write (survives power loss, slower)")
      ->envname("KAM_SYNC_WRITES");
  if (add_options) add_options(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    outcome.exit = true;
    // --help and --version are answers (0); anything CLI11 refuses is a bad flag: exit 2, as
    // for the values checked below (CLI11's own codes, 105 for an out-of-range value, are not
    // part of kam's contract).
    const int cli_code = app.exit(e);
    outcome.exit_code = cli_code == 0 ? 0 : 2;
    return outcome;
  }
  absl::Status valid = ValidateConfig(config);
  if (!valid.ok()) {
    std::fprintf(stderr, "%s: %s\n", defaults.service_name.c_str(),
                 std::string(valid.message()).c_str());
    outcome.exit = true;
    outcome.exit_code = 2;
  }
  return outcome;
}

}  // namespace kam
