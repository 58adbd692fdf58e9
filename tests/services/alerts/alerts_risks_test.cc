// The business-risk rules inside the engine: a churn notice, a renewal coming up in bad shape and
// a concentrated book each raise their alert from the event streams, move with time, name the
// account's group, feed the portfolio view, and resolve saying how.

#include <gtest/gtest.h>

#include "tests/services/alerts/engine_fixture.h"

namespace kam::alerts {
namespace {

using AlertsRisksTest = AlertsEngineFixture;

kam::v1::Account Customer(const std::string& id) {
  kam::v1::Account account;
  account.set_id(id);
  account.set_name("Name of " + id);
  account.set_owner_manager_id("mgr_1");
  account.set_tier(kam::v1::TIER_B);
  account.set_industry(kam::v1::INDUSTRY_SERVICES);
  account.set_lifecycle_phase(kam::v1::LIFECYCLE_PHASE_ESTABLISHED);
  account.mutable_annual_revenue()->set_amount_minor(50'000'000);
  account.mutable_annual_revenue()->set_currency("EUR");
  account.set_revenue_share(0.05);
  return account;
}

TEST_F(AlertsRisksTest, AChurnNoticeFiresAtOnceNamesTheGroupAndARenewalResolvesIt) {
  AccountEvent(Customer("grp"), kStart);
  kam::v1::Account subsidiary = Customer("sub");
  subsidiary.set_parent_account_id("grp");
  AccountEvent(subsidiary, kStart);
  Interaction("sub", "churn_1", kam::v1::INTERACTION_TYPE_CHURN_NOTICE, kStart + kDay);

  auto churn = Firing(kam::v1::ALERT_RULE_CHURN_RISK, "sub");
  ASSERT_TRUE(churn) << "a churn notice fires at once";
  EXPECT_EQ(churn->severity(), kam::v1::SEVERITY_CRITICAL);
  EXPECT_EQ(churn->parent_account_id(), "grp") << "an alert on a subsidiary names its group";
  EXPECT_EQ(Evidence(*churn, "annual_revenue"), "500000.00 EUR");
  bool published = false;
  for (const auto& event : CloudEvents()) {
    if (event["data"]["rule"] == "ALERT_RULE_CHURN_RISK" &&
        event["type"] == "dev.kam.alert.fired") {
      published = event["data"]["parent_account_id"] == "grp";
    }
  }
  EXPECT_TRUE(published) << "the CloudEvent carries the group";

  Interaction("sub", "renewal_1", kam::v1::INTERACTION_TYPE_RENEWAL, kStart + 20 * kDay);
  EXPECT_FALSE(Firing(kam::v1::ALERT_RULE_CHURN_RISK, "sub"));
  auto resolved = Alerts(kam::v1::ALERT_STATE_RESOLVED);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(Evidence(resolved[0], "outcome"), "renewed");
}

TEST_F(AlertsRisksTest, ClosingAnAccountWithAChurnNoticeResolvesItAsChurned) {
  AccountEvent(Customer("acc"), kStart);
  Interaction("acc", "churn_1", kam::v1::INTERACTION_TYPE_CHURN_NOTICE, kStart + kDay);
  ASSERT_TRUE(Firing(kam::v1::ALERT_RULE_CHURN_RISK, "acc"));
  kam::v1::Account closed = Customer("acc");
  closed.set_lifecycle_phase(kam::v1::LIFECYCLE_PHASE_CHURNED);
  AccountEvent(closed, kStart + 2 * kDay);
  auto resolved = Alerts(kam::v1::ALERT_STATE_RESOLVED);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].rule(), kam::v1::ALERT_RULE_CHURN_RISK);
  EXPECT_EQ(Evidence(resolved[0], "outcome"), "churned");
}

