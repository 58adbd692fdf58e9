#include "common/kafka/changelog_follower.h"

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace kam::kafka {
namespace {
constexpr int kTimeoutMs = 10000;
// Records read before they are written to the local copy: a write every few thousand records
// while catching up, and whenever the follower is idle or caught up.
constexpr size_t kCopyBatchRecords = 4096;

std::string EncodePartition(int32_t partition) {
  return EncodeUint64(static_cast<uint64_t>(static_cast<uint32_t>(partition))).substr(4);
}
int32_t DecodePartition(std::string_view bytes) {
  return static_cast<int32_t>(DecodeUint64(std::string(4, '\0') + std::string(bytes.substr(0, 4))));
}
}  // namespace

absl::StatusOr<std::unique_ptr<ChangelogFollower>> ChangelogFollower::Create(
    const KafkaOptions& options, std::string topic, OnRecord on_record,
    std::optional<LocalCopy> local_copy) {
  if (local_copy && (local_copy->store == nullptr || !local_copy->keep)) {
    return absl::InternalError("changelog follower: a local copy needs a store and a filter");
  }
  std::unique_ptr<ChangelogFollower> follower(
      new ChangelogFollower(std::move(topic), std::move(on_record), std::move(local_copy)));
  follower->pending_ = std::make_unique<rocksdb::WriteBatch>();
  // A view is read by API calls: a change should show up in tens of milliseconds, not after the
  // default 500 ms fetch wait.
  KAM_ASSIGN_OR_RETURN(follower->consumer_,
                       NewChangelogReader(options, absl::StrCat(follower->topic_, ".view"), 20));
  return follower;
}

ChangelogFollower::~ChangelogFollower() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  SaveCopy();  // the thread has ended: what it read and did not write yet
  if (consumer_) rd_kafka_consumer_close(consumer_.get());
}

absl::Status ChangelogFollower::Start(std::function<void()> on_caught_up) {
  on_caught_up_ = std::move(on_caught_up);
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

std::string ChangelogFollower::OffsetKey(int32_t partition) const {
  return absl::StrCat("changelog_follower.", local_copy_->column_family, ".", topic_, "/",
                      partition);
}

absl::StatusOr<std::map<int32_t, int64_t>> ChangelogFollower::LoadCopyOffsets() const {
  std::map<int32_t, int64_t> offsets;
  if (!local_copy_) return offsets;
  const std::string prefix =
      absl::StrCat("changelog_follower.", local_copy_->column_family, ".", topic_, "/");
  std::unique_ptr<rocksdb::Iterator> it = local_copy_->store->NewIterator(kMetaCf);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    int32_t partition = 0;
    const std::string_view number = it->key().ToStringView().substr(prefix.size());
    if (!absl::SimpleAtoi(absl::string_view(number.data(), number.size()), &partition) ||
        it->value().size() != 8) {
      return absl::DataLossError(absl::StrCat("local copy offset ", it->key().ToString()));
    }
    offsets[partition] = static_cast<int64_t>(DecodeUint64(it->value().ToString()));
  }
  KAM_RETURN_IF_ERROR(FromRocks(it->status(), "read local copy offsets"));
  return offsets;
}

absl::Status ChangelogFollower::HandOverCopy() {
  const auto started = std::chrono::steady_clock::now();
  uint64_t records = 0;
  std::unique_ptr<rocksdb::Iterator> it =
      local_copy_->store->NewIterator(local_copy_->column_family);
  for (it->SeekToFirst(); it->Valid() && !stop_; it->Next()) {
    const std::string_view value = it->value().ToStringView();
    if (value.size() < 4) {
      return absl::DataLossError(absl::StrCat("local copy record ", it->key().ToString()));
    }
    on_record_(DecodePartition(value), it->key().ToStringView(), value.substr(4));
    ++records;
  }
  KAM_RETURN_IF_ERROR(FromRocks(it->status(), "read local copy"));
  log::Info("changelog view restored from its local copy",
            {{"topic", topic_},
             {"records", std::to_string(records)},
             {"millis", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - started)
                                           .count())}});
  return absl::OkStatus();
}

absl::Status ChangelogFollower::DropCopy() {
  rocksdb::WriteBatch batch;
  {
    std::unique_ptr<rocksdb::Iterator> it =
        local_copy_->store->NewIterator(local_copy_->column_family);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      KAM_RETURN_IF_ERROR(
          FromRocks(batch.Delete(local_copy_->store->Cf(local_copy_->column_family), it->key()),
                    "drop local copy"));
    }
    KAM_RETURN_IF_ERROR(FromRocks(it->status(), "read local copy"));
  }
  KAM_ASSIGN_OR_RETURN(auto offsets, LoadCopyOffsets());
  for (const auto& [partition, next] : offsets) {
    KAM_RETURN_IF_ERROR(FromRocks(
        batch.Delete(local_copy_->store->Cf(kMetaCf), OffsetKey(partition)), "drop offsets"));
  }
  return local_copy_->store->Write(&batch);
}

