#include "common/outbox.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace kam {
namespace {
constexpr std::string_view kLastSequenceKey = "outbox.last_sequence";
}  // namespace

absl::StatusOr<std::unique_ptr<Outbox>> Outbox::Open(Store* store) {
  std::unique_ptr<Outbox> outbox(new Outbox(store));
  KAM_ASSIGN_OR_RETURN(std::optional<std::string> stored, store->Get(kMetaCf, kLastSequenceKey));
  if (stored) outbox->AdvancePast(DecodeUint64(*stored));
  return outbox;
}

absl::Status Outbox::Commit(rocksdb::WriteBatchBase* batch, std::vector<OutboundEvent> events) {
  MutexLock lock(&mutex_);
  uint64_t sequence = last_sequence_;
  rocksdb::ColumnFamilyHandle* outbox_cf = store_->Cf(kOutboxCf);
  const int64_t committed_at_ms = absl::ToUnixMillis(absl::Now());
  for (auto& event : events) {
    ++sequence;
    kam::internal::v1::OutboxRecord record;
    record.set_sequence(sequence);
    record.set_topic(event.topic);
    record.set_key(event.key);
    record.set_event_id(event.event_id);
    record.set_traceparent(event.traceparent);
    record.set_committed_at_ms(committed_at_ms);
    if (event.envelope) {
      event.envelope->set_producer_sequence(sequence);
      record.set_value(event.envelope->SerializeAsString());
    } else {
      record.set_value(std::move(event.raw_value));
    }
    KAM_RETURN_IF_ERROR(FromRocks(
        batch->Put(outbox_cf, EncodeUint64(sequence), record.SerializeAsString()), "outbox put"));
  }
  if (sequence != last_sequence_) {
    KAM_RETURN_IF_ERROR(FromRocks(
        batch->Put(store_->Cf(kMetaCf), kLastSequenceKey, EncodeUint64(sequence)), "meta put"));
  }
  KAM_RETURN_IF_ERROR(store_->Write(batch));
  last_sequence_ = sequence;  // waiters in WaitForCommit wake when the lock is released
  return absl::OkStatus();
}

void Outbox::AdvancePast(uint64_t sequence) {
  MutexLock lock(&mutex_);
  if (sequence > last_sequence_) last_sequence_ = sequence;
}

uint64_t Outbox::last_sequence() const {
  MutexLock lock(&mutex_);
  return last_sequence_;
}

void Outbox::WaitForCommit(uint64_t after, int timeout_ms) {
  MutexLock lock(&mutex_);
  auto committed = [&] {
    mutex_.AssertHeld();
    return last_sequence_ > after;
  };
  mutex_.AwaitWithTimeout(committed, absl::Milliseconds(timeout_ms));
}

absl::StatusOr<std::vector<kam::internal::v1::OutboxRecord>> Outbox::ReadPending(
    uint64_t after_sequence, size_t limit) const {
  std::vector<kam::internal::v1::OutboxRecord> rows;
  auto it = store_->NewIterator(kOutboxCf);
  for (it->Seek(EncodeUint64(after_sequence + 1)); it->Valid() && rows.size() < limit; it->Next()) {
    kam::internal::v1::OutboxRecord record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(
          absl::StrCat("outbox row ", DecodeUint64(it->key().ToStringView()), " does not parse"));
    }
    rows.push_back(std::move(record));
  }
  KAM_RETURN_IF_ERROR(FromRocks(it->status(), "outbox scan"));
  return rows;
}

absl::Status Outbox::Delete(const std::vector<uint64_t>& sequences) {
  if (sequences.empty()) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  for (uint64_t sequence : sequences) {
    KAM_RETURN_IF_ERROR(
        FromRocks(batch.Delete(store_->Cf(kOutboxCf), EncodeUint64(sequence)), "outbox delete"));
  }
  return store_->Write(&batch);
}

absl::StatusOr<std::optional<int64_t>> Outbox::OldestPendingCommitMillis() const {
  KAM_ASSIGN_OR_RETURN(std::vector<kam::internal::v1::OutboxRecord> oldest, ReadPending(0, 1));
  if (oldest.empty() || oldest[0].committed_at_ms() == 0) return std::optional<int64_t>();
  return std::optional<int64_t>(oldest[0].committed_at_ms());
}

absl::StatusOr<uint64_t> Outbox::CountPending() const {
  uint64_t count = 0;
  auto it = store_->NewIterator(kOutboxCf);
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++count;
  KAM_RETURN_IF_ERROR(FromRocks(it->status(), "outbox scan"));
  return count;
}

}  // namespace kam
