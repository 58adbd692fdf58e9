#include "common/batch_committer.h"

#include "common/consumer_offsets.h"

namespace kam {

absl::Status OutboxCommitter::Commit(StagedBatch* batch, std::vector<OutboundEvent> events,
                                     const InputOffsets& next_offsets) {
  for (const auto& [partition, next] : next_offsets) {
    KAM_RETURN_IF_ERROR(
        PutNextOffset(store_, batch->batch(), partition.first, partition.second, next));
  }
  if (batch->Count() == 0 && events.empty()) return absl::OkStatus();
  return outbox_->Commit(batch->batch(), std::move(events));
}

}  // namespace kam
