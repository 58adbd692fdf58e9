#pragma once

// Applies consumed records exactly once: the processor's state change, the record's next offset
// and any events it emits go into ONE WriteBatch committed through the outbox. A record the
// processor rejects changes no state; it goes to the dead-letter topic (also through the outbox,
// in the same batch as its offset) and consumption goes on.

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "common/consumer_offsets.h"
#include "common/kafka_topics.h"
#include "common/outbox.h"
#include "common/status.h"

namespace kam {

class RecordProcessor {
 public:
  virtual ~RecordProcessor() = default;
  // Adds the state change for `record` to `batch` and the events it causes to `events`. An error
  // says the record is malformed or cannot apply; nothing added is then written.
  virtual absl::Status Apply(const ConsumedRecord& record, rocksdb::WriteBatch* batch,
                             std::vector<OutboundEvent>* events) = 0;
  // Called about once a second while consuming, also when no record arrived: for work driven by
  // the passage of time (timers). Same contract as Apply, without an offset.
  virtual absl::Status Tick(int64_t wall_millis, rocksdb::WriteBatch* batch,
                            std::vector<OutboundEvent>* events) {
    return absl::OkStatus();
  }
  // Held around Apply/Tick and their commit, when the processor's state is also changed by
  // others (e.g. an API call); null when not needed.
  virtual std::mutex* commit_mutex() { return nullptr; }
  // The batch of the last Apply/Tick is durable (false: it was not written).
  virtual void Committed(bool written) {}
};

// The dead-letter event for `record`: origin, error and the original bytes.
OutboundEvent MakeDeadLetter(const ConsumedRecord& record, const std::string& error,
                             const std::string& consumer);

class RecordApplier {
 public:
  RecordApplier(Store* store, Outbox* outbox, RecordProcessor* processor, std::string consumer_name)
      : store_(store),
        outbox_(outbox),
        processor_(processor),
        consumer_(std::move(consumer_name)) {}

  // Applies one record. An error here is a storage failure: the record was not applied and its
  // offset not stored, so it must be retried (or the process stopped).
  absl::Status Apply(const ConsumedRecord& record);
  // Runs the processor's Tick and commits what it produced.
  absl::Status Tick(int64_t wall_millis);

  uint64_t applied_total() const { return applied_total_; }
  uint64_t dead_lettered_total() const { return dead_lettered_total_; }

 private:
  Store* store_;
  Outbox* outbox_;
  RecordProcessor* processor_;
  std::string consumer_;
  uint64_t applied_total_ = 0;
  uint64_t dead_lettered_total_ = 0;
};

}  // namespace kam
