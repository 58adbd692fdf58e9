#include "services/accounts/derived.h"

#include <gtest/gtest.h>

namespace kam::accounts {
namespace {

using kam::v1::Account;

TEST(TiersTest, TopSeventyPercentOfRevenueIsAThenTwentyBThenC) {
  // 100 in total: a=50, b=20 (before: 50% -> A), c=10 (before: 70% -> B), d=10 (80% -> B),
  // e=6 (90% -> C), f=4 (96% -> C).
  auto tiers = ComputeTiers({{"a", 50}, {"b", 20}, {"c", 10}, {"d", 10}, {"e", 6}, {"f", 4}}, {});
  EXPECT_EQ(tiers["a"], kam::v1::TIER_A);
  EXPECT_EQ(tiers["b"], kam::v1::TIER_A);
  EXPECT_EQ(tiers["c"], kam::v1::TIER_B);
  EXPECT_EQ(tiers["d"], kam::v1::TIER_B);
  EXPECT_EQ(tiers["e"], kam::v1::TIER_C);
  EXPECT_EQ(tiers["f"], kam::v1::TIER_C);
}

TEST(TiersTest, ThresholdsAreConfigurable) {
  auto tiers = ComputeTiers({{"a", 50}, {"b", 30}, {"c", 20}}, {.a_share = 0.5, .b_share = 0.6});
  EXPECT_EQ(tiers["a"], kam::v1::TIER_A);
  EXPECT_EQ(tiers["b"], kam::v1::TIER_B);
  EXPECT_EQ(tiers["c"], kam::v1::TIER_C);
}

TEST(TiersTest, EqualRevenueIsRankedByIdSoTiersAreDeterministic) {
  auto first = ComputeTiers({{"x", 1}, {"w", 1}, {"z", 1}, {"y", 1}}, {});
  EXPECT_EQ(first["w"], kam::v1::TIER_A);
  EXPECT_EQ(first["x"], kam::v1::TIER_A);
  EXPECT_EQ(first["y"], kam::v1::TIER_A);
  EXPECT_EQ(first["z"], kam::v1::TIER_B);
}

TEST(TiersTest, NoRevenueAnywhereMakesEveryAccountC) {
  auto tiers = ComputeTiers({{"a", 0}, {"b", 0}}, {});
  EXPECT_EQ(tiers["a"], kam::v1::TIER_C);
  EXPECT_EQ(tiers["b"], kam::v1::TIER_C);
}

Account Plain() {
  Account account;
  account.set_lifecycle_phase(kam::v1::LIFECYCLE_PHASE_ESTABLISHED);
  account.set_complexity(kam::v1::COMPLEXITY_MEDIUM);
  account.add_regions("DE");
  return account;
}

TEST(WeightTest, StandardAccountWeighsOne) {
  EXPECT_DOUBLE_EQ(AccountWeight(Plain(), kam::v1::TIER_A, {}), 1.0);
  EXPECT_DOUBLE_EQ(AccountWeight(Plain(), kam::v1::TIER_B, {}), 0.75);
  EXPECT_DOUBLE_EQ(AccountWeight(Plain(), kam::v1::TIER_C, {}), 0.5);
}

TEST(WeightTest, ComplexityInternationalAndOnboardingMultiply) {
  Account account = Plain();
  account.set_complexity(kam::v1::COMPLEXITY_HIGH);
  account.add_regions("JP");
  account.set_lifecycle_phase(kam::v1::LIFECYCLE_PHASE_ONBOARDING);
  EXPECT_TRUE(IsInternational(account));
  EXPECT_DOUBLE_EQ(AccountWeight(account, kam::v1::TIER_A, {}), 1.5 * 1.3 * 1.5);
  WeightPolicy custom;
  custom.international = 2.0;
  EXPECT_DOUBLE_EQ(AccountWeight(account, kam::v1::TIER_A, custom), 1.5 * 2.0 * 1.5);
}

TEST(WeightTest, ClosedAccountWeighsNothing) {
  Account account = Plain();
  account.set_lifecycle_phase(kam::v1::LIFECYCLE_PHASE_CHURNED);
  EXPECT_EQ(AccountWeight(account, kam::v1::TIER_A, {}), 0);
}

TEST(WeightTest, OneCountryListedTwiceIsNotInternational) {
  Account account = Plain();
  account.add_regions("DE");
  EXPECT_FALSE(IsInternational(account));
}

TEST(CapacityTest, ExplicitCapacityWinsOverIndustryDefault) {
  AccountsPolicy policy;
  kam::v1::Manager manager;
  manager.set_industry_focus(kam::v1::INDUSTRY_SPECIALISED_TECHNOLOGY);
  EXPECT_EQ(EffectiveCapacity(manager, policy), 8);
  manager.set_industry_focus(kam::v1::INDUSTRY_MANUFACTURING_STANDARD);
  EXPECT_EQ(EffectiveCapacity(manager, policy), 25);
  manager.set_capacity(3);
  EXPECT_EQ(EffectiveCapacity(manager, policy), 3);
  manager.set_capacity(0);
  manager.set_industry_focus(kam::v1::INDUSTRY_UNSPECIFIED);
  EXPECT_EQ(EffectiveCapacity(manager, policy), policy.default_capacity);
}

TEST(RevenueTest, MinorUnitsFollowTheCurrencyExponent) {
  AccountsPolicy policy;
  kam::v1::Money eur;
  eur.set_amount_minor(12345);
  eur.set_currency("EUR");
  EXPECT_DOUBLE_EQ(*NormalisedRevenue(eur, policy), 123.45);
  kam::v1::Money yen;
  yen.set_amount_minor(1000);
  yen.set_currency("JPY");
  EXPECT_DOUBLE_EQ(*NormalisedRevenue(yen, policy), 1000 * 0.0062);
  kam::v1::Money unknown;
  unknown.set_currency("KWD");
  EXPECT_FALSE(NormalisedRevenue(unknown, policy).has_value());
}

}  // namespace
}  // namespace kam::accounts
