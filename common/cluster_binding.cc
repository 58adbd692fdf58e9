#include "common/cluster_binding.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace kam {
namespace {

constexpr char kClusterKey[] = "kafka.cluster_id";

std::string StartOver(const Store& store) {
  return absl::StrCat("Either point --kafka-brokers at the cluster the state belongs to, or start "
                      "this service with an empty --data-dir (move ",
                      store.path(), " away) so that it rebuilds its state from this cluster.");
}

}  // namespace

absl::Status BindStoreToCluster(Store* store, const std::string& cluster_id,
                                const std::string& brokers) {
  if (cluster_id.empty()) return absl::UnavailableError("Kafka did not report its cluster id");
  KAM_ASSIGN_OR_RETURN(std::optional<std::string> bound, store->Get(kMetaCf, kClusterKey));
  if (bound && *bound == cluster_id) return absl::OkStatus();
  if (bound) {
    return absl::FailedPreconditionError(
        absl::StrCat("--data-dir ", store->path(), " holds state written against Kafka cluster ",
                     *bound, ", but ", brokers, " is cluster ", cluster_id,
                     "; the stored offsets and data would not match its topics. ",
                     StartOver(*store)));
  }
  auto offsets = store->NewIterator(kOffsetsCf);
  offsets->SeekToFirst();
  if (offsets->Valid()) {
    log::Warn("store has state but no Kafka cluster recorded; binding it to this cluster",
              {{"cluster_id", cluster_id}});
  }
  KAM_RETURN_IF_ERROR(FromRocks(offsets->status(), "scan offsets"));
  rocksdb::WriteBatch batch;
  KAM_RETURN_IF_ERROR(
      FromRocks(batch.Put(store->Cf(kMetaCf), kClusterKey, cluster_id), "cluster id put"));
  return store->Write(&batch);
}

absl::Status CheckStoredOffsetsWithinTopics(const Store& store, const EndOffsetFn& end_offset) {
  auto it = store.NewIterator(kOffsetsCf);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string key = it->key().ToString();
    size_t separator = key.find('\0');
    if (separator == std::string::npos || key.size() != separator + 9) {
      return absl::DataLossError(absl::StrCat("offsets: malformed key in ", store.path()));
    }
    const std::string topic = key.substr(0, separator);
    const auto partition = static_cast<int32_t>(DecodeUint64(key.substr(separator + 1)));
    const auto stored = static_cast<int64_t>(DecodeUint64(it->value().ToStringView()));
    absl::StatusOr<int64_t> end = end_offset(topic, partition);
    if (absl::IsNotFound(end.status())) {
      return absl::FailedPreconditionError(
          absl::StrCat("--data-dir ", store.path(), " resumes ", topic, "/", partition,
                       " at offset ", stored, ", but that partition does not exist. ",
                       StartOver(store)));
    }
    KAM_RETURN_IF_ERROR(end.status());
    if (stored > *end) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--data-dir ", store.path(), " resumes ", topic, "/", partition, " at offset ", stored,
          ", but the partition ends at ", *end,
          ": the topic was deleted and created again since this state was written. ",
          StartOver(store)));
    }
  }
  return FromRocks(it->status(), "scan offsets");
}

}  // namespace kam
