#pragma once

// A WriteBatch whose pending writes the reads through it already see (RocksDB's
// WriteBatchWithIndex over the store). A consumer applies a whole group of records in one commit;
// each record must still see what the records before it in the group wrote, exactly as if every
// record had been committed alone.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/store.h"
#include "rocksdb/utilities/write_batch_with_index.h"

namespace kam {

class StagedBatch {
 public:
  explicit StagedBatch(const Store* store);

  absl::Status Put(std::string_view cf, std::string_view key, std::string_view value);
  absl::Status Delete(std::string_view cf, std::string_view key);

  // The value at `key` as it will be after this batch commits (nullopt when absent).
  absl::StatusOr<std::optional<std::string>> Get(std::string_view cf, std::string_view key);
  // The store overlaid with this batch. Do not write to the batch while the iterator lives.
  std::unique_ptr<rocksdb::Iterator> NewIterator(std::string_view cf);
  // The same over the keys below `upper_bound` only (common/bounded_iterator.h: why).
  std::unique_ptr<rocksdb::Iterator> NewIterator(std::string_view cf, std::string upper_bound);

  // Marks the batch as it is now; RollbackToSavePoint undoes the writes made since (one write that
  // turned out to be refused), PopSavePoint keeps them.
  void SetSavePoint() { batch_.SetSavePoint(); }
  absl::Status RollbackToSavePoint() {
    return FromRocks(batch_.RollbackToSavePoint(), "batch rollback");
  }
  absl::Status PopSavePoint() { return FromRocks(batch_.PopSavePoint(), "batch pop savepoint"); }

  // Pending writes (puts and deletes).
  int Count() { return batch_.GetWriteBatch()->Count(); }
  void Clear() { batch_.Clear(); }
  // What Store::Write and Outbox::Commit take.
  rocksdb::WriteBatchBase* batch() { return &batch_; }
  const Store& store() const { return *store_; }

 private:
  const Store* store_;
  // overwrite_key: an iterator shows a key rewritten in the batch once, with its last value.
  rocksdb::WriteBatchWithIndex batch_{rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true};
};

}  // namespace kam
