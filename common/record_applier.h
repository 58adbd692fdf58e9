#pragma once

// Applies consumed records exactly once, a batch at a time, through the processor's units of
// work (common/stream_task.h): the state changes of every record of the batch, the records' next
// offsets and the events they emit go into ONE WriteBatch committed through the outbox. Within
// the batch each record sees what the records before it wrote (StagedBatch), so the result
// equals committing every record alone; batching only saves the per-commit cost.
//
// Errors are told apart (IsInputError):
// - an input error (INVALID_ARGUMENT, FAILED_PRECONDITION) refuses that one record: the records
//   before it are committed, it goes to the dead-letter topic (through the outbox, in the same
//   write as its offset) and the records after it form the next batch;
// - any other error (storage, a bug) aborts the batch: nothing of it is committed, and the caller
//   retries from the offsets in the store. No record ever loses its effect to a transient error.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/batch_committer.h"
#include "common/consumer_offsets.h"
#include "common/kafka_topics.h"
#include "common/outbox.h"
#include "common/staged_batch.h"
#include "common/status.h"
#include "common/stream_task.h"

namespace kam {

// The dead-letter event for `record`: origin, error and the original bytes.
OutboundEvent MakeDeadLetter(const ConsumedRecord& record, const std::string& error,
                             const std::string& consumer);

class RecordApplier {
 public:
  // Commits through `committer`.
  RecordApplier(Store* store, BatchCommitter* committer, StreamProcessor* processor,
                std::string consumer_name)
      : store_(store),
        committer_(committer),
        processor_(processor),
        consumer_(std::move(consumer_name)) {}
  // Commits through the outbox (OutboxCommitter).
  RecordApplier(Store* store, Outbox* outbox, StreamProcessor* processor, std::string consumer_name)
      : store_(store),
        owned_committer_(std::make_unique<OutboxCommitter>(store, outbox)),
        committer_(owned_committer_.get()),
        processor_(processor),
        consumer_(std::move(consumer_name)) {}

  // Applies `records` (in consumption order). An error here aborted the batch: a prefix of the
  // records (up to a refused one) may be committed; the consumer resumes from the store's offsets.
  absl::Status Apply(const std::vector<ConsumedRecord>& records);
  absl::Status Apply(const ConsumedRecord& record) { return Apply(std::vector{record}); }
  // Runs the processor's Punctuate in a unit of its own and commits what it produced.
  absl::Status Punctuate(int64_t wall_millis);

  // Read by the metrics thread while the consumer thread applies.
  uint64_t applied_total() const { return applied_total_.load(); }
  uint64_t dead_lettered_total() const { return dead_lettered_total_.load(); }
  uint64_t batches_total() const { return batches_total_.load(); }
  uint64_t aborted_total() const { return aborted_total_.load(); }
  // Records skipped because the state already reflects them (offset below the stored one: read
  // again after a restore from a changelog, or after a rewind).
  uint64_t skipped_total() const { return skipped_total_.load(); }

 private:
  // Applies records[begin, end) in one unit and commits them as one write. Returns the index of
  // the first record refused with an input error (nothing was committed then; its error in
  // *refusal), else `end`. Any other error is returned as is.
  absl::StatusOr<size_t> CommitRange(const std::vector<ConsumedRecord>& records, size_t begin,
                                     size_t end, absl::Status* refusal);
  absl::Status CommitDeadLetter(const ConsumedRecord& record, const absl::Status& error);

  // The records the state does not reflect yet, in order.
  absl::StatusOr<std::vector<ConsumedRecord>> Unapplied(const std::vector<ConsumedRecord>& records);

  Store* store_;
  std::unique_ptr<BatchCommitter> owned_committer_;
  BatchCommitter* committer_;
  StreamProcessor* processor_;
  std::string consumer_;
  std::atomic<uint64_t> applied_total_ = 0;
  std::atomic<uint64_t> dead_lettered_total_ = 0;
  std::atomic<uint64_t> batches_total_ = 0;
  std::atomic<uint64_t> aborted_total_ = 0;
  std::atomic<uint64_t> skipped_total_ = 0;
};

}  // namespace kam
