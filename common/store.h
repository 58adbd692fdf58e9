#pragma once

// RocksDB, opened with the column families a service declares plus the ones the runtime needs
// (outbox, meta, offsets). All state changes go through Write(WriteBatch) so that a state change,
// its outbox rows and its consumed offsets are durable together or not at all.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace kam {

inline constexpr std::string_view kOutboxCf = "outbox";
inline constexpr std::string_view kMetaCf = "meta";
inline constexpr std::string_view kOffsetsCf = "offsets";

struct StoreOptions {
  std::string path;
  // Block cache shared by all column families; bounds read memory.
  size_t block_cache_bytes = 64 << 20;
  // fsync the WAL on every write. Off by default: a process crash (kill -9) loses nothing without
  // it, since the WAL is in the OS page cache; turn it on to survive power loss too.
  bool sync_writes = false;
  // Where the files live; null is the disk. The fuzz targets give a fresh rocksdb::NewMemEnv per
  // input, so every input starts from an empty store and a finding replays alone.
  rocksdb::Env* env = nullptr;
};

class Store {
 public:
  // Opens (creating when missing) the database at options.path with `column_families` plus the
  // runtime's own families.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options,
                                                     std::vector<std::string> column_families);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The handle for a declared column family. Asking for an undeclared one is a programming error.
  rocksdb::ColumnFamilyHandle* Cf(std::string_view name) const;
  // The name of the column family with RocksDB id `id` (empty when unknown).
  std::string CfName(uint32_t id) const;

  absl::Status Write(rocksdb::WriteBatchBase* batch);
  // The value at `key`, or nullopt when absent.
  absl::StatusOr<std::optional<std::string>> Get(std::string_view cf, std::string_view key) const;
  std::unique_ptr<rocksdb::Iterator> NewIterator(std::string_view cf) const;

  // A random id created with the store and kept in it: identifies this service instance's
  // records in Kafka (the kam-producer header), so instances never mistake each other's records.
  const std::string& instance_id() const { return instance_id_; }

  rocksdb::DB* db() const { return db_.get(); }
  const std::string& path() const { return path_; }

 private:
  Store() = default;

  std::string path_;
  std::string instance_id_;
  rocksdb::WriteOptions write_options_;
  std::vector<std::string> cf_names_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

// The protobuf message stored at `key`, or nullopt; DATA_LOSS when the bytes do not parse.
// `reader` is a Store or a StagedBatch (anything with Get(cf, key)).
template <typename Message, typename Reader>
absl::StatusOr<std::optional<Message>> LoadMessage(Reader& reader, std::string_view cf,
                                                   const std::string& key) {
  KAM_ASSIGN_OR_RETURN(std::optional<std::string> bytes, reader.Get(cf, key));
  if (!bytes) return std::optional<Message>();
  Message message;
  if (!message.ParseFromString(*bytes)) {
    return absl::DataLossError(std::string(cf) + " record " + key + " does not parse");
  }
  return std::optional<Message>(std::move(message));
}

// One stored row: column family, key, value (nullopt for a deletion).
struct StoreRow {
  std::string cf;
  std::string key;
  std::optional<std::string> value;
};

// Maps a RocksDB status onto absl: corruption and IO errors are INTERNAL/UNAVAILABLE.
absl::Status FromRocks(const rocksdb::Status& status, std::string_view what);

// Makes sure the store holds data of `format` (kept in the meta column family under
// `format_key`). A store without the key is stamped with `format` when `probe_cf` is empty, and
// refused with FAILED_PRECONDITION saying `older` when it holds data (an older release wrote it).
absl::Status CheckStoreFormat(Store* store, std::string_view format_key, std::string_view format,
                              std::string_view probe_cf, std::string_view older);

// Big-endian fixed-width encodings keep numeric keys in numeric order under RocksDB's bytewise
// comparator.
std::string EncodeUint64(uint64_t value);
uint64_t DecodeUint64(std::string_view bytes);

}  // namespace kam
