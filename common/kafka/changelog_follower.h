#pragma once

// Follows every partition of a changelog topic from its beginning, for a view that every instance
// keeps of all tasks' state (Kafka Streams' global table): each record is handed to a callback on
// the follower's own thread, in partition order. Read committed: records of aborted transactions
// never reach the view. Outside any consumer group: every instance reads every partition.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/kafka/kafka_common.h"
#include "common/status.h"

namespace kam::kafka {

class ChangelogFollower {
 public:
  // `value` is empty for a tombstone (a deleted key).
  using OnRecord = std::function<void(int32_t partition, std::string_view key,
                                      std::optional<std::string_view> value)>;

  static absl::StatusOr<std::unique_ptr<ChangelogFollower>> Create(const KafkaOptions& options,
                                                                   std::string topic,
                                                                   OnRecord on_record);
  ~ChangelogFollower();

  // Follows the topic on a thread of its own: reads its ends (retrying while the broker cannot
  // tell them), then every record from the beginning; `on_caught_up` is called (from that
  // thread) once every record that was in the topic at that moment has been handed on.
  absl::Status Start(std::function<void()> on_caught_up);
  bool CaughtUp() const { return caught_up_.load(); }
  uint64_t records_total() const { return records_total_.load(); }

 private:
  ChangelogFollower(std::string topic, OnRecord on_record)
      : topic_(std::move(topic)), on_record_(std::move(on_record)) {}
  void Run();
  // Assigns every partition from its beginning and records how far each one goes now.
  absl::Status AssignFromBeginning();

  std::string topic_;
  OnRecord on_record_;
  HandlePtr consumer_;
  // Partition -> the end it had at Start(): caught up once every one is reached (thread only).
  std::map<int32_t, int64_t> behind_;
  std::function<void()> on_caught_up_;
  std::atomic<bool> caught_up_ = false;
  std::atomic<bool> stop_ = false;
  std::atomic<uint64_t> records_total_ = 0;
  std::thread thread_;
};

}  // namespace kam::kafka