TEST_F(AlertsRisksTest, ChurnNoticesAcrossAPortfolioAreAStrainSymptom) {
  Load("mgr_1", 3.0, 8.0, /*accounts=*/5);
  for (int a = 0; a < 5; ++a) AccountEvent(Customer("acc_" + std::to_string(a)), kStart);
  PumpPortfolio();
  Interaction("acc_0", "churn_0", kam::v1::INTERACTION_TYPE_CHURN_NOTICE, kStart + kDay);
  PumpPortfolio();
  EXPECT_FALSE(Firing(kam::v1::ALERT_RULE_PORTFOLIO_STRAIN, "mgr_1"));
  Interaction("acc_1", "churn_1", kam::v1::INTERACTION_TYPE_CHURN_NOTICE, kStart + 2 * kDay);
  PumpPortfolio();
  auto strain = Firing(kam::v1::ALERT_RULE_PORTFOLIO_STRAIN, "mgr_1");
  ASSERT_TRUE(strain) << "two of five accounts announced churn";
  EXPECT_EQ(Evidence(*strain, "portfolio_strained_accounts"), "2 of 5");
  EXPECT_NE(Evidence(*strain, "portfolio_churn_risk").find("Name of acc_1 (since "),
            std::string::npos)
      << Evidence(*strain, "portfolio_churn_risk");
  EXPECT_NE(strain->summary().find("churn notices from 2"), std::string::npos) << strain->summary();
}

TEST_F(AlertsRisksTest, ARenewalAtRiskFiresWhenItsWindowOpensAndEscalatesAsTheDateComes) {
  kam::v1::Account account = Customer("acc");
  const int64_t renewal = kStart + 100 * kDay;
  *account.mutable_renewal_time() = TimestampFromMillis(renewal);
  AccountEvent(account, kStart);
  // Two detractor answers: satisfaction is low.
  Interaction("acc", "s1", kam::v1::INTERACTION_TYPE_SURVEY, kStart, 2);
  Interaction("acc", "s2", kam::v1::INTERACTION_TYPE_SURVEY, kStart + kDay, 2);
  ASSERT_TRUE(Firing(kam::v1::ALERT_RULE_SATISFACTION_LOW, "acc"));
  EXPECT_FALSE(Firing(kam::v1::ALERT_RULE_RENEWAL_AT_RISK, "acc")) << "100 days to go";

  // Time moves with the activity stream; the window opens 90 days before the renewal.
  Interaction("acc", "m1", kam::v1::INTERACTION_TYPE_MEETING, kStart + 15 * kDay);
  auto risk = Firing(kam::v1::ALERT_RULE_RENEWAL_AT_RISK, "acc");
  ASSERT_TRUE(risk);
  EXPECT_EQ(risk->severity(), kam::v1::SEVERITY_INFO);
  EXPECT_EQ(MillisFromTimestamp(risk->start_time()), renewal - 90 * kDay)
      << "fired as of the moment the window opened, not when the next record came";
  Interaction("acc", "m2", kam::v1::INTERACTION_TYPE_MEETING, kStart + 45 * kDay);
  EXPECT_EQ(Firing(kam::v1::ALERT_RULE_RENEWAL_AT_RISK, "acc")->severity(),
            kam::v1::SEVERITY_WARNING);
  Interaction("acc", "m3", kam::v1::INTERACTION_TYPE_MEETING, kStart + 75 * kDay);
  EXPECT_EQ(Firing(kam::v1::ALERT_RULE_RENEWAL_AT_RISK, "acc")->severity(),
            kam::v1::SEVERITY_CRITICAL);
  // Signed: the renewal answers the risk.
  Interaction("acc", "r1", kam::v1::INTERACTION_TYPE_RENEWAL, kStart + 80 * kDay);
  EXPECT_FALSE(Firing(kam::v1::ALERT_RULE_RENEWAL_AT_RISK, "acc"));
}

