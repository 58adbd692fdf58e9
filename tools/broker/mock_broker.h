#pragma once

// The embedded, in-memory Kafka-protocol broker: librdkafka's mock cluster plus a small TCP relay
// so clients can bootstrap from a fixed address. The mock brokers bind ephemeral ports of their
// own; after the first metadata answer clients talk to those directly, so the relay only carries
// bootstrap connections. For development and fast tests only: nothing is kept, and its fetch path
// scans a partition's log, so very long partitions get slow.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka/kafka_common.h"
#include "common/status.h"

namespace kam {

class MockBroker {
 public:
  ~MockBroker();

  // Starts a mock cluster with `brokers` brokers and the kam topics (each `partitions` wide),
  // and a bootstrap relay on `listen` (host:port; empty = no relay, port 0 = pick one).
  static absl::StatusOr<std::unique_ptr<MockBroker>> Start(int brokers, int partitions,
                                                           const std::string& listen);

  // Creates (or leaves) a topic.
  absl::Status CreateTopic(const std::string& topic, int partitions);
  // The mock cluster's own bootstrap list (ephemeral ports).
  std::string cluster_bootstraps() const;
  // The address clients should use: the relay when there is one, else the cluster's.
  std::string bootstrap() const;
  // Takes broker `id` (1-based) down or back up: a broker outage for fault tests.
  absl::Status SetBrokerUp(int id, bool up);

 private:
  MockBroker() = default;
  void AcceptLoop();

  kafka::HandlePtr handle_;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  int listen_fd_ = -1;
  std::string relay_address_;
  std::atomic<bool> stop_{false};
  std::thread accept_thread_;
  std::vector<std::thread> pumps_;
};

}  // namespace kam
