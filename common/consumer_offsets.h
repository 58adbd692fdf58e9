#pragma once

// Consumed offsets live in the service's own RocksDB, written in the same WriteBatch as the state
// change the records caused (Kafka Streams' way). On start or rebalance a consumer resumes from
// here, never from Kafka's committed offsets, so a record is applied exactly once.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/store.h"

namespace kam {

// One record read from an input topic, as logic classes see it (no librdkafka types).
struct ConsumedRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  // Kafka record timestamp, milliseconds since the epoch (-1 when absent).
  int64_t timestamp_ms = -1;
  // The record's W3C traceparent header ("" when it has none).
  std::string traceparent;
};

std::string OffsetKey(std::string_view topic, int32_t partition);

// Adds "next offset to read for topic/partition" to `batch`.
absl::Status PutNextOffset(const Store* store, rocksdb::WriteBatchBase* batch,
                           std::string_view topic, int32_t partition, int64_t next_offset);

// The stored next offset, or nullopt when this partition was never consumed.
absl::StatusOr<std::optional<int64_t>> LoadNextOffset(const Store& store, std::string_view topic,
                                                      int32_t partition);

// The meta key of the checkpoint of changelog partition p: the next changelog offset the local
// store reflects (common/kafka/transactional_committer.h).
std::string ChangelogCheckpointKey(int32_t partition);

}  // namespace kam
