#pragma once

// Follows every partition of a changelog topic from its beginning, for a view that every instance
// keeps of all tasks' state (Kafka Streams' global table): each record is handed to a callback on
// the follower's own thread, in partition order. Read committed: records of aborted transactions
// never reach the view. Outside any consumer group: every instance reads every partition.
//
// With a local copy, the records the view needs are also kept in a column family of the local
// store, with the next offset of every partition written in the same batch (Kafka Streams' global
// store and its checkpoint). A restart hands the copy to the callback first and reads only what
// the changelog gained since -- not the whole changelog, most of which (every task's account
// state) the view ignores. The copy is always a prefix of what was read: a crash re-reads the
// records after its offsets, which the callback applies again (it must take a record twice).

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
#include "common/store.h"
#include "rocksdb/write_batch.h"

namespace kam::kafka {

class ChangelogFollower {
 public:
  // `value` is empty for a tombstone (a deleted key).
  using OnRecord = std::function<void(int32_t partition, std::string_view key,
                                      std::optional<std::string_view> value)>;

  struct LocalCopy {
    Store* store = nullptr;
    std::string column_family;                       // the copy: changelog key -> partition + value
    std::function<bool(std::string_view key)> keep;  // the records the callback needs
  };

  static absl::StatusOr<std::unique_ptr<ChangelogFollower>> Create(
      const KafkaOptions& options, std::string topic, OnRecord on_record,
      std::optional<LocalCopy> local_copy = std::nullopt);
  ~ChangelogFollower();

  // Follows the topic on a thread of its own: reads its ends (retrying while the broker cannot
  // tell them), then every record from the beginning; `on_caught_up` is called (from that
  // thread) once every record that was in the topic at that moment has been handed on.
  absl::Status Start(std::function<void()> on_caught_up);
  bool CaughtUp() const { return caught_up_.load(); }
  // Records read from Kafka (not those handed over from the local copy).
  uint64_t records_total() const { return records_total_.load(); }

 private:
  ChangelogFollower(std::string topic, OnRecord on_record, std::optional<LocalCopy> local_copy)
      : topic_(std::move(topic)),
        on_record_(std::move(on_record)),
        local_copy_(std::move(local_copy)) {}
  void Run();
  // Hands the local copy to the callback (once), then assigns every partition from where the copy
  // ends (its beginning without one) and records how far each one goes now.
  absl::Status Assign();
  // The next offset of every partition the local copy has read up to.
  absl::StatusOr<std::map<int32_t, int64_t>> LoadCopyOffsets() const;
  absl::Status HandOverCopy();
  // A copy ahead of the topic (the topic was deleted and created again): dropped.
  absl::Status DropCopy();
  // Writes what was read since the last call to the copy, with the offsets.
  void SaveCopy();
  std::string OffsetKey(int32_t partition) const;

  std::string topic_;
  OnRecord on_record_;
  std::optional<LocalCopy> local_copy_;
  bool copy_handed_over_ = false;                 // thread only
  std::unique_ptr<rocksdb::WriteBatch> pending_;  // thread only: read, not yet in the copy
  size_t pending_records_ = 0;                    // thread only
  std::map<int32_t, int64_t> next_offsets_;       // thread only
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
