// kam-broker: the embedded Kafka-protocol broker for `scripts/run` and development. Prints its
// bootstrap address as the first line of output, then serves until SIGINT/SIGTERM.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "common/logging.h"
#include "tools/broker/mock_broker.h"

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:9092";
  int partitions = 3;
  int brokers = 1;
  CLI::App app{
      "kam-broker: in-memory Kafka-protocol broker (librdkafka mock cluster) for development"};
  app.option_defaults()->always_capture_default();
  app.add_option("--listen", listen, "bootstrap address host:port (port 0 picks one)")
      ->envname("KAM_BROKER_LISTEN");
  app.add_option("--partitions", partitions, "partitions of each kam topic")
      ->check(CLI::Range(1, 64))
      ->envname("KAM_TOPIC_PARTITIONS");
  app.add_option("--brokers", brokers, "number of mock brokers")->check(CLI::Range(1, 5));
  CLI11_PARSE(app, argc, argv);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  kam::log::SetServiceName("kam-broker");

  auto broker = kam::MockBroker::Start(brokers, partitions, listen);
  if (!broker.ok()) {
    kam::log::Error("start failed", {{"error", broker.status().ToString()}});
    return 1;
  }
  std::printf("%s\n", (*broker)->bootstrap().c_str());
  std::fflush(stdout);
  kam::log::Info("serving", {{"bootstrap", (*broker)->bootstrap()},
                             {"cluster", (*broker)->cluster_bootstraps()},
                             {"partitions", std::to_string(partitions)}});
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  kam::log::Info("stopping");
  return 0;
}
