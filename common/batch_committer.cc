#include "common/batch_committer.h"

#include "common/consumer_offsets.h"

namespace kam {

absl::Status PutInputOffsets(const Store* store, StagedBatch* batch, const InputOffsets& offsets) {
  for (const auto& [partition, next] : offsets) {
    KAM_RETURN_IF_ERROR(
        PutNextOffset(store, batch->batch(), partition.first, partition.second, next));
  }
  return absl::OkStatus();
}

absl::Status OutboxCommitter::Commit(StagedBatch* batch, std::vector<OutboundEvent> events,
                                     const InputOffsets& next_offsets) {
  KAM_RETURN_IF_ERROR(PutInputOffsets(store_, batch, next_offsets));
  if (batch->Count() == 0 && events.empty()) return absl::OkStatus();
  return outbox_->Commit(batch->batch(), std::move(events));
}

}  // namespace kam
