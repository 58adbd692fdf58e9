#include "common/kafka/changelog_restorer.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/consumer_offsets.h"
#include "common/logging.h"

namespace kam::kafka {
namespace {

constexpr int kTimeoutMs = 10000;
constexpr size_t kBatch = 1000;
constexpr auto kRestoreDeadline = std::chrono::minutes(10);

std::string TaskPrefix(int32_t partition) {
  return EncodeUint64(static_cast<uint64_t>(static_cast<uint32_t>(partition))).substr(4);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChangelogRestorer>> ChangelogRestorer::Create(
    const KafkaOptions& options, Store* store, ChangelogSpec changelog) {
  std::unique_ptr<ChangelogRestorer> restorer(new ChangelogRestorer(store, std::move(changelog)));
  // A restore waits on nobody: the end shows up at once, not after the default 500 ms fetch wait
  // (which a checkpoint just before a transaction marker would pay for every task).
  KAM_ASSIGN_OR_RETURN(
      restorer->consumer_,
      NewChangelogReader(options, absl::StrCat(restorer->changelog_.topic, ".restore"), 10));
  return restorer;
}

absl::Status ChangelogRestorer::Wipe(int32_t partition) {
  rocksdb::WriteBatch batch;
  const std::string prefix = TaskPrefix(partition);
  for (const auto& cf : changelog_.task_column_families) {
    auto it = store_->NewIterator(cf);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      KAM_RETURN_IF_ERROR(FromRocks(batch.Delete(store_->Cf(cf), it->key()), "wipe"));
    }
    KAM_RETURN_IF_ERROR(FromRocks(it->status(), "wipe scan"));
  }
  auto offsets = store_->NewIterator(kOffsetsCf);
  for (offsets->SeekToFirst(); offsets->Valid(); offsets->Next()) {
    std::string_view key = offsets->key().ToStringView();
    const size_t separator = key.find('\0');
    if (separator == std::string_view::npos || key.size() != separator + 9) continue;
    if (static_cast<int32_t>(DecodeUint64(key.substr(separator + 1))) != partition) continue;
    KAM_RETURN_IF_ERROR(FromRocks(batch.Delete(store_->Cf(kOffsetsCf), offsets->key()), "wipe"));
  }
  KAM_RETURN_IF_ERROR(FromRocks(offsets->status(), "wipe scan"));
  KAM_RETURN_IF_ERROR(FromRocks(
      batch.Delete(store_->Cf(kMetaCf), ChangelogCheckpointKey(partition)), "wipe checkpoint"));
  return store_->Write(&batch);
}

absl::Status ChangelogRestorer::Restore(int32_t partition, std::atomic<uint64_t>* remaining) {
  const auto started = std::chrono::steady_clock::now();
  KAM_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                       store_->Get(kMetaCf, ChangelogCheckpointKey(partition)));
  int64_t low = 0;
  int64_t high = 0;
  KAM_RETURN_IF_ERROR(
      FromKafka(rd_kafka_query_watermark_offsets(consumer_.get(), changelog_.topic.c_str(),
                                                 partition, &low, &high, kTimeoutMs),
                absl::StrCat("changelog ", changelog_.topic, "/", partition, " watermarks")));
  int64_t position = stored ? static_cast<int64_t>(DecodeUint64(*stored)) : -1;
  std::string reason;
  if (!stored) {
    reason = "no local checkpoint";
  } else if (position > high) {
    reason = "the local store is ahead of the changelog (the topic was recreated)";
  } else if (position < low) {
    reason = "the changelog no longer holds the records after the local checkpoint";
  }
  bool wiped = false;
  if (!reason.empty()) {
    KAM_RETURN_IF_ERROR(Wipe(partition));
    wiped = true;
    position = low;
    if (high > low) ++full_restores_total_;
  }
  // A standby asks often; only a restore with something to do is worth a line.
  const bool worth_logging = position < high || wiped;
  if (worth_logging) {
    log::Info("task restoring", {{"task", std::to_string(partition)},
                                 {"from", std::to_string(position)},
                                 {"to", std::to_string(high)},
                                 {"from_scratch", reason.empty() ? "no" : reason}});
  }
  if (remaining) *remaining = static_cast<uint64_t>(std::max<int64_t>(0, high - position));
  uint64_t restored = 0;
  if (position < high) {
    rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(assignment, changelog_.topic.c_str(), partition)->offset =
        position;
    rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    KAM_RETURN_IF_ERROR(FromKafka(err, "restore assign"));
    rocksdb::WriteBatch batch;
    std::vector<StoreRow> rows;  // what the batch holds, for the listener
    size_t in_batch = 0;
    auto flush = [&](int64_t next) -> absl::Status {
      KAM_RETURN_IF_ERROR(
          FromRocks(batch.Put(store_->Cf(kMetaCf), ChangelogCheckpointKey(partition),
                              EncodeUint64(static_cast<uint64_t>(next))),
                    "checkpoint put"));
      KAM_RETURN_IF_ERROR(store_->Write(&batch));
      if (listener_) listener_(partition, rows, next, wiped);
      wiped = false;
      rows.clear();
      batch.Clear();
      in_batch = 0;
      return absl::OkStatus();
    };
    bool at_end = false;
    bool waited_for_open = false;
    while (!at_end) {
      if (std::chrono::steady_clock::now() - started > kRestoreDeadline) {
        rd_kafka_assign(consumer_.get(), nullptr);
        return absl::DeadlineExceededError(
            absl::StrCat("restore of task ", partition, " did not reach the changelog's end"));
      }
      rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_.get(), 100);
      if (message == nullptr) continue;
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        position = std::max(position, message->offset);
        // read_committed stops at the last stable offset. Below the partition's end that means
        // a transaction is still open -- the previous owner's, paused or partitioned away. It may
        // yet commit a batch this task would then apply a second time: wait until it commits
        // (its records are restored) or is aborted (at the latest after its timeout).
        at_end = message->offset >= high;
        if (!at_end && !waited_for_open) {
          waited_for_open = true;
          log::Info("task restore waits for an open transaction on its changelog",
                    {{"task", std::to_string(partition)},
                     {"stable", std::to_string(message->offset)},
                     {"end", std::to_string(high)}});
        }
      } else if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        absl::Status error = FromKafka(message->err, "restore consume");
        rd_kafka_message_destroy(message);
        if (absl::IsUnavailable(error)) continue;
        rd_kafka_assign(consumer_.get(), nullptr);
        return error;
      } else {
        std::string_view key(static_cast<const char*>(message->key), message->key_len);
        const size_t separator = key.find('\0');
        if (separator == std::string_view::npos) {
          rd_kafka_message_destroy(message);
          rd_kafka_assign(consumer_.get(), nullptr);
          return absl::DataLossError(absl::StrCat("changelog ", changelog_.topic, "/", partition,
                                                  ": a key without column family"));
        }
        rocksdb::ColumnFamilyHandle* cf = store_->Cf(std::string(key.substr(0, separator)));
        rocksdb::Slice store_key(key.data() + separator + 1, key.size() - separator - 1);
        rocksdb::Status written =
            message->payload == nullptr
                ? batch.Delete(cf, store_key)
                : batch.Put(
                      cf, store_key,
                      rocksdb::Slice(static_cast<const char*>(message->payload), message->len));
        if (listener_) {
          StoreRow& row = rows.emplace_back();
          row.cf = std::string(key.substr(0, separator));
          row.key = store_key.ToString();
          if (message->payload != nullptr) {
            row.value.emplace(static_cast<const char*>(message->payload), message->len);
          }
        }
        position = message->offset + 1;
        ++restored;
        if (remaining && *remaining > 0) --*remaining;
        if (!written.ok() || ++in_batch >= kBatch) {
          absl::Status status = FromRocks(written, "restore put");
          if (status.ok()) status = flush(position);
          if (!status.ok()) {
            rd_kafka_message_destroy(message);
            rd_kafka_assign(consumer_.get(), nullptr);
            return status;
          }
        }
        if (position >= high) at_end = true;
      }
      rd_kafka_message_destroy(message);
    }
    rd_kafka_topic_partition_list_t* positions = nullptr;
    if (rd_kafka_assignment(consumer_.get(), &positions) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (rd_kafka_position(consumer_.get(), positions) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          positions->cnt == 1 && positions->elems[0].offset > position) {
        position = positions->elems[0].offset;  // past the last transaction marker
      }
      rd_kafka_topic_partition_list_destroy(positions);
    }
    KAM_RETURN_IF_ERROR(flush(position));
    KAM_RETURN_IF_ERROR(FromKafka(rd_kafka_assign(consumer_.get(), nullptr), "restore unassign"));
  } else if (!stored || position != static_cast<int64_t>(DecodeUint64(*stored))) {
    rocksdb::WriteBatch batch;
    KAM_RETURN_IF_ERROR(FromRocks(batch.Put(store_->Cf(kMetaCf), ChangelogCheckpointKey(partition),
                                            EncodeUint64(static_cast<uint64_t>(position))),
                                  "checkpoint put"));
    KAM_RETURN_IF_ERROR(store_->Write(&batch));
    if (listener_) listener_(partition, {}, position, wiped);
  }
  restored_records_total_ += restored;
  if (remaining) *remaining = 0;
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
  if (worth_logging) {
    log::Info("task restored", {{"task", std::to_string(partition)},
                                {"records", std::to_string(restored)},
                                {"checkpoint", std::to_string(position)},
                                {"millis", std::to_string(millis)}});
  }
  return absl::OkStatus();
}

}  // namespace kam::kafka
