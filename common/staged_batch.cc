#include "common/staged_batch.h"

#include "common/bounded_iterator.h"

namespace kam {

StagedBatch::StagedBatch(const Store* store) : store_(store) {}

absl::Status StagedBatch::Put(std::string_view cf, std::string_view key, std::string_view value) {
  return FromRocks(batch_.Put(store_->Cf(cf), key, value), "batch put");
}

absl::Status StagedBatch::Delete(std::string_view cf, std::string_view key) {
  return FromRocks(batch_.Delete(store_->Cf(cf), key), "batch delete");
}

absl::StatusOr<std::optional<std::string>> StagedBatch::Get(std::string_view cf,
                                                            std::string_view key) {
  std::string value;
  rocksdb::Status status =
      batch_.GetFromBatchAndDB(store_->db(), rocksdb::ReadOptions(), store_->Cf(cf), key, &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) return FromRocks(status, "batch get");
  return std::optional<std::string>(std::move(value));
}

std::unique_ptr<rocksdb::Iterator> StagedBatch::NewIterator(std::string_view cf) {
  rocksdb::ColumnFamilyHandle* handle = store_->Cf(cf);
  return std::unique_ptr<rocksdb::Iterator>(batch_.NewIteratorWithBase(
      handle, store_->db()->NewIterator(rocksdb::ReadOptions(), handle)));
}

std::unique_ptr<rocksdb::Iterator> StagedBatch::NewIterator(std::string_view cf,
                                                            std::string upper_bound) {
  rocksdb::ColumnFamilyHandle* handle = store_->Cf(cf);
  auto bounded = std::make_unique<BoundedIterator>(std::move(upper_bound));
  // The batch's own entries are few; the bound matters for the store's (tombstones included).
  bounded->Adopt(batch_.NewIteratorWithBase(
      handle, store_->db()->NewIterator(bounded->options(), handle), &bounded->options()));
  return bounded;
}

}  // namespace kam
