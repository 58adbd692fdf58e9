#include "common/store.h"

#include <gtest/gtest.h>

#include "common/bounded_iterator.h"
#include "common/staged_batch.h"
#include "tests/testing/temp_dir.h"

namespace kam {
namespace {

TEST(StoreTest, WriteBatchIsAllOrNothingAcrossColumnFamiliesAndSurvivesReopen) {
  testing::TempDir dir;
  {
    auto store = Store::Open({.path = dir.Sub("db")}, {"a", "b"});
    ASSERT_TRUE(store.ok()) << store.status();
    rocksdb::WriteBatch batch;
    ASSERT_TRUE(batch.Put((*store)->Cf("a"), "k", "1").ok());
    ASSERT_TRUE(batch.Put((*store)->Cf("b"), "k", "2").ok());
    ASSERT_TRUE((*store)->Write(&batch).ok());
  }
  auto store = Store::Open({.path = dir.Sub("db")}, {"a", "b"});
  ASSERT_TRUE(store.ok());
  auto a = (*store)->Get("a", "k");
  auto b = (*store)->Get("b", "k");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->value_or(""), "1");
  EXPECT_EQ(b->value_or(""), "2");
  auto missing = (*store)->Get("a", "nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST(StoreTest, OpenFailsClearlyWhenThePathIsUnusable) {
  auto store = Store::Open({.path = "/proc/kam-cannot-create-here"}, {});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("/proc/kam-cannot-create-here"), std::string::npos);
}

TEST(StoreTest, Uint64KeysSortNumerically) {
  EXPECT_LT(EncodeUint64(9), EncodeUint64(10));
  EXPECT_LT(EncodeUint64(255), EncodeUint64(256));
  EXPECT_EQ(DecodeUint64(EncodeUint64(1234567890123ULL)), 1234567890123ULL);
}

TEST(StoreTest, PrefixEndIsTheFirstKeyPastThePrefix) {
  EXPECT_EQ(PrefixEnd("ab"), "ac");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff", 2)), "");
}

// A prefix scan sees the batch's own writes and the store's, and nothing past the prefix even
// when the next live key lies beyond thousands of deleted ones.
TEST(StoreTest, ABoundedScanStopsAtThePrefixEnd) {
  testing::TempDir dir;
  auto store = Store::Open({.path = dir.Sub("db")}, {"a"});
  ASSERT_TRUE(store.ok()) << store.status();
  rocksdb::WriteBatch batch;
  ASSERT_TRUE(batch.Put((*store)->Cf("a"), "p1|x", "stored").ok());
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(batch.Put((*store)->Cf("a"), "p2|" + std::to_string(i), "").ok());
    ASSERT_TRUE(batch.Delete((*store)->Cf("a"), "p2|" + std::to_string(i)).ok());
  }
  ASSERT_TRUE(batch.Put((*store)->Cf("a"), "p3|z", "beyond").ok());
  ASSERT_TRUE((*store)->Write(&batch).ok());
  StagedBatch staged(store->get());
  ASSERT_TRUE(staged.Put("a", "p1|y", "staged").ok());
  auto it = staged.NewIterator("a", PrefixEnd("p1|"));
  std::vector<std::string> seen;
  for (it->Seek("p1|"); it->Valid(); it->Next()) seen.push_back(it->value().ToString());
  ASSERT_TRUE(it->status().ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"stored", "staged"}));
}

}  // namespace
}  // namespace kam
