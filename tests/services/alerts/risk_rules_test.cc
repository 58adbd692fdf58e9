// The examples of the business-risk rules (churn notice, renewal at risk, revenue concentration),
// on the pure rule functions: when each fires, stays silent, and resolves.

#include <gtest/gtest.h>

#include <fstream>

#include "kam/v1/accounts.pb.h"
#include "services/alerts/rules.h"
#include "tests/testing/temp_dir.h"

namespace kam::alerts {
namespace {

using kam::internal::v1::AlertAccountState;

constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr int64_t kT0 = 1'790'000'000'000;
constexpr kam::v1::Severity kNone = kam::v1::SEVERITY_UNSPECIFIED;

AlertAccountState Known() {
  AlertAccountState account;
  account.set_account_id("acc");
  account.set_name("Acme");
  account.set_known(true);
  account.set_tier(kam::v1::TIER_B);
  account.set_first_seen_millis(kT0);
  account.set_last_contact_millis(kT0);
  return account;
}

std::string Evidence(const Desired& desired, const std::string& name) {
  for (const auto& [key, value] : desired.evidence) {
    if (key == name) return value;
  }
  return "";
}

TEST(ChurnRiskTest, ANoticeFiresAtOnceCriticalWithWhatTheManagerNeeds) {
  AlertAccountState account = Known();
  EXPECT_FALSE(ChurnRisk(account, {}).open) << "no notice, no alert";
  account.set_churn_notice_millis(kT0 + 5 * kDay);
  account.set_churn_notice_interaction_id("int_churn");
  account.set_annual_revenue_minor(120'000'000);
  account.set_revenue_currency("EUR");
  account.set_revenue_share(0.12);
  account.add_open_requests()->set_interaction_id("req_1");
  for (int i = 0; i < 3; ++i) {
    auto* signal = account.add_signals();
    signal->set_occur_millis(kT0 + i * kDay);
    signal->set_score(30);
  }
  Desired desired = ChurnRisk(account, {});
  ASSERT_TRUE(desired.open);
  EXPECT_EQ(desired.severity, kam::v1::SEVERITY_CRITICAL);
  EXPECT_EQ(Evidence(desired, "churn_notice"), "int_churn");
  EXPECT_EQ(Evidence(desired, "open_requests"), "1");
  EXPECT_EQ(Evidence(desired, "annual_revenue"), "1200000.00 EUR");
  EXPECT_EQ(Evidence(desired, "revenue_share"), "12.0%");
  EXPECT_EQ(Evidence(desired, "satisfaction_answers"), "3");
  EXPECT_EQ(Evidence(desired, "satisfaction_level"), "30.0");
  EXPECT_NE(desired.summary.find("Acme announced churn"), std::string::npos) << desired.summary;

  // A renewal signed before the notice does not answer it.
  account.set_renewed_millis(kT0 + 4 * kDay);
  EXPECT_TRUE(ChurnRisk(account, {}).open);
}

TEST(ChurnRiskTest, ResolvesWhenTheAccountRenewsOrLeavesAndSaysWhich) {
  AlertAccountState account = Known();
  account.set_churn_notice_millis(kT0 + 5 * kDay);
  account.set_renewed_millis(kT0 + 30 * kDay);
  Desired renewed = ChurnRisk(account, {});
  EXPECT_FALSE(renewed.open);
  EXPECT_EQ(Evidence(renewed, "outcome"), "renewed");

  account.set_renewed_millis(0);
  account.set_closed(true);
  Desired churned = ChurnRisk(account, {});
  EXPECT_FALSE(churned.open);
  EXPECT_EQ(Evidence(churned, "outcome"), "churned");
}

TEST(RenewalAtRiskTest, InsideTheWindowWithADangerSignSeverityRisesAsTheDateComes) {
  AlertAccountState account = Known();
  const int64_t renewal = kT0 + 120 * kDay;
  account.set_renewal_millis(renewal);
  auto at_days_left = [&](int days, bool satisfaction) {
    return RenewalAtRisk(account, {}, renewal - days * kDay, satisfaction);
  };
  // Contacts keep coming (no silence): only the satisfaction alert is a sign here.
  account.set_last_contact_millis(renewal - 5 * kDay);
  EXPECT_FALSE(at_days_left(100, true).open) << "outside the 90-day window";
  EXPECT_FALSE(at_days_left(80, false).open) << "inside the window, but nothing is wrong";
  EXPECT_EQ(at_days_left(80, true).severity, kam::v1::SEVERITY_INFO);
  EXPECT_EQ(at_days_left(50, true).severity, kam::v1::SEVERITY_WARNING);
  EXPECT_EQ(at_days_left(20, true).severity, kam::v1::SEVERITY_CRITICAL);
  EXPECT_FALSE(RenewalAtRisk(account, {}, renewal + kDay, true).open) << "the date has passed";

  Desired desired = at_days_left(50, true);
  EXPECT_EQ(Evidence(desired, "days_left"), "50.0");
  EXPECT_EQ(Evidence(desired, "signs"), "satisfaction low or falling");

  // Key and A-tier accounts are one step more urgent.
  account.set_key_account(true);
  EXPECT_EQ(at_days_left(80, true).severity, kam::v1::SEVERITY_WARNING);
  EXPECT_EQ(at_days_left(50, true).severity, kam::v1::SEVERITY_CRITICAL);

  // A renewal signed inside the window answers it.
  account.set_renewed_millis(renewal - 60 * kDay);
  EXPECT_FALSE(at_days_left(50, true).open);
}

TEST(RenewalAtRiskTest, AnOverdueRequestOrSilenceIsASignToo) {
  AlertAccountState account = Known();
  const int64_t renewal = kT0 + 120 * kDay;
  account.set_renewal_millis(renewal);
  account.set_last_contact_millis(renewal - 70 * kDay);
  const int64_t now = renewal - 45 * kDay;  // 25 days since the last contact: not silent yet
  EXPECT_FALSE(RenewalAtRisk(account, {}, now, false).open);

  auto* request = account.add_open_requests();
  request->set_interaction_id("req_1");
  request->set_open_millis(now - 3 * kDay);
  Desired overdue = RenewalAtRisk(account, {}, now, false);
  ASSERT_TRUE(overdue.open);
  EXPECT_EQ(Evidence(overdue, "signs"), "1 request overdue");

  account.clear_open_requests();
  Desired silent = RenewalAtRisk(account, {}, renewal - 30 * kDay, false);
  ASSERT_TRUE(silent.open);
  EXPECT_EQ(Evidence(silent, "signs"), "no contact for 40.0 days");
}

TEST(RenewalAtRiskTest, TheNextCheckIsTheNextMomentTheVerdictCanChange) {
  AlertAccountState account = Known();
  const int64_t renewal = kT0 + 200 * kDay;
  account.set_renewal_millis(renewal);
  account.set_last_contact_millis(renewal - 10 * kDay);  // contact is recent throughout
  EXPECT_EQ(NextRenewalCheck(account, {}, kT0), renewal - 90 * kDay) << "the window opens";
  EXPECT_EQ(NextRenewalCheck(account, {}, renewal - 90 * kDay), renewal - 60 * kDay);
  EXPECT_EQ(NextRenewalCheck(account, {}, renewal - 60 * kDay), renewal - 30 * kDay);
  EXPECT_EQ(NextRenewalCheck(account, {}, renewal - 30 * kDay), renewal) << "the date passes";
  EXPECT_EQ(NextRenewalCheck(account, {}, renewal), 0) << "nothing after the date";
  // A request opened inside the window becomes overdue at a moment of its own.
  auto* request = account.add_open_requests();
  request->set_open_millis(renewal - 50 * kDay);
  EXPECT_EQ(NextRenewalCheck(account, {}, renewal - 49 * kDay), renewal - 48 * kDay + 1);
}

TEST(RevenueConcentrationTest, DependencyAboveHalfAndAnUnmarkedKeyAccountAboveAQuarter) {
  AlertAccountState account = Known();
  account.set_revenue_share(0.20);
  EXPECT_FALSE(RevenueConcentration(account, {}, kNone).open);

  account.set_revenue_share(0.30);
  Desired unmarked = RevenueConcentration(account, {}, kNone);
  ASSERT_TRUE(unmarked.open);
  EXPECT_EQ(unmarked.severity, kam::v1::SEVERITY_WARNING);
  EXPECT_EQ(Evidence(unmarked, "suggestion"), "mark as key account");
  EXPECT_EQ(Evidence(unmarked, "revenue_share"), "30.0%");

  account.set_key_account(true);
  EXPECT_FALSE(RevenueConcentration(account, {}, kNone).open) << "marked: nothing to suggest";

  account.set_revenue_share(0.55);
  Desired dependency = RevenueConcentration(account, {}, kNone);
  ASSERT_TRUE(dependency.open);
  EXPECT_EQ(dependency.severity, kam::v1::SEVERITY_CRITICAL);
  EXPECT_NE(dependency.summary.find("a dependency on one customer"), std::string::npos);
}

TEST(RevenueConcentrationTest, EachLevelIsLeftOnlyBelowItsMargin) {
  AlertAccountState account = Known();
  account.set_key_account(true);
  account.set_revenue_share(0.49);
  EXPECT_FALSE(RevenueConcentration(account, {}, kNone).open);
  Desired held = RevenueConcentration(account, {}, kam::v1::SEVERITY_CRITICAL);
  EXPECT_TRUE(held.open) << "49 % holds an open dependency alert";
  EXPECT_EQ(held.severity, kam::v1::SEVERITY_CRITICAL);
  account.set_revenue_share(0.47);
  EXPECT_FALSE(RevenueConcentration(account, {}, kam::v1::SEVERITY_CRITICAL).open);

  // Not marked: between 48 and 50 % a critical alert stays critical, a warning stays a warning.
  account.set_key_account(false);
  account.set_revenue_share(0.49);
  EXPECT_EQ(RevenueConcentration(account, {}, kam::v1::SEVERITY_CRITICAL).severity,
            kam::v1::SEVERITY_CRITICAL);
  EXPECT_EQ(RevenueConcentration(account, {}, kam::v1::SEVERITY_WARNING).severity,
            kam::v1::SEVERITY_WARNING);
  account.set_revenue_share(0.24);
  EXPECT_TRUE(RevenueConcentration(account, {}, kam::v1::SEVERITY_WARNING).open);
  EXPECT_FALSE(RevenueConcentration(account, {}, kNone).open);
  account.set_revenue_share(0.22);
  EXPECT_FALSE(RevenueConcentration(account, {}, kam::v1::SEVERITY_WARNING).open);
  account.set_revenue_share(0.9);
  account.set_closed(true);
  EXPECT_FALSE(RevenueConcentration(account, {}, kam::v1::SEVERITY_CRITICAL).open)
      << "a closed account is no risk";
}

TEST(RiskRulesConfigTest, ThresholdsComeFromTheRulesFileAndNonsenseIsRefused) {
  testing::TempDir dir;
  const std::string good = dir.Sub("good.json");
  std::ofstream(good) << R"({"defaults": {"renewal_window_days": 120, "dependency_share": 0.6}})";
  auto rules = LoadRules(good);
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ(rules->defaults.renewal_window_millis, 120 * kDay);
  EXPECT_EQ(rules->defaults.dependency_share, 0.6);

  const std::string bad = dir.Sub("bad.json");
  std::ofstream(bad) << R"({"defaults": {"renewal_critical_days": 100}})";
  auto refused = LoadRules(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("renewal_critical_days"), std::string::npos)
      << refused.status();
}

}  // namespace
}  // namespace kam::alerts
