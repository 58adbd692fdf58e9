#pragma once

// Iterators that stop at an upper bound. A plain RocksDB iterator asked for the keys under a
// prefix walks on past the prefix's end until it finds a live key, and every deleted key on the
// way (a tombstone, until compaction drops it) costs a comparison: scanning a short prefix next to
// many deleted keys (held-back records taken, fired timers) turns quadratic. With
// `iterate_upper_bound` the iterator stops at the bound instead.

#include <memory>
#include <string>

#include "rocksdb/iterator.h"
#include "rocksdb/options.h"

namespace kam {

// The smallest key greater than every key that starts with `prefix` ("" when there is none).
inline std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

// Read options with `upper_bound` as iterate_upper_bound, kept alive with the iterator built from
// them: construct, pass options() to NewIterator, then Adopt() the iterator.
class BoundedIterator : public rocksdb::Iterator {
 public:
  explicit BoundedIterator(std::string upper_bound)
      : upper_(std::move(upper_bound)), slice_(upper_) {
    if (!upper_.empty()) options_.iterate_upper_bound = &slice_;
  }
  const rocksdb::ReadOptions& options() const { return options_; }
  void Adopt(rocksdb::Iterator* inner) { inner_.reset(inner); }

  bool Valid() const override { return inner_->Valid(); }
  void SeekToFirst() override { inner_->SeekToFirst(); }
  void SeekToLast() override { inner_->SeekToLast(); }
  void Seek(const rocksdb::Slice& target) override { inner_->Seek(target); }
  void SeekForPrev(const rocksdb::Slice& target) override { inner_->SeekForPrev(target); }
  void Next() override { inner_->Next(); }
  void Prev() override { inner_->Prev(); }
  rocksdb::Slice key() const override { return inner_->key(); }
  rocksdb::Slice value() const override { return inner_->value(); }
  rocksdb::Status status() const override { return inner_->status(); }

 private:
  std::string upper_;
  rocksdb::Slice slice_;
  rocksdb::ReadOptions options_;
  std::unique_ptr<rocksdb::Iterator> inner_;
};

}  // namespace kam
