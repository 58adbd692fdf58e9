#include "common/topic_policy.h"

#include <gtest/gtest.h>

#include <map>

namespace kam {
namespace {

std::map<std::string, std::string> ConfigOf(const std::string& topic) {
  auto entries = TopicConfigFor(topic, {3, 2}, 90);
  return {entries.begin(), entries.end()};
}

TEST(TopicPolicyTest, ProductionReplicationOnThreeBrokersAndWhatASmallerClusterGets) {
  auto three = ResolveDurability(0, 0, 3);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->replication_factor, 3);
  EXPECT_EQ(three->min_insync_replicas, 2);
  auto five = ResolveDurability(0, 0, 5);
  EXPECT_EQ(five->replication_factor, 3) << "three copies, not one per broker";
  auto one = ResolveDurability(0, 0, 1);
  EXPECT_EQ(one->replication_factor, 1);
  EXPECT_EQ(one->min_insync_replicas, 1);
  EXPECT_EQ(ResolveDurability(0, 0, 2)->min_insync_replicas, 1)
      << "two replicas, one may be down during a rolling restart";
}

TEST(TopicPolicyTest, WhatTheClusterCannotMeetIsRefusedNamingTheFlag) {
  auto too_many = ResolveDurability(3, 0, 1);
  ASSERT_EQ(too_many.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(too_many.status().message().find("--replication-factor 3: the cluster has 1 broker"),
            std::string::npos)
      << too_many.status();
  auto in_sync = ResolveDurability(2, 3, 3);
  ASSERT_EQ(in_sync.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(in_sync.status().message().find("--min-insync-replicas 3"), std::string::npos);
}

TEST(TopicPolicyTest, EachKindOfTopicIsKeptAsLongAsItsReadersNeed) {
  EXPECT_EQ(ConfigOf("kam.interactions.v1")["retention.ms"], "-1") << "states are rebuilt from it";
  EXPECT_EQ(ConfigOf("kam.accounts.v1")["retention.ms"], "-1");
  EXPECT_EQ(ConfigOf("kam.alerts.v1")["retention.ms"], std::to_string(90LL * 24 * 3600 * 1000));
  EXPECT_EQ(ConfigOf("kam-alerts.changelog.v1")["cleanup.policy"], "compact");
  EXPECT_EQ(ConfigOf("kam-interactions.members.v1")["cleanup.policy"], "compact");
  EXPECT_EQ(ConfigOf("kam-alerts-x.portfolio.v1")["retention.ms"],
            std::to_string(7LL * 24 * 3600 * 1000));
  EXPECT_EQ(ConfigOf("kam.alerts.v1")["min.insync.replicas"], "2");
}

}  // namespace
}  // namespace kam
