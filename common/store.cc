#include "common/store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/logging.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"

namespace kam {

absl::Status FromRocks(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(std::string(what), ": ", status.ToString());
  if (status.IsIOError() || status.IsBusy() || status.IsTryAgain() || status.IsTimedOut()) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

std::string EncodeUint64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

uint64_t DecodeUint64(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i) {
    value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return value;
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options,
                                                   std::vector<std::string> column_families) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // Most reads are point lookups by id: a bloom filter skips files that lack the key, and the
  // hash index inside data blocks avoids a binary search.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;

  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.write_buffer_size = 16 << 20;
  cf_options.max_write_buffer_number = 3;
  cf_options.compression = rocksdb::kLZ4Compression;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.keep_log_file_num = 3;
  // A restart after kill -9 replays the WAL. With a dozen column families, one that is rarely
  // written keeps every WAL file alive until the total reaches RocksDB's default bound (four times
  // all memtables, here gigabytes): a kam-alerts with 100,000 accounts and 300,000 interactions
  // took 2,170 ms to open after kill -9. Bounding the WAL flushes such families early, and the
  // recovered memtables stay in memory instead of being flushed before the open returns: 231 ms,
  // and the data dir 329 MB -> 92 MB (docs/benchmarks.md, "Restart").
  db_options.max_total_wal_size = 64 << 20;
  db_options.avoid_flush_during_recovery = true;
  db_options.skip_stats_update_on_db_open = true;
  db_options.max_background_jobs = 2;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  if (options.env != nullptr) db_options.env = options.env;

  for (std::string_view runtime_cf : {kOutboxCf, kMetaCf, kOffsetsCf}) {
    if (std::find(column_families.begin(), column_families.end(), runtime_cf) ==
        column_families.end()) {
      column_families.emplace_back(runtime_cf);
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  for (const auto& name : column_families) descriptors.emplace_back(name, cf_options);

  std::unique_ptr<Store> store(new Store());
  store->path_ = options.path;
  store->write_options_.sync = options.sync_writes;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status =
      rocksdb::DB::Open(db_options, options.path, descriptors, &store->handles_, &raw);
  if (!status.ok()) return FromRocks(status, absl::StrCat("open RocksDB at ", options.path));
  store->db_.reset(raw);
  store->cf_names_.push_back(rocksdb::kDefaultColumnFamilyName);
  for (auto& name : column_families) store->cf_names_.push_back(std::move(name));
  KAM_ASSIGN_OR_RETURN(std::optional<std::string> instance,
                       store->Get(kMetaCf, "store.instance_id"));
  if (instance) {
    store->instance_id_ = *instance;
  } else {
    store->instance_id_ = NewUuid().substr(0, 8);
    rocksdb::WriteBatch batch;
    KAM_RETURN_IF_ERROR(
        FromRocks(batch.Put(store->Cf(kMetaCf), "store.instance_id", store->instance_id_),
                  "put instance id"));
    KAM_RETURN_IF_ERROR(store->Write(&batch));
  }
  return store;
}

Store::~Store() {
  if (!db_) return;
  for (auto* handle : handles_) {
    rocksdb::Status status = db_->DestroyColumnFamilyHandle(handle);
    if (!status.ok())
      log::Warn("rocksdb close column family failed", {{"error", status.ToString()}});
  }
  rocksdb::Status status = db_->Close();
  if (!status.ok()) log::Warn("rocksdb close failed", {{"error", status.ToString()}});
}

std::string Store::CfName(uint32_t id) const {
  for (size_t i = 0; i < handles_.size(); ++i) {
    if (handles_[i]->GetID() == id) return cf_names_[i];
  }
  return "";
}

rocksdb::ColumnFamilyHandle* Store::Cf(std::string_view name) const {
  for (size_t i = 0; i < cf_names_.size(); ++i) {
    if (cf_names_[i] == name) return handles_[i];
  }
  log::Fatal("unknown column family", {{"cf", std::string(name)}});
}

absl::Status Store::Write(rocksdb::WriteBatchBase* batch) {
  return FromRocks(db_->Write(write_options_, batch->GetWriteBatch()), "rocksdb write");
}

absl::StatusOr<std::optional<std::string>> Store::Get(std::string_view cf,
                                                      std::string_view key) const {
  std::string value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), Cf(cf), key, &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) return FromRocks(status, "rocksdb get");
  return std::optional<std::string>(std::move(value));
}

std::unique_ptr<rocksdb::Iterator> Store::NewIterator(std::string_view cf) const {
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(rocksdb::ReadOptions(), Cf(cf)));
}

absl::Status CheckStoreFormat(Store* store, std::string_view format_key, std::string_view format,
                              std::string_view probe_cf, std::string_view older) {
  KAM_ASSIGN_OR_RETURN(std::optional<std::string> stored, store->Get(kMetaCf, format_key));
  if (stored) {
    if (*stored == format) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("--data-dir ", store->path(), ": store format ", *stored,
                     ", this release reads ", std::string(format)));
  }
  auto probe = store->NewIterator(probe_cf);
  probe->SeekToFirst();
  KAM_RETURN_IF_ERROR(FromRocks(probe->status(), "probe store format"));
  if (probe->Valid()) {
    return absl::FailedPreconditionError(
        absl::StrCat("--data-dir ", store->path(), " was ", std::string(older)));
  }
  rocksdb::WriteBatch batch;
  KAM_RETURN_IF_ERROR(
      FromRocks(batch.Put(store->Cf(kMetaCf), std::string(format_key), std::string(format)),
                "store format put"));
  return store->Write(&batch);
}

}  // namespace kam
