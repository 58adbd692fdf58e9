// A store belongs to the Kafka cluster (and the topics) it was written against: started against
// another, a service refuses with a message that says what to do, and changes nothing.

#include "common/cluster_binding.h"

#include <gtest/gtest.h>

#include "common/consumer_offsets.h"
#include "tests/testing/temp_dir.h"

namespace kam {
namespace {

class ClusterBindingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open({.path = dir_.Sub("db")}, {});
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
  }
  void StoreOffset(const std::string& topic, int32_t partition, int64_t next) {
    rocksdb::WriteBatch batch;
    ASSERT_TRUE(PutNextOffset(store_.get(), &batch, topic, partition, next).ok());
    ASSERT_TRUE(store_->Write(&batch).ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(ClusterBindingTest, TheFirstClusterIsRecordedAndAnotherIsRefused) {
  ASSERT_TRUE(BindStoreToCluster(store_.get(), "cluster-A", "broker-a:9092").ok());
  EXPECT_TRUE(BindStoreToCluster(store_.get(), "cluster-A", "broker-a:9092").ok());
  absl::Status other = BindStoreToCluster(store_.get(), "cluster-B", "broker-b:9092");
  EXPECT_EQ(other.code(), absl::StatusCode::kFailedPrecondition);
  // Names both clusters, the data dir, and what to do.
  EXPECT_NE(other.message().find("cluster-A"), std::string::npos) << other;
  EXPECT_NE(other.message().find("cluster-B"), std::string::npos) << other;
  EXPECT_NE(other.message().find("--data-dir"), std::string::npos) << other;
  EXPECT_NE(other.message().find("empty --data-dir"), std::string::npos) << other;
  // Refusing changed nothing: the store still belongs to A.
  EXPECT_TRUE(BindStoreToCluster(store_.get(), "cluster-A", "broker-a:9092").ok());
}

TEST_F(ClusterBindingTest, AnEmptyClusterIdIsNotAcceptedAsAnIdentity) {
  EXPECT_EQ(BindStoreToCluster(store_.get(), "", "b:9092").code(), absl::StatusCode::kUnavailable);
}

TEST_F(ClusterBindingTest, OffsetsBeyondAPartitionsEndMeanTheTopicWasCreatedAgain) {
  StoreOffset("kam.interactions.v1", 0, 152);
  StoreOffset("kam.interactions.v1", 1, 173);
  std::map<std::pair<std::string, int32_t>, int64_t> ends = {{{"kam.interactions.v1", 0}, 152},
                                                              {{"kam.interactions.v1", 1}, 500}};
  auto end_offset = [&](const std::string& topic, int32_t partition) -> absl::StatusOr<int64_t> {
    auto it = ends.find({topic, partition});
    if (it == ends.end()) return absl::NotFoundError("no such partition");
    return it->second;
  };
  EXPECT_TRUE(CheckStoredOffsetsWithinTopics(*store_, end_offset).ok()) << "at or before the end";

  ends[{"kam.interactions.v1", 1}] = 0;  // deleted and created again: empty
  absl::Status recreated = CheckStoredOffsetsWithinTopics(*store_, end_offset);
  EXPECT_EQ(recreated.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(recreated.message().find("kam.interactions.v1/1 at offset 173"), std::string::npos)
      << recreated;
  EXPECT_NE(recreated.message().find("ends at 0"), std::string::npos) << recreated;

  ends.erase({"kam.interactions.v1", 1});
  EXPECT_EQ(CheckStoredOffsetsWithinTopics(*store_, end_offset).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ClusterBindingTest, ABrokerErrorIsNotMistakenForAMismatch) {
  StoreOffset("kam.accounts.v1", 0, 10);
  absl::Status status = CheckStoredOffsetsWithinTopics(
      *store_, [](const std::string&, int32_t) -> absl::StatusOr<int64_t> {
        return absl::UnavailableError("broker down");
      });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace kam
