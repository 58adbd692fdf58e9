#include "common/record_applier.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/event_envelope.h"
#include "common/logging.h"
#include "common/time_util.h"
#include "common/trace_context.h"

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

absl::Status RecordApplier::Punctuate(int64_t wall_millis) {
  StagedBatch batch(store_);
  std::vector<OutboundEvent> events;
  std::unique_ptr<UnitOfWork> unit = processor_->Begin(&batch, &events);
  KAM_RETURN_IF_ERROR(unit->Punctuate(wall_millis));
  KAM_RETURN_IF_ERROR(unit->Seal());
  if (batch.Count() == 0 && events.empty()) return absl::OkStatus();
  KAM_RETURN_IF_ERROR(committer_->Commit(&batch, std::move(events), {}));
  unit->Committed();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ConsumedRecord>> RecordApplier::Unapplied(
    const std::vector<ConsumedRecord>& records) {
  std::map<std::pair<std::string, int32_t>, int64_t> stored;
  std::vector<ConsumedRecord> unapplied;
  for (const ConsumedRecord& record : records) {
    auto [it, inserted] = stored.try_emplace({record.topic, record.partition}, -1);
    if (inserted) {
      KAM_ASSIGN_OR_RETURN(std::optional<int64_t> next,
                           LoadNextOffset(*store_, record.topic, record.partition));
      it->second = next.value_or(-1);
    }
    if (record.offset < it->second) {
      ++skipped_total_;
      continue;
    }
    unapplied.push_back(record);
  }
  return unapplied;
}

absl::Status RecordApplier::Apply(const std::vector<ConsumedRecord>& input) {
  KAM_ASSIGN_OR_RETURN(std::vector<ConsumedRecord> records, Unapplied(input));
  size_t begin = 0;
  while (begin < records.size()) {
    absl::Status refusal;
    absl::StatusOr<size_t> refused = CommitRange(records, begin, records.size(), &refusal);
    if (!refused.ok()) {
      ++aborted_total_;
      return refused.status();
    }
    if (*refused == records.size()) break;
    if (*refused > begin) {
      // The records before the refused one, again, now without it.
      absl::Status again;
      absl::StatusOr<size_t> committed_to = CommitRange(records, begin, *refused, &again);
      if (!committed_to.ok()) {
        ++aborted_total_;
        return committed_to.status();
      }
      if (*committed_to != *refused) {
        return absl::InternalError(absl::StrCat("processor refused offset ",
                                                records[*committed_to].offset,
                                                " only on the second try: ", again.ToString()));
      }
    }
    KAM_RETURN_IF_ERROR(CommitDeadLetter(records[*refused], refusal));
    begin = *refused + 1;
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> RecordApplier::CommitRange(const std::vector<ConsumedRecord>& records,
                                                  size_t begin, size_t end, absl::Status* refusal) {
  StagedBatch batch(store_);
  std::vector<OutboundEvent> events;
  std::unique_ptr<UnitOfWork> unit = processor_->Begin(&batch, &events);
  // Highest offset per input partition in the range: one offset row each.
  InputOffsets next_offsets;
  for (size_t i = begin; i < end; ++i) {
    const ConsumedRecord& record = records[i];
    // What the record causes (events, alert changes, log lines) continues its trace.
    trace::Scope traced(record.traceparent);
    absl::Status applied = unit->Apply(record);
    if (!applied.ok()) {
      if (!IsInputError(applied)) {
        log::Warn("batch aborted; it is retried from the stored offsets",
                  {{"topic", record.topic},
                   {"partition", std::to_string(record.partition)},
                   {"offset", std::to_string(record.offset)},
                   {"error", applied.ToString()}});
        return applied;
      }
      *refusal = std::move(applied);
      return i;
    }
    int64_t& next = next_offsets[{record.topic, record.partition}];
    next = std::max(next, record.offset + 1);
  }
  KAM_RETURN_IF_ERROR(unit->Seal());
  KAM_RETURN_IF_ERROR(committer_->Commit(&batch, std::move(events), next_offsets));
  unit->Committed();
  applied_total_ += end - begin;
  ++batches_total_;
  return end;
}
absl::Status RecordApplier::CommitDeadLetter(const ConsumedRecord& record,
                                             const absl::Status& error) {
  trace::Scope traced(record.traceparent);
  log::Warn("record dead-lettered", {{"topic", record.topic},
                                     {"partition", std::to_string(record.partition)},
                                     {"offset", std::to_string(record.offset)},
                                     {"error", error.ToString()}});
  StagedBatch batch(store_);
  std::vector<OutboundEvent> events;
  events.push_back(MakeDeadLetter(record, error.ToString(), consumer_));
  KAM_RETURN_IF_ERROR(committer_->Commit(&batch, std::move(events),
                                         {{{record.topic, record.partition}, record.offset + 1}}));
  ++dead_lettered_total_;
  return absl::OkStatus();
}

}  // namespace kam
