// Reassignment suggestions by example: as few moves as possible, nobody pushed over capacity,
// industry focus first, A-tier accounts only to managers who carry A-tier accounts, inactive
// managers never receive, and what the plan cannot fix is said.

#include "services/accounts/rebalance.h"

#include <gtest/gtest.h>

namespace kam::accounts {
namespace {

PlannedAccount Plain(const std::string& id, double weight, kam::v1::Tier tier = kam::v1::TIER_B,
                     kam::v1::Industry industry = kam::v1::INDUSTRY_SERVICES) {
  return {.id = id, .name = "Name of " + id, .tier = tier, .industry = industry, .weight = weight};
}

PlannedManager Person(const std::string& id, double capacity, std::vector<PlannedAccount> accounts,
                      kam::v1::Industry focus = kam::v1::INDUSTRY_UNSPECIFIED) {
  return {.id = id,
          .name = "Name of " + id,
          .industry_focus = focus,
          .capacity = capacity,
          .active = true,
          .accounts = std::move(accounts)};
}

TEST(RebalanceTest, OneAccountThatCoversTheExcessIsMovedAlone) {
  // Max: 3.0 + 0.5 + 0.8 = 4.3 on a capacity of 4: the 0.5 account covers the excess of 0.3.
  auto plan = PlanReassignments(
      {Person("max", 4, {Plain("big", 3.0), Plain("small", 0.5), Plain("mid", 0.8)}),
       Person("ann", 4, {Plain("a1", 1.0)})},
      "");
  ASSERT_EQ(plan.suggestions_size(), 1);
  const auto& move = plan.suggestions(0);
  EXPECT_EQ(move.account_id(), "small");
  EXPECT_EQ(move.to_manager_id(), "ann");
  EXPECT_DOUBLE_EQ(move.from_utilisation_before(), 4.3 / 4);
  EXPECT_DOUBLE_EQ(move.from_utilisation_after(), 3.8 / 4);
  EXPECT_DOUBLE_EQ(move.to_utilisation_after(), 1.5 / 4);
  EXPECT_NE(move.reason().find("covers the excess of 0.30 in one move"), std::string::npos)
      << move.reason();
  EXPECT_EQ(plan.unrelieved_size(), 0);
}

TEST(RebalanceTest, NobodyEndsAboveCapacityAndTheIndustryFocusComesFirst) {
  // Max Overload: six standard accounts on a capacity of 4. Two must go; Lea (services focus)
  // takes them before Tom, who has more room but another focus -- until Lea is full.
  std::vector<PlannedAccount> six;
  for (int i = 0; i < 6; ++i) six.push_back(Plain("acc" + std::to_string(i), 1.0));
  auto plan = PlanReassignments(
      {Person("max", 4, six), Person("lea", 3, {Plain("l1", 1.5)}, kam::v1::INDUSTRY_SERVICES),
       Person("tom", 10, {}, kam::v1::INDUSTRY_MANUFACTURING_STANDARD)},
      "");
  ASSERT_EQ(plan.suggestions_size(), 2);
  EXPECT_EQ(plan.suggestions(0).to_manager_id(), "lea");
  EXPECT_NE(plan.suggestions(0).reason().find("same industry focus"), std::string::npos);
  EXPECT_EQ(plan.suggestions(1).to_manager_id(), "tom") << "Lea has 0.5 left: not enough";
  EXPECT_DOUBLE_EQ(plan.suggestions(1).from_utilisation_after(), 1.0);
  for (const auto& move : plan.suggestions()) EXPECT_LE(move.to_utilisation_after(), 1.0);
}

TEST(RebalanceTest, ATierAccountsGoOnlyToManagersWhoCarryThem) {
  auto plan = PlanReassignments(
      {Person("max", 2, {Plain("key", 2.0, kam::v1::TIER_A), Plain("c", 0.5, kam::v1::TIER_C)}),
       Person("roomy", 10, {}), Person("senior", 4, {Plain("other_a", 1.0, kam::v1::TIER_A)})},
      "");
  ASSERT_EQ(plan.suggestions_size(), 1);
  // The C account alone covers the excess of 0.5 and goes to the roomiest manager.
  EXPECT_EQ(plan.suggestions(0).account_id(), "c");
  EXPECT_EQ(plan.suggestions(0).to_manager_id(), "roomy");

  auto a_only = PlanReassignments(
      {Person("max", 1, {Plain("key", 2.0, kam::v1::TIER_A)}), Person("roomy", 10, {}),
       Person("senior", 4, {Plain("other_a", 1.0, kam::v1::TIER_A)})},
      "");
  ASSERT_EQ(a_only.suggestions_size(), 1);
  EXPECT_EQ(a_only.suggestions(0).to_manager_id(), "senior")
      << "roomy has more room but no A-tier account";
}

TEST(RebalanceTest, InactiveManagersNeverReceiveAndWhatCannotBeFixedIsSaid) {
  PlannedManager resting = Person("resting", 100, {});
  resting.active = false;
  auto plan = PlanReassignments(
      {Person("max", 1, {Plain("heavy", 3.0)}), resting, Person("full", 2, {Plain("f", 1.5)})}, "");
  EXPECT_EQ(plan.suggestions_size(), 0);
  ASSERT_EQ(plan.unrelieved_size(), 1);
  EXPECT_EQ(plan.unrelieved(0).manager_id(), "max");
  EXPECT_DOUBLE_EQ(plan.unrelieved(0).utilisation_after(), 3.0);
  EXPECT_NE(plan.unrelieved(0).reason().find("no active manager has room"), std::string::npos);
}

TEST(RebalanceTest, OnlyTheNamedManagerIsRelievedAndTheMostUtilisedComesFirst) {
  auto managers =
      std::vector<PlannedManager>{Person("a", 1, {Plain("a1", 1.2)}),
                                  Person("b", 1, {Plain("b1", 1.5)}), Person("free", 10, {})};
  auto plan = PlanReassignments(managers, "");
  ASSERT_EQ(plan.suggestions_size(), 2);
  EXPECT_EQ(plan.suggestions(0).from_manager_id(), "b") << "150 % before 120 %";
  auto only_a = PlanReassignments(managers, "a");
  ASSERT_EQ(only_a.suggestions_size(), 1);
  EXPECT_EQ(only_a.suggestions(0).from_manager_id(), "a");
  EXPECT_EQ(PlanReassignments({Person("calm", 2, {Plain("x", 1)})}, "").suggestions_size(), 0);
}

}  // namespace
}  // namespace kam::accounts
