#include "common/store.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace kam
