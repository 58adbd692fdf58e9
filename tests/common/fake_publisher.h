#pragma once

// An in-memory Kafka for outbox tests: partitioned logs with the kam-producer/kam-seq headers,
// and switches that make the next Publish fail in the ways a crash or outage would.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/outbox_relay.h"

namespace kam::testing {

struct LoggedRecord {
  std::string producer;
  uint64_t sequence = 0;
  std::string key;
  std::string value;
  std::string event_id;
};

class FakePublisher : public EventPublisher {
 public:
  explicit FakePublisher(std::string producer, int partitions = 3)
      : producer_(std::move(producer)), partitions_(partitions) {}

  absl::StatusOr<int32_t> PartitionFor(const std::string& topic, std::string_view key) override {
    return static_cast<int32_t>(std::hash<std::string_view>()(key) % partitions_);
  }

  absl::StatusOr<std::map<int32_t, uint64_t>> PublishedSequences(
      const std::string& topic) override {
    if (unavailable) return absl::UnavailableError("fake broker down");
    std::map<int32_t, uint64_t> result;
    for (int p = 0; p < partitions_; ++p) {
      result[p] = 0;
      for (const auto& record : logs_[topic][p]) {
        if (record.producer == producer_) result[p] = std::max(result[p], record.sequence);
      }
    }
    return result;
  }

  absl::Status Publish(const std::vector<PublishRecord>& records,
                       std::vector<bool>* delivered) override {
    delivered->assign(records.size(), false);
    if (unavailable) return absl::UnavailableError("fake broker down");
    for (size_t i = 0; i < records.size(); ++i) {
      if (deliver_limit >= 0 && static_cast<int>(i) >= deliver_limit) {
        deliver_limit = -1;
        lose_acks = false;
        return absl::UnavailableError("fake: connection lost mid-batch");
      }
      const auto& r = records[i];
      logs_[r.topic][r.partition].push_back({producer_, r.sequence, r.key, r.value, r.event_id});
      (*delivered)[i] = !lose_acks;
    }
    if (lose_acks) {
      // The records reached Kafka but the process died before it saw the reports.
      lose_acks = false;
      return absl::UnavailableError("fake: acks lost");
    }
    return absl::OkStatus();
  }

  // Every record of `topic`, partition by partition.
  std::vector<LoggedRecord> All(const std::string& topic) {
    std::vector<LoggedRecord> all;
    for (auto& [partition, log] : logs_[topic]) all.insert(all.end(), log.begin(), log.end());
    return all;
  }
  const std::vector<LoggedRecord>& Partition(const std::string& topic, int32_t partition) {
    return logs_[topic][partition];
  }
  // Pretend another process (same producer name) wrote these sequences earlier.
  void Append(const std::string& topic, int32_t partition, LoggedRecord record) {
    logs_[topic][partition].push_back(std::move(record));
  }

  bool unavailable = false;
  // Deliver only this many records of the next batch, then fail (-1 = no limit).
  int deliver_limit = -1;
  // Deliver the next batch but report it as failed.
  bool lose_acks = false;

 private:
  std::string producer_;
  int partitions_;
  std::map<std::string, std::map<int32_t, std::vector<LoggedRecord>>> logs_;
};

}  // namespace kam::testing
