#pragma once

// Shared pieces of the librdkafka adapter: configuration, error classification, topic creation.
// Only adapters include this; logic classes see ConsumedRecord / EventPublisher instead.

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/kafka_topics.h"
#include "common/status.h"

namespace kam::kafka {

struct KafkaOptions {
  // bootstrap.servers; the only thing that differs between the embedded and the real broker.
  std::string brokers;
  std::string client_id = "kam";
  // Extra librdkafka properties, applied last (for tests and tuning).
  std::vector<std::pair<std::string, std::string>> extra;
};

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;

// Retryable errors (broker down, leader moving, timeouts) become UNAVAILABLE; the rest, which no
// retry fixes (bad config, authorization, message too large), become INTERNAL or INVALID_ARGUMENT.
absl::Status FromKafka(rd_kafka_resp_err_t err, std::string_view what);
bool IsRetryable(rd_kafka_resp_err_t err);

// Builds a configuration from `options` plus `properties`; each set() is checked.
absl::StatusOr<rd_kafka_conf_t*> NewConf(
    const KafkaOptions& options,
    const std::vector<std::pair<std::string, std::string>>& properties);

absl::StatusOr<HandlePtr> NewHandle(rd_kafka_type_t type, rd_kafka_conf_t* conf);

// A consumer that reads a changelog outside any group (it assigns partitions itself, commits
// nothing): read_committed, end-of-partition events on, fetches that wait at most
// `fetch_wait_ms` for data. `group_id` only names it.
absl::StatusOr<HandlePtr> NewChangelogReader(const KafkaOptions& options,
                                             const std::string& group_id, int fetch_wait_ms);

// Topic configuration entries by topic name (e.g. cleanup.policy=compact for a changelog).
using TopicConfigs = std::map<std::string, std::vector<std::pair<std::string, std::string>>>;

// Creates the topics that are missing, with `partitions` partitions, `replication_factor`
// replicas (-1: the broker's default) and `configs`. Existing ones are left alone.
absl::Status EnsureTopics(const KafkaOptions& options, const std::vector<std::string>& topics,
                          int partitions, int timeout_ms, const TopicConfigs& configs = {},
                          int replication_factor = -1);

// The topics of `topics` that do not exist.
absl::StatusOr<std::vector<std::string>> MissingTopics(const KafkaOptions& options,
                                                      const std::vector<std::string>& topics,
                                                      int timeout_ms);

// The number of brokers in the cluster that are up, as its metadata says.
absl::StatusOr<int> BrokerCount(rd_kafka_t* rk, int timeout_ms);

// Waits until the cluster answers a metadata request, or the deadline passes.
absl::Status WaitForBroker(const KafkaOptions& options, int timeout_ms);

// The cluster id the brokers report (KRaft and ZooKeeper clusters alike).
absl::StatusOr<std::string> ClusterId(rd_kafka_t* rk, int timeout_ms);

// The end offset (high watermark) of topic/partition; NOT_FOUND when it does not exist.
absl::StatusOr<int64_t> EndOffset(rd_kafka_t* rk, const std::string& topic, int32_t partition,
                                  int timeout_ms);

// The partition count of `topic` (NOT_FOUND when the topic does not exist).
absl::StatusOr<int32_t> PartitionCount(rd_kafka_t* rk, const std::string& topic, int timeout_ms);

// The partition of `key` among `partitions`: Kafka's default partitioner (murmur2, which Java
// clients agree on), as librdkafka implements it.
int32_t PartitionOfKey(std::string_view key, int32_t partitions);

}  // namespace kam::kafka
