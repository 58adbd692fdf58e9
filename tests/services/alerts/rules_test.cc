// The rule examples of the product, on the pure rule functions.

#include "services/alerts/rules.h"

#include <gtest/gtest.h>

#include "kam/v1/accounts.pb.h"

namespace kam::alerts {
namespace {

using kam::internal::v1::AlertAccountState;

constexpr int64_t kWeek = 7LL * 24 * 3600 * 1000;

AlertAccountState WithNps(const std::vector<int>& answers) {
  AlertAccountState account;
  account.set_account_id("acc");
  account.set_known(true);
  for (size_t i = 0; i < answers.size(); ++i) {
    auto* signal = account.add_signals();
    signal->set_occur_millis(static_cast<int64_t>(i) * kWeek);
    signal->set_interaction_id("s" + std::to_string(i));
    signal->set_score(answers[i] * 10.0);
    signal->set_detractor(answers[i] <= 6);
  }
  return account;
}

// Runs the rule after each answer, as the engine does, and reports when it was open.
std::vector<bool> FallingOverTime(const std::vector<int>& answers, const RuleConfig& config = {}) {
  std::vector<bool> open;
  bool now = false;
  for (size_t n = 1; n <= answers.size(); ++n) {
    now = SatisfactionFalling(WithNps({answers.begin(), answers.begin() + n}), config, now).open;
    open.push_back(now);
  }
  return open;
}

TEST(SatisfactionFallingTest, FiresForASlidingCustomer) {
  auto open = FallingOverTime({9, 9, 8, 6, 4, 3});
  EXPECT_TRUE(open.back());
  EXPECT_FALSE(open[2]) << "not after one slightly lower answer";
  Desired desired = SatisfactionFalling(WithNps({9, 9, 8, 6, 4, 3}), {}, true);
  EXPECT_EQ(desired.severity, kam::v1::SEVERITY_CRITICAL) << "a deep drop with detractors";
  bool explains_window = false;
  for (const auto& [name, value] : desired.evidence) explains_window |= name == "recent_answers";
  EXPECT_TRUE(explains_window);
}

TEST(SatisfactionFallingTest, StaysSilentForSteadyAnswersAndASingleDip) {
  for (bool open : FallingOverTime({9, 9, 9, 10, 9})) EXPECT_FALSE(open);
  for (bool open : FallingOverTime({9, 7, 9, 9})) EXPECT_FALSE(open);
}

TEST(SatisfactionFallingTest, ResolvesOnRecoveryWithoutFlapping) {
  auto open = FallingOverTime({9, 9, 8, 6, 4, 3, 8, 9, 9, 9, 9, 9, 9});
  ASSERT_TRUE(open[5]);
  int flips = 0;
  for (size_t i = 1; i < open.size(); ++i) flips += open[i] != open[i - 1];
  EXPECT_FALSE(open.back()) << "resolves once the level is back near the baseline";
  EXPECT_EQ(flips, 2) << "fires once, resolves once";
}

TEST(SatisfactionFallingTest, ComplaintsPushTheLevelDown) {
  AlertAccountState account = WithNps({9, 9, 9});
  SatisfactionLevels before = ComputeLevels(account, {});
  auto* complaint = account.add_signals();
  complaint->set_occur_millis(10 * kWeek);
  complaint->set_complaint(true);
  EXPECT_LT(ComputeLevels(account, {}).level, before.level - 5);
}

TEST(SatisfactionLowTest, DetractorTerritoryRegardlessOfTrend) {
  EXPECT_TRUE(SatisfactionLow(WithNps({3, 4, 3, 4}), {}, false).open);
  EXPECT_FALSE(SatisfactionLow(WithNps({9, 9}), {}, false).open);
  EXPECT_FALSE(SatisfactionLow(WithNps({3}), {}, false).open) << "one answer is not a level";
  // Hysteresis: at 65 an open alert stays open, a closed one stays closed.
  EXPECT_TRUE(SatisfactionLow(WithNps({6, 7, 6, 7}), {}, true).open);
  EXPECT_FALSE(SatisfactionLow(WithNps({6, 7, 6, 7}), {}, false).open);
}

TEST(ManagerOverloadedTest, CapacityThreeWithFourPlainAccountsFiresAndOneLessResolves) {
  kam::internal::v1::AlertManagerState manager;
  manager.set_manager_id("mgr");
  manager.set_capacity(3);
  manager.set_load(3.75);  // A, A, A, B
  Desired desired = ManagerOverloaded(manager, {}, false);
  EXPECT_TRUE(desired.open);
  EXPECT_EQ(desired.severity, kam::v1::SEVERITY_CRITICAL);
  manager.set_load(3.2);
  EXPECT_EQ(ManagerOverloaded(manager, {}, true).severity, kam::v1::SEVERITY_WARNING);
  manager.set_load(3.0);
  EXPECT_FALSE(ManagerOverloaded(manager, {}, true).open);
  manager.set_load(3.1);  // inside the hysteresis band: an open alert stays, none opens
  EXPECT_TRUE(ManagerOverloaded(manager, {}, true).open);
  EXPECT_FALSE(ManagerOverloaded(manager, {}, false).open);
}

TEST(ResponseOverdueTest, OpenPastTheTwoDayBenchmark) {
  const int64_t day = 24LL * 3600 * 1000;
  EXPECT_FALSE(ResponseOverdue("acc", "req", 0, true, day, {}).open);
  EXPECT_EQ(ResponseOverdue("acc", "req", 0, true, 3 * day, {}).severity,
            kam::v1::SEVERITY_WARNING);
  EXPECT_EQ(ResponseOverdue("acc", "req", 0, true, 5 * day, {}).severity,
            kam::v1::SEVERITY_CRITICAL);
  EXPECT_FALSE(ResponseOverdue("acc", "req", 0, false, 5 * day, {}).open);
}

TEST(NoContactTest, OnlyKeyOrATierAccountsAreWatched) {
  const int64_t day = 24LL * 3600 * 1000;
  AlertAccountState account;
  account.set_account_id("acc");
  account.set_known(true);
  account.set_tier(kam::v1::TIER_C);
  account.set_last_contact_millis(day);
  EXPECT_FALSE(NoContact(account, 40 * day, {}).open);
  account.set_key_account(true);
  EXPECT_TRUE(NoContact(account, 40 * day, {}).open);
  EXPECT_FALSE(NoContact(account, 20 * day, {}).open);
}

// A manager's portfolio: `falling` accounts with satisfaction falling, `overdue` others with a
// request overdue, the rest calm; `size` accounts in all.
kam::internal::v1::AlertManagerState Portfolio(int size, int falling, int overdue, double load = 5,
                                              double capacity = 8) {
  kam::internal::v1::AlertManagerState manager;
  manager.set_manager_id("mgr");
  manager.set_name("Jane");
  manager.set_load(load);
  manager.set_capacity(capacity);
  manager.set_account_count(size);
  for (int i = 0; i < size; ++i) {
    kam::internal::v1::PortfolioFact fact;
    fact.set_account_id("acc_" + std::to_string(i));
    fact.set_manager_id("mgr");
    if (i < falling) {
      fact.set_satisfaction_falling(true);
      fact.set_satisfaction_since_millis(1'790'000'000'000 + i);
    } else if (i < falling + overdue) {
      fact.set_overdue_requests(1);
      fact.set_overdue_since_millis(1'790'000'000'000);
    }
    (*manager.mutable_portfolio())[fact.account_id()] = fact;
  }
  return manager;
}

TEST(PortfolioStrainTest, SeveralAccountsAtOnceAreTheEarlyWarning) {
  RuleConfig config;
  EXPECT_FALSE(PortfolioStrain(Portfolio(8, 1, 0), config, false, false).open) << "one is no trend";
  auto two = PortfolioStrain(Portfolio(8, 1, 1), config, false, false);
  EXPECT_TRUE(two.open) << "2 of 8 = 25%";
  EXPECT_EQ(two.severity, kam::v1::SEVERITY_WARNING);
  EXPECT_FALSE(PortfolioStrain(Portfolio(20, 2, 0), config, false, false).open) << "10% of 20";
  EXPECT_EQ(PortfolioStrain(Portfolio(8, 2, 2), config, false, false).severity,
            kam::v1::SEVERITY_CRITICAL)
      << "half the portfolio";
  // Hysteresis: open at 20%, stays open down to 10%.
  EXPECT_FALSE(PortfolioStrain(Portfolio(16, 2, 0), config, false, false).open) << "12.5%";
  EXPECT_TRUE(PortfolioStrain(Portfolio(16, 2, 0), config, true, false).open);
  EXPECT_FALSE(PortfolioStrain(Portfolio(16, 1, 0), config, true, false).open) << "under 2";
  // Over capacity, MANAGER_OVERLOADED speaks instead, with the same symptoms.
  EXPECT_FALSE(PortfolioStrain(Portfolio(8, 2, 2), config, true, true).open);
  auto overload = ManagerOverloaded(Portfolio(8, 2, 1, 9, 8), config, false);
  ASSERT_TRUE(overload.open);
  bool named = false;
  for (const auto& [name, value] : overload.evidence) {
    if (name == "portfolio_strained_accounts") named = value == "3 of 8";
  }
  EXPECT_TRUE(named);
}

TEST(RulesConfigTest, IndustryOverridesAndBadFilesAreRefused) {
  RulesConfig rules;
  rules.by_industry[kam::v1::INDUSTRY_SERVICES].overload_fire = 1.5;
  EXPECT_EQ(rules.For(kam::v1::INDUSTRY_SERVICES).overload_fire, 1.5);
  EXPECT_EQ(rules.For(kam::v1::INDUSTRY_TRADITIONAL_B2B).overload_fire, 1.05);
  EXPECT_FALSE(LoadRules("/nonexistent/rules.json").ok());
  auto defaults = LoadRules(std::string(KAM_SOURCE_DIR) + "/deploy/alerts-rules.json");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->defaults.falling_fire_drop, RuleConfig().falling_fire_drop);
}

}  // namespace
}  // namespace kam::alerts
