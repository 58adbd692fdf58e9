// The KPI figures by example: a small book whose every figure is worked out by hand in the
// comments, each against its benchmark; what is measured and what is estimated; CLV.

#include "services/alerts/kpi_report.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kam/v1/interactions.pb.h"

namespace kam::kpis {
namespace {

constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr int64_t kFrom = 1'767'225'600'000;  // 2026-01-01
constexpr int64_t kTo = kFrom + 365 * kDay;   // 2027-01-01 (not a leap year)

Facts Account(const std::string& id, int64_t created, int64_t closed = 0) {
  Facts facts;
  facts.set_account_id(id);
  facts.set_known(true);
  facts.set_create_millis(created);
  facts.set_close_millis(closed);
  return facts;
}

void Revenue(Facts* facts, int64_t at, int64_t euros) {
  auto* point = facts->add_revenue();
  point->set_at_millis(at);
  point->set_amount_minor(euros * 100);
  point->set_currency("EUR");
}

void Deal(Facts* facts, kam::v1::InteractionType type, int64_t at, int64_t euros) {
  auto* deal = facts->add_deals();
  deal->set_type(type);
  deal->set_at_millis(at);
  deal->set_amount_minor(euros * 100);
  deal->set_currency("EUR");
  deal->set_interaction_id("d" + std::to_string(facts->deals_size()));
}

void Request(Facts* facts, int64_t opened, int64_t closed) {
  auto* request = facts->add_requests();
  request->set_interaction_id("r" + std::to_string(facts->requests_size()));
  request->set_open_millis(opened);
  request->set_close_millis(closed);
}

void Nps(Facts* facts, int64_t at, int score) {
  auto* answer = facts->add_answers();
  answer->set_at_millis(at);
  answer->set_nps(score);
  answer->set_csat(-1);
}

TEST(KpiReportTest, RetentionChurnAndRenewalsAgainstTheBenchmark) {
  // Ten accounts open on 1 January; two close during the year, one opens in March.
  std::vector<Facts> book;
  for (int i = 0; i < 10; ++i) book.push_back(Account("a" + std::to_string(i), kFrom - 100 * kDay));
  book[8].set_close_millis(kFrom + 40 * kDay);
  book[9].set_close_millis(kFrom + 200 * kDay);
  book.push_back(Account("new", kFrom + 60 * kDay));
  Deal(&book[0], kam::v1::INTERACTION_TYPE_RENEWAL, kFrom + 10 * kDay, 1000);
  Deal(&book[1], kam::v1::INTERACTION_TYPE_RENEWAL, kFrom + 20 * kDay, 500);
  Deal(&book[2], kam::v1::INTERACTION_TYPE_RENEWAL, kFrom - 20 * kDay, 500);  // before the period
  book[9].add_churn_notice_millis(kFrom + 150 * kDay);
  std::vector<const Facts*> scope;
  for (const auto& facts : book) scope.push_back(&facts);

  kam::v1::KpiReport report = ComputeKpis(scope, kFrom, kTo);
  EXPECT_EQ(report.accounts(), 11);
  // 8 of the 10 open on 1 January are still open: 80 %, below the 85 % benchmark.
  EXPECT_DOUBLE_EQ(report.retention_rate().value(), 0.8);
  EXPECT_EQ(report.retention_rate().sample_size(), 10);
  EXPECT_TRUE(report.retention_rate().has_benchmark());
  EXPECT_FALSE(report.retention_rate().meets_benchmark());
  EXPECT_EQ(report.churned_accounts(), 2);
  EXPECT_EQ(report.churn_notices(), 1);
  // Two renewals, two churned: half the renewal decisions went the company's way.
  EXPECT_EQ(report.renewals(), 2);
  EXPECT_DOUBLE_EQ(report.renewal_rate().value(), 0.5);
  ASSERT_EQ(report.renewal_value().amounts_size(), 1);
  EXPECT_EQ(report.renewal_value().amounts(0).amount_minor(), 150000);
}

TEST(KpiReportTest, RevenueGrowthIsMeasuredFromRecordsAndEstimatedFromDealsOtherwise) {
  Facts measured = Account("m", kFrom - 400 * kDay);
  Revenue(&measured, kFrom - 400 * kDay, 100'000);
  Revenue(&measured, kFrom + 180 * kDay, 120'000);  // updated during the year: +20 %
  Facts estimated = Account("e", kFrom - 400 * kDay);
  Revenue(&estimated, kFrom - 400 * kDay, 200'000);  // never updated...
  Deal(&estimated, kam::v1::INTERACTION_TYPE_UPSELL, kFrom + 30 * kDay, 10'000);      // ...but +5 %
  Deal(&estimated, kam::v1::INTERACTION_TYPE_CROSS_SELL, kFrom + 90 * kDay, 10'000);  // ...+5 %

  kam::v1::KpiReport report = ComputeKpis({&measured, &estimated}, kFrom, kTo);
  // +20 % and +10 %: a mean of 15 %, against 15 % a year over 365 of 365.25 days.
  EXPECT_NEAR(report.revenue_growth().value(), 0.15, 1e-12);
  EXPECT_NEAR(report.revenue_growth().benchmark(), std::pow(1.15, 365 / 365.25) - 1, 1e-12);
  EXPECT_TRUE(report.revenue_growth().meets_benchmark());
  EXPECT_EQ(report.growth_measured_accounts(), 1);
  EXPECT_EQ(report.growth_estimated_accounts(), 1);
  EXPECT_EQ(report.revenue_growth().basis(), "estimated");
  EXPECT_EQ(report.upsells().count(), 1);
  EXPECT_EQ(report.upsells().amounts(0).amount_minor(), 1'000'000);
  EXPECT_EQ(report.cross_sells().count(), 1);
  // Revenue at the end: 120,000 + 200,000 EUR.
  ASSERT_EQ(report.annual_revenue().amounts_size(), 1);
  EXPECT_EQ(report.annual_revenue().amounts(0).amount_minor(), 32'000'000);

  // Half a year holding the +20 %: measured, against about 7.2 % for half a year.
  kam::v1::KpiReport half = ComputeKpis({&measured}, kFrom + 90 * kDay, kFrom + 272 * kDay);
  EXPECT_NEAR(half.revenue_growth().value(), 0.2, 1e-12);
  EXPECT_NEAR(half.revenue_growth().benchmark(), std::pow(1.15, 182 / 365.25) - 1, 1e-12);
  EXPECT_EQ(half.revenue_growth().basis(), "measured");
}

TEST(KpiReportTest, HandlingTimeNpsAndContactsAgainstTheirBenchmarks) {
  Facts facts = Account("a", kFrom - 10 * kDay);
  // Handled in 1, 1, 1, 1, 1, 1, 1, 1, 3 and 5 days: mean 1.6 (meets 2), p90 3 (misses 2).
  for (int i = 0; i < 8; ++i) Request(&facts, kFrom + i * 10 * kDay, kFrom + i * 10 * kDay + kDay);
  Request(&facts, kFrom + 100 * kDay, kFrom + 103 * kDay);
  Request(&facts, kFrom + 110 * kDay, kFrom + 115 * kDay);
  Request(&facts, kFrom + 300 * kDay, 0);               // still open
  Request(&facts, kFrom - 5 * kDay, kFrom - 4 * kDay);  // handled before the period
  // NPS: 9, 10, 8, 3 -> 2 promoters, 1 detractor of 4: +25.
  for (int score : {9, 10, 8, 3}) Nps(&facts, kFrom + score * kDay, score);
  // 24 contacts over the 12 months: 2 per month.
  for (int month = 0; month < 12; ++month)
    (*facts.mutable_contacts_by_day())[static_cast<int32_t>((kFrom + month * 30 * kDay) / kDay)] =
        2;

  kam::v1::KpiReport report = ComputeKpis({&facts}, kFrom, kTo);
  EXPECT_DOUBLE_EQ(report.handling_time_mean_days().value(), 1.6);
  EXPECT_TRUE(report.handling_time_mean_days().meets_benchmark());
  EXPECT_DOUBLE_EQ(report.handling_time_p90_days().value(), 3);
  EXPECT_FALSE(report.handling_time_p90_days().meets_benchmark());
  EXPECT_EQ(report.handling_time_p90_days().sample_size(), 10);
  EXPECT_EQ(report.open_requests(), 1);
  EXPECT_DOUBLE_EQ(report.nps().value(), 25);
  EXPECT_TRUE(report.nps().meets_benchmark());
  EXPECT_NEAR(report.contacts_per_account_month().value(), 24 / (365 / (365.25 / 12)), 1e-9);
  EXPECT_TRUE(report.contacts_per_account_month().meets_benchmark());
}

TEST(KpiReportTest, AnEmptyPeriodKnowsNothingAndMeetsNothing) {
  Facts facts = Account("a", kFrom - 10 * kDay);
  kam::v1::KpiReport report = ComputeKpis({&facts}, kFrom, kTo);
  EXPECT_FALSE(report.nps().known());
  EXPECT_FALSE(report.nps().meets_benchmark());
  EXPECT_FALSE(report.handling_time_mean_days().known());
  EXPECT_FALSE(report.revenue_growth().known()) << "no revenue recorded: no growth";
  EXPECT_TRUE(report.retention_rate().known());
  EXPECT_EQ(report.contacts_per_account_month().value(), 0);
  EXPECT_FALSE(report.contacts_per_account_month().meets_benchmark());
}

TEST(KpiReportTest, ACustomerWhoseHistoryWasImportedCountsFromItsFirstInteraction) {
  // Created in kam yesterday, with a year of recorded meetings: a customer all year.
  Facts facts = Account("a", kTo - kDay);
  facts.set_first_activity_millis(kFrom - 10 * kDay);
  for (int month = 0; month < 12; ++month) {
    (*facts.mutable_contacts_by_day())[static_cast<int32_t>((kFrom + month * 30 * kDay) / kDay)] =
        1;
  }
  kam::v1::KpiReport report = ComputeKpis({&facts}, kFrom, kTo);
  EXPECT_EQ(report.retention_rate().sample_size(), 1);
  EXPECT_DOUBLE_EQ(report.retention_rate().value(), 1);
  EXPECT_NEAR(report.contacts_per_account_month().value(), 12 / (365 / (365.25 / 12)), 1e-9)
      << "a year of contacts over a year, not over the day since its creation";
}

TEST(ClvTest, TheArticlesFormulaWithItsInputsInTheAnswer) {
  Facts facts = Account("a", kFrom - 2 * 365 * kDay);
  Revenue(&facts, kFrom - 2 * 365 * kDay, 100'000);  // a year at 100,000
  Revenue(&facts, kFrom - 365 * kDay, 200'000);      // two years at 200,000 (up to kTo)
  kam::v1::ClvInputs inputs;
  inputs.mutable_acquisition_cost()->set_currency("EUR");
  inputs.mutable_acquisition_cost()->set_amount_minor(5'000'000);
  inputs.mutable_servicing_cost_per_year()->set_currency("EUR");
  inputs.mutable_servicing_cost_per_year()->set_amount_minor(1'000'000);
  // Book retention 80 % a year: expected 1 / (1 - 0.8) = 5 years.
  auto clv = ComputeClv(facts, inputs, 0.8, kTo);
  ASSERT_TRUE(clv.ok()) << clv.status();
  // Average revenue: (1 x 100,000 + 2 x 200,000) / 3 = 166,666.67 EUR a year.
  EXPECT_EQ(clv->average_revenue_per_year().amount_minor(), 16'666'667);
  EXPECT_DOUBLE_EQ(clv->expected_retention_years(), 5);
  // 166,666.67 x 5 - 50,000 - 10,000 x 5 = 733,333.33 EUR.
  EXPECT_EQ(clv->value().amount_minor(), 73'333'333);
  EXPECT_EQ(clv->revenue_observations(), 2);
  EXPECT_NE(clv->retention_source().find("book's retention"), std::string::npos);

  inputs.set_expected_retention_years(2);
  EXPECT_EQ(ComputeClv(facts, inputs, 0.8, kTo)->retention_source(), "given");

  inputs.mutable_acquisition_cost()->set_currency("USD");
  auto refused = ComputeClv(facts, inputs, 0.8, kTo);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("clv_inputs.acquisition_cost.currency"),
            std::string::npos);
}

}  // namespace
}  // namespace kam::kpis