absl::Status ChangelogFollower::Assign() {
  KAM_ASSIGN_OR_RETURN(int32_t partitions, PartitionCount(consumer_.get(), topic_, kTimeoutMs));
  using Offsets = std::map<int32_t, int64_t>;
  // The local copy failing is the disk failing, not a broker to wait for: stop, as the tasks'
  // store does. Kafka errors below are retried by the caller.
  absl::StatusOr<Offsets> loaded = LoadCopyOffsets();
  if (!loaded.ok())
    log::Fatal("cannot read the view's local copy", {{"error", loaded.status().ToString()}});
  Offsets copied = *std::move(loaded);
  std::map<int32_t, std::pair<int64_t, int64_t>> watermarks;
  bool stale = false;
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0;
    int64_t high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(consumer_.get(), topic_.c_str(), p,
                                                               &low, &high, kTimeoutMs);
    KAM_RETURN_IF_ERROR(FromKafka(err, absl::StrCat("changelog ", topic_, "/", p, " watermarks")));
    watermarks[p] = {low, high};
    // Ahead of the topic (it was deleted and created again), or behind its start (records the
    // copy never saw are gone, deletions among them): the copy cannot be continued.
    auto it = copied.find(p);
    stale |= it != copied.end() && (it->second > high || it->second < low);
  }
  if (local_copy_ && !copy_handed_over_) {
    if (stale) {
      log::Warn(
          "the view's local copy does not continue the changelog (a topic created again, or "
          "records deleted since); read from its beginning",
          {{"topic", topic_}});
      absl::Status dropped = DropCopy();
      if (!dropped.ok())
        log::Fatal("cannot drop the view's local copy", {{"error", dropped.ToString()}});
      copied.clear();
    }
    absl::Status handed = HandOverCopy();
    if (!handed.ok())
      log::Fatal("cannot read the view's local copy", {{"error", handed.ToString()}});
    copy_handed_over_ = true;
  }
  std::map<int32_t, int64_t> behind;
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  for (const auto& [p, marks] : watermarks) {
    const auto [low, high] = marks;
    auto it = copied.find(p);
    const int64_t from = it != copied.end() ? std::max(it->second, low) : low;
    if (high > from) behind[p] = high;
    rd_kafka_topic_partition_list_add(assignment, topic_.c_str(), p)->offset =
        it != copied.end() ? it->second : RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  KAM_RETURN_IF_ERROR(FromKafka(err, "view assign"));
  behind_ = std::move(behind);
  next_offsets_ = std::move(copied);
  log::Info("following changelog", {{"topic", topic_},
                                    {"partitions", std::to_string(partitions)},
                                    {"behind_partitions", std::to_string(behind_.size())}});
  return absl::OkStatus();
}

void ChangelogFollower::SaveCopy() {
  if (!local_copy_ || pending_records_ == 0) return;
  for (const auto& [partition, next] : next_offsets_) {
    absl::Status put =
        FromRocks(pending_->Put(local_copy_->store->Cf(kMetaCf), OffsetKey(partition),
                                EncodeUint64(static_cast<uint64_t>(next))),
                  "local copy offset");
    if (!put.ok()) log::Fatal("cannot write the view's local copy", {{"error", put.ToString()}});
  }
  absl::Status written = local_copy_->store->Write(pending_.get());
  if (!written.ok()) {
    // The disk failed under the store: the tasks' next local write stops the process as well.
    log::Fatal("cannot write the view's local copy", {{"error", written.ToString()}});
  }
  pending_->Clear();
  pending_records_ = 0;
}

void ChangelogFollower::Run() {
  auto reached = [this](int32_t partition, int64_t next) {
    if (caught_up_) return;
    auto it = behind_.find(partition);
    if (it != behind_.end() && next >= it->second) behind_.erase(it);
    if (behind_.empty()) {
      caught_up_ = true;
      log::Info("changelog view caught up",
                {{"topic", topic_}, {"records", std::to_string(records_total_.load())}});
      if (on_caught_up_) on_caught_up_();
    }
  };
  // A topic created moments ago may have no leader yet: retry until it answers (health stays
  // NOT_SERVING meanwhile).
  while (!stop_) {
    absl::Status assigned = Assign();
    if (assigned.ok()) break;
    log::Warn("changelog view cannot start yet; retrying",
              {{"topic", topic_}, {"error", assigned.ToString()}});
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (stop_) return;
  reached(-1, 0);  // an empty topic: caught up at once
  while (!stop_) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_.get(), 100);
    if (message == nullptr) {
      SaveCopy();  // idle: what was read goes to the copy
      continue;
    }
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      SaveCopy();  // before `caught up` can be announced
      reached(message->partition, message->offset);
    } else if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // The consumer retries by itself; a view that falls behind only answers later.
      log::Warn("changelog view", {{"topic", topic_}, {"error", rd_kafka_message_errstr(message)}});
    } else {
      std::string_view key(static_cast<const char*>(message->key), message->key_len);
      std::optional<std::string_view> value;
      if (message->payload != nullptr) {
        value = std::string_view(static_cast<const char*>(message->payload), message->len);
      }
      on_record_(message->partition, key, value);
      ++records_total_;
      if (local_copy_) {
        if (local_copy_->keep(key)) {
          rocksdb::ColumnFamilyHandle* cf = local_copy_->store->Cf(local_copy_->column_family);
          rocksdb::Status staged =
              value ? pending_->Put(cf, rocksdb::Slice(key.data(), key.size()),
                                    EncodePartition(message->partition) + std::string(*value))
                    : pending_->Delete(cf, rocksdb::Slice(key.data(), key.size()));
          if (!staged.ok()) {
            log::Fatal("cannot stage the view's local copy", {{"error", staged.ToString()}});
          }
        }
        next_offsets_[message->partition] = message->offset + 1;
        if (++pending_records_ >= kCopyBatchRecords) SaveCopy();
      }
      reached(message->partition, message->offset + 1);
    }
    rd_kafka_message_destroy(message);
  }
}

}  // namespace kam::kafka
