#include "common/record_applier.h"

#include "absl/strings/str_cat.h"
#include "common/event_envelope.h"
#include "common/logging.h"
#include "common/time_util.h"

namespace kam {

OutboundEvent MakeDeadLetter(const ConsumedRecord& record, const std::string& error,
                             const std::string& consumer) {
  kam::v1::EventEnvelope envelope;
  auto* letter = envelope.mutable_dead_letter();
  letter->set_origin_topic(record.topic);
  letter->set_origin_partition(record.partition);
  letter->set_origin_offset(record.offset);
  letter->set_error(error);
  letter->set_original_key(record.key);
  letter->set_original_value(record.value);
  letter->set_consumer(consumer);
  *letter->mutable_time() = NowTimestamp();
  return EnvelopeEvent(kafka_topics::kDeadLetter, record.key, consumer, std::move(envelope),
                       absl::StrCat(record.topic, "/", record.partition, "/", record.offset));
}

absl::Status RecordApplier::Tick(int64_t wall_millis) {
  std::unique_lock<std::mutex> lock;
  if (std::mutex* mutex = processor_->commit_mutex()) lock = std::unique_lock<std::mutex>(*mutex);
  rocksdb::WriteBatch batch;
  std::vector<OutboundEvent> events;
  absl::Status ticked = processor_->Tick(wall_millis, &batch, &events);
  if (!ticked.ok() || (batch.Count() == 0 && events.empty())) {
    processor_->Committed(false);
    return ticked;
  }
  absl::Status committed = outbox_->Commit(&batch, std::move(events));
  processor_->Committed(committed.ok());
  return committed;
}

absl::Status RecordApplier::Apply(const ConsumedRecord& record) {
  std::unique_lock<std::mutex> lock;
  if (std::mutex* mutex = processor_->commit_mutex()) lock = std::unique_lock<std::mutex>(*mutex);
  rocksdb::WriteBatch batch;
  std::vector<OutboundEvent> events;
  absl::Status applied = processor_->Apply(record, &batch, &events);
  if (applied.ok()) {
    ++applied_total_;
  } else {
    ++dead_lettered_total_;
    log::Warn("record dead-lettered", {{"topic", record.topic},
                                       {"partition", std::to_string(record.partition)},
                                       {"offset", std::to_string(record.offset)},
                                       {"error", applied.ToString()}});
    batch.Clear();
    events.clear();
    events.push_back(MakeDeadLetter(record, applied.ToString(), consumer_));
  }
  absl::Status status =
      PutNextOffset(store_, &batch, record.topic, record.partition, record.offset + 1);
  if (status.ok()) status = outbox_->Commit(&batch, std::move(events));
  processor_->Committed(status.ok());
  return status;
}

}  // namespace kam