TEST_F(AlertsRisksTest, ALateRecordDoesNotTurnTimeBackForTheRenewalRisk) {
  kam::v1::Account account = Customer("acc");
  *account.mutable_renewal_time() = TimestampFromMillis(kStart + 100 * kDay);
  AccountEvent(account, kStart);
  Interaction("acc", "s1", kam::v1::INTERACTION_TYPE_SURVEY, kStart, 2);
  Interaction("acc", "s2", kam::v1::INTERACTION_TYPE_SURVEY, kStart + kDay, 2);
  Interaction("acc", "m1", kam::v1::INTERACTION_TYPE_MEETING, kStart + 50 * kDay);
  ASSERT_EQ(Firing(kam::v1::ALERT_RULE_RENEWAL_AT_RISK, "acc")->severity(),
            kam::v1::SEVERITY_WARNING);
  // A call from day 5 arrives late (a CRM backfill): 95 days before the renewal as of its own
  // time, but the renewal is 50 days away now.
  Interaction("acc", "late", kam::v1::INTERACTION_TYPE_CALL, kStart + 5 * kDay);
  auto risk = Firing(kam::v1::ALERT_RULE_RENEWAL_AT_RISK, "acc");
  ASSERT_TRUE(risk) << "still at risk";
  EXPECT_EQ(risk->severity(), kam::v1::SEVERITY_WARNING);
  for (const auto& alert : Alerts(kam::v1::ALERT_STATE_RESOLVED)) {
    EXPECT_NE(alert.rule(), kam::v1::ALERT_RULE_RENEWAL_AT_RISK) << "resolved by a late record";
  }
  Interaction("acc", "m2", kam::v1::INTERACTION_TYPE_MEETING, kStart + 51 * kDay);
  EXPECT_EQ(Firing(kam::v1::ALERT_RULE_RENEWAL_AT_RISK, "acc")->id(), risk->id())
      << "one instance, never fired twice";
}

TEST_F(AlertsRisksTest, AConcentrationRaisedOnAQuietPartitionCarriesTheEventsTime) {
  kam::v1::Account account = Customer("acc");
  account.set_revenue_share(0.6);
  AccountEvent(account, kStart);
  auto concentration = Firing(kam::v1::ALERT_RULE_REVENUE_CONCENTRATION, "acc");
  ASSERT_TRUE(concentration);
  EXPECT_EQ(MillisFromTimestamp(concentration->start_time()), kStart)
      << "not 1970: no interaction has moved this partition's clock yet";
}

TEST_F(AlertsRisksTest, ARequestResolvedBeforeItArrivesNeverFallsOverdue) {
  AccountEvent(Customer("acc"), kStart);
  // The ticketing system syncs the resolution first, the request an hour later (event time: the
  // request was opened a day before it was resolved, well within the 2-day benchmark).
  Interaction("acc", "done", kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED, kStart + kDay, -1,
              "ticket");
  Interaction("acc", "ticket", kam::v1::INTERACTION_TYPE_SUPPORT_REQUEST, kStart);
  // Days pass.
  Interaction("acc", "m1", kam::v1::INTERACTION_TYPE_MEETING, kStart + 10 * kDay);
  for (const auto& alert : Alerts()) {
    EXPECT_NE(alert.rule(), kam::v1::ALERT_RULE_RESPONSE_OVERDUE) << alert.summary();
  }
  // A request resolved in its usual order still falls overdue when left open.
  Interaction("acc", "open", kam::v1::INTERACTION_TYPE_SUPPORT_REQUEST, kStart + 11 * kDay);
  Interaction("acc", "m2", kam::v1::INTERACTION_TYPE_MEETING, kStart + 14 * kDay);
  EXPECT_TRUE(Firing(kam::v1::ALERT_RULE_RESPONSE_OVERDUE, "acc"));
}

TEST_F(AlertsRisksTest, RevenueConcentrationFollowsTheSharesTheAccountsServicePublishes) {
  kam::v1::Account account = Customer("acc");
  account.set_revenue_share(0.31);
  AccountEvent(account, kStart);
  auto concentration = Firing(kam::v1::ALERT_RULE_REVENUE_CONCENTRATION, "acc");
  ASSERT_TRUE(concentration);
  EXPECT_EQ(concentration->severity(), kam::v1::SEVERITY_WARNING);
  EXPECT_EQ(Evidence(*concentration, "suggestion"), "mark as key account");

  account.set_revenue_share(0.56);
  AccountEvent(account, kStart + kDay);
  EXPECT_EQ(Firing(kam::v1::ALERT_RULE_REVENUE_CONCENTRATION, "acc")->severity(),
            kam::v1::SEVERITY_CRITICAL);

  account.set_key_account(true);
  account.set_revenue_share(0.2);
  AccountEvent(account, kStart + 2 * kDay);
  EXPECT_FALSE(Firing(kam::v1::ALERT_RULE_REVENUE_CONCENTRATION, "acc"));
}

}  // namespace
}  // namespace kam::alerts
