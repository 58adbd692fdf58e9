#include "common/consumer_offsets.h"

#include "absl/strings/str_cat.h"

namespace kam {

std::string OffsetKey(std::string_view topic, int32_t partition) {
  // The NUL separator cannot occur in a topic name, so keys of different topics never collide.
  std::string key(topic);
  key.push_back('\0');
  key += EncodeUint64(static_cast<uint64_t>(partition));
  return key;
}

absl::Status PutNextOffset(const Store* store, rocksdb::WriteBatchBase* batch,
                           std::string_view topic, int32_t partition, int64_t next_offset) {
  return FromRocks(batch->Put(store->Cf(kOffsetsCf), OffsetKey(topic, partition),
                              EncodeUint64(static_cast<uint64_t>(next_offset))),
                   "offset put");
}

absl::StatusOr<std::optional<int64_t>> LoadNextOffset(const Store& store, std::string_view topic,
                                                      int32_t partition) {
  KAM_ASSIGN_OR_RETURN(std::optional<std::string> value,
                       store.Get(kOffsetsCf, OffsetKey(topic, partition)));
  if (!value) return std::optional<int64_t>();
  return std::optional<int64_t>(static_cast<int64_t>(DecodeUint64(*value)));
}

std::string ChangelogCheckpointKey(int32_t partition) {
  return absl::StrCat("changelog.checkpoint.", partition);
}

}  // namespace kam
