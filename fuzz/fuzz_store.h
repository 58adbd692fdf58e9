#pragma once

// For the fuzz targets that drive a real store (the consumers, kam-interactions' requests): a
// RocksDB in memory that starts empty for every input, inputs cut into a sequence of steps, and
// seeds written from readable code.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/store.h"
#include "rocksdb/env.h"

namespace kam::fuzz {

// The harness itself failed (a store that does not open, a write to memory refused): not a
// finding in the code under test, but nothing to go on with either.
inline void HarnessRequire(const absl::Status& status) {
  if (status.ok()) return;
  std::fprintf(stderr, "harness: %s\n", status.ToString().c_str());
  std::abort();
}

template <typename T>
T HarnessMust(absl::StatusOr<T> value) {
  HarnessRequire(value.status());
  return std::move(*value);
}

// A store whose files live in memory, opened once per process (an open takes far longer than an
// input) and emptied before every input: each input starts from nothing, so a finding replays from
// its one input file.
class MemoryStore {
 public:
  explicit MemoryStore(std::vector<std::string> column_families)
      : env_(rocksdb::NewMemEnv(rocksdb::Env::Default())), families_(column_families) {
    for (std::string_view runtime : {kOutboxCf, kMetaCf, kOffsetsCf})
      families_.emplace_back(runtime);
    auto store = Store::Open({.path = "/kam", .env = env_.get()}, std::move(column_families));
    HarnessRequire(store.status());
    store_ = std::move(*store);
  }
  Store* get() { return store_.get(); }

  // Deletes every key of every column family, in one write.
  void Wipe() {
    rocksdb::WriteBatch batch;
    for (const std::string& family : families_) {
      auto it = store_->NewIterator(family);
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        HarnessRequire(FromRocks(batch.Delete(store_->Cf(family), it->key()), "wipe"));
      }
      HarnessRequire(FromRocks(it->status(), "wipe scan"));
    }
    HarnessRequire(store_->Write(&batch));
  }

 private:
  std::unique_ptr<rocksdb::Env> env_;  // outlives the store
  std::vector<std::string> families_;
  std::unique_ptr<Store> store_;
};

// An input is a sequence of steps: [kind: 1 byte][length: 2 bytes, little-endian][body]. A
// truncated last step is cut to what is there.
struct Step {
  uint8_t kind = 0;
  std::string_view body;
};

inline std::vector<Step> Steps(const uint8_t* data, size_t size, size_t max_steps = 64) {
  std::vector<Step> steps;
  size_t at = 0;
  while (at + 3 <= size && steps.size() < max_steps) {
    const size_t length = data[at + 1] | (static_cast<size_t>(data[at + 2]) << 8);
    const size_t body = std::min(length, size - at - 3);
    steps.push_back({data[at], {reinterpret_cast<const char*>(data + at + 3), body}});
    at += 3 + body;
  }
  return steps;
}

inline std::string EncodeStep(uint8_t kind, std::string_view body) {
  std::string step{static_cast<char>(kind), static_cast<char>(body.size() & 0xff),
                   static_cast<char>(body.size() >> 8)};
  step.append(body);
  return step;
}

// With KAM_FUZZ_WRITE_SEEDS=<dir> in the environment the target writes its seeds there and exits:
// the corpus in fuzz/corpus/<target>/ is made that way, from readable code, after a format change.
inline void WriteSeedsIfAsked(const std::vector<std::pair<std::string, std::string>>& seeds) {
  const char* dir = std::getenv("KAM_FUZZ_WRITE_SEEDS");
  if (dir == nullptr) return;
  std::filesystem::create_directories(dir);
  for (const auto& [name, bytes] : seeds) {
    std::ofstream(std::string(dir) + "/" + name, std::ios::binary) << bytes;
  }
  std::fprintf(stderr, "wrote %zu seeds to %s\n", seeds.size(), dir);
  std::exit(0);
}

}  // namespace kam::fuzz
