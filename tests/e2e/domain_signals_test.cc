// The domain's signals end to end on the real broker, through the three services' gRPC APIs: a
// churn notice, a renewal coming up with an unhappy customer and a book that leans on one customer
// each raise their alert; the KPIs kam-alerts serves for the manager equal figures this test works
// out on its own from the same input; a group rolls up its subsidiary and names it in alerts.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "common/time_util.h"
#include "kam/v1/accounts.grpc.pb.h"
#include "kam/v1/alerts.grpc.pb.h"
#include "kam/v1/interactions.grpc.pb.h"
#include "kam/v1/kpis.grpc.pb.h"
#include "tests/testing/grpc_call.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"

namespace kam {
namespace {

using testing::Call;

constexpr int64_t kSecond = 1000;
constexpr int64_t kDay = 24 * 3600 * kSecond;
constexpr double kMonth = 365.25 * kDay / 12;

class DomainSignalsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = testing::RealKafkaBootstrap();
    ASSERT_FALSE(brokers_.empty()) << "run through ctest: needs the real_kafka fixture";
    accounts_ = testing::StartService("kam-accounts", brokers_, dir_.Sub("a"), dir_.Sub("a-log"));
    interactions_ =
        testing::StartService("kam-interactions", brokers_, dir_.Sub("i"), dir_.Sub("i-log"));
    alerts_ = testing::StartService("kam-alerts", brokers_, dir_.Sub("x"), dir_.Sub("x-log"),
                                    {"--idle-seconds", "2"});
    ASSERT_TRUE(accounts_.process) << accounts_.address;
    ASSERT_TRUE(interactions_.process) << interactions_.address;
    ASSERT_TRUE(alerts_.process) << alerts_.address;
    accounts_stub_ = testing::StubFor<kam::v1::AccountsService>(accounts_.address);
    interactions_stub_ = testing::StubFor<kam::v1::InteractionsService>(interactions_.address);
    alerts_stub_ = testing::StubFor<kam::v1::AlertsService>(alerts_.address);
    kpi_stub_ = testing::StubFor<kam::v1::KpiService>(alerts_.address);
  }

  kam::v1::Account CreateAccount(const std::string& name, int64_t euros, const std::string& owner,
                                 const std::string& parent = "", int64_t renewal_millis = 0) {
    kam::v1::CreateAccountRequest request;
    request.set_request_id("domain-" + name);
    auto* account = request.mutable_account();
    account->set_name(name);
    account->set_industry(kam::v1::INDUSTRY_SERVICES);
    account->mutable_annual_revenue()->set_amount_minor(euros * 100);
    account->mutable_annual_revenue()->set_currency("EUR");
    account->set_owner_manager_id(owner);
    account->set_parent_account_id(parent);
    if (renewal_millis > 0) *account->mutable_renewal_time() = TimestampFromMillis(renewal_millis);
    kam::v1::Account created;
    grpc::Status status = Call(accounts_stub_.get(), &kam::v1::AccountsService::Stub::CreateAccount,
                               request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  void Record(const std::string& account, const std::string& id, kam::v1::InteractionType type,
              int64_t at, std::function<void(kam::v1::Interaction*)> fill = nullptr) {
    kam::v1::RecordInteractionRequest request;
    request.set_request_id("domain-" + id);
    auto* interaction = request.mutable_interaction();
    interaction->set_id(id);
    interaction->set_account_id(account);
    interaction->set_type(type);
    *interaction->mutable_occur_time() = TimestampFromMillis(at);
    if (fill) fill(interaction);
    kam::v1::Interaction recorded;
    grpc::Status status;
    // The account may not have reached kam-interactions yet: NOT_FOUND until it has.
    ASSERT_TRUE(testing::WaitFor([&] {
      status = Call(interactions_stub_.get(),
                    &kam::v1::InteractionsService::Stub::RecordInteraction, request, &recorded);
      return status.error_code() != grpc::StatusCode::NOT_FOUND &&
             status.error_code() != grpc::StatusCode::UNAVAILABLE;
    }));
    ASSERT_TRUE(status.ok()) << id << ": " << status.error_message();
  }

  // The alert of `rule` about `account`, newest instance, once one in `state` exists.
  std::optional<kam::v1::Alert> AwaitAlert(kam::v1::AlertRule rule, const std::string& account,
                                           kam::v1::AlertState state) {
    std::optional<kam::v1::Alert> found;
    testing::WaitFor(
        [&] {
          kam::v1::ListAlertsRequest request;
          request.set_rule(rule);
          request.set_account_id(account);
          request.set_state(state);
          kam::v1::ListAlertsResponse response;
          if (!Call(alerts_stub_.get(), &kam::v1::AlertsService::Stub::ListAlerts, request,
                    &response)
                   .ok() ||
              response.alerts_size() == 0) {
            return false;
          }
          found = response.alerts(0);
          return true;
        },
        std::chrono::seconds(60));
    return found;
  }

  static std::string Evidence(const kam::v1::Alert& alert, const std::string& name) {
    for (const auto& item : alert.evidence()) {
      if (item.name() == name) return item.value();
    }
    return "";
  }

  std::string brokers_;
  testing::TempDir dir_;
  testing::RunningService accounts_, interactions_, alerts_;
  std::unique_ptr<kam::v1::AccountsService::Stub> accounts_stub_;
  std::unique_ptr<kam::v1::InteractionsService::Stub> interactions_stub_;
  std::unique_ptr<kam::v1::AlertsService::Stub> alerts_stub_;
  std::unique_ptr<kam::v1::KpiService::Stub> kpi_stub_;
};

TEST_F(DomainSignalsTest, ChurnRenewalAndConcentrationAlertAndKpisMatchAnIndependentCount) {
  kam::v1::CreateManagerRequest manager_request;
  manager_request.set_request_id("domain-manager");
  manager_request.mutable_manager()->set_name("Lea Domain");
  manager_request.mutable_manager()->set_email("lea.domain@example.com");
  manager_request.mutable_manager()->set_capacity(20);
  kam::v1::Manager manager;
  ASSERT_TRUE(Call(accounts_stub_.get(), &kam::v1::AccountsService::Stub::CreateManager,
                   manager_request, &manager)
                  .ok());

  // The book: 1,000,000 EUR, 60 % of it with one customer that is not marked as key account.
  const int64_t renewal = MillisFromTimestamp(NowTimestamp()) + 45 * kDay;
  kam::v1::Account big = CreateAccount("Big Group", 600'000, manager.id());
  kam::v1::Account leaving = CreateAccount("Leaving Subsidiary", 100'000, manager.id(), big.id());
  kam::v1::Account renewing = CreateAccount("Renewing Co", 200'000, manager.id(), "", renewal);
  kam::v1::Account steady = CreateAccount("Steady Co", 100'000, manager.id());
  ASSERT_FALSE(steady.id().empty());

  // The KPI period starts after the four accounts exist: all of them are its starting cohort.
  int64_t t1 = 0;
  for (const auto* account : {&big, &leaving, &renewing, &steady}) {
    t1 = std::max(t1, MillisFromTimestamp(account->create_time()) + 1);
  }
  auto at = [&](int seconds) { return t1 + seconds * kSecond; };
  auto euros = [](int64_t amount) {
    return [amount](kam::v1::Interaction* i) {
      i->mutable_amount()->set_currency("EUR");
      i->mutable_amount()->set_amount_minor(amount * 100);
    };
  };
  auto nps = [](int score) {
    return [score](kam::v1::Interaction* i) { i->mutable_survey()->set_nps(score); };
  };
  auto resolves = [](const std::string& request) {
    return [request](kam::v1::Interaction* i) { i->set_resolves_interaction_id(request); };
  };
  Record(renewing.id(), "dom-r-s1", kam::v1::INTERACTION_TYPE_SURVEY, at(1), nps(3));
  Record(renewing.id(), "dom-r-s2", kam::v1::INTERACTION_TYPE_SURVEY, at(2), nps(2));
  Record(leaving.id(), "dom-l-churn", kam::v1::INTERACTION_TYPE_CHURN_NOTICE, at(3));
  Record(big.id(), "dom-b-up", kam::v1::INTERACTION_TYPE_UPSELL, at(4), euros(50'000));
  Record(big.id(), "dom-b-cross", kam::v1::INTERACTION_TYPE_CROSS_SELL, at(5), euros(20'000));
  Record(big.id(), "dom-b-s1", kam::v1::INTERACTION_TYPE_SURVEY, at(6), nps(10));
  Record(big.id(), "dom-b-s2", kam::v1::INTERACTION_TYPE_SURVEY, at(7), nps(9));
  Record(big.id(), "dom-b-req", kam::v1::INTERACTION_TYPE_SUPPORT_REQUEST, at(8));
  Record(big.id(), "dom-b-compl", kam::v1::INTERACTION_TYPE_COMPLAINT, at(9));
  Record(steady.id(), "dom-s-renew", kam::v1::INTERACTION_TYPE_RENEWAL, at(10), euros(100'000));
  Record(big.id(), "dom-b-done2", kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED, at(11),
         resolves("dom-b-compl"));
  Record(steady.id(), "dom-s-meet", kam::v1::INTERACTION_TYPE_MEETING, at(12));
  Record(big.id(), "dom-b-done1", kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED, at(20),
         resolves("dom-b-req"));

  // The three alerts.
  auto churn =
      AwaitAlert(kam::v1::ALERT_RULE_CHURN_RISK, leaving.id(), kam::v1::ALERT_STATE_FIRING);
  ASSERT_TRUE(churn) << "a churn notice raises CHURN_RISK";
  EXPECT_EQ(churn->severity(), kam::v1::SEVERITY_CRITICAL);
  EXPECT_EQ(churn->parent_account_id(), big.id()) << "the subsidiary's alert names its group";
  EXPECT_EQ(Evidence(*churn, "annual_revenue"), "100000.00 EUR");
  auto risk =
      AwaitAlert(kam::v1::ALERT_RULE_RENEWAL_AT_RISK, renewing.id(), kam::v1::ALERT_STATE_FIRING);
  ASSERT_TRUE(risk) << "a renewal in 45 days with satisfaction low is at risk";
  EXPECT_EQ(Evidence(*risk, "signs"), "satisfaction low or falling");
  auto concentration =
      AwaitAlert(kam::v1::ALERT_RULE_REVENUE_CONCENTRATION, big.id(), kam::v1::ALERT_STATE_FIRING);
  ASSERT_TRUE(concentration) << "60 % of the revenue with one customer";
  EXPECT_EQ(concentration->severity(), kam::v1::SEVERITY_CRITICAL);

  // The customer leaves: the churn alert resolves, saying so.
  kam::v1::CloseAccountRequest close;
  close.set_id(leaving.id());
  kam::v1::Account closed;
  ASSERT_TRUE(
      Call(accounts_stub_.get(), &kam::v1::AccountsService::Stub::CloseAccount, close, &closed)
          .ok());
  auto resolved =
      AwaitAlert(kam::v1::ALERT_RULE_CHURN_RISK, leaving.id(), kam::v1::ALERT_STATE_RESOLVED);
  ASSERT_TRUE(resolved);
  EXPECT_EQ(Evidence(*resolved, "outcome"), "churned");

  // The manager's KPIs over [t1, t1 + 1 h), once kam-alerts has applied every event above.
  const int64_t t2 = t1 + 3600 * kSecond;
  kam::v1::GetKpisRequest request;
  request.set_manager_id(manager.id());
  *request.mutable_start_time() = TimestampFromMillis(t1);
  *request.mutable_end_time() = TimestampFromMillis(t2);
  kam::v1::KpiReport report;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return Call(kpi_stub_.get(), &kam::v1::KpiService::Stub::GetKpis, request, &report).ok() &&
               report.churned_accounts() == 1 && report.nps().sample_size() == 4 &&
               report.handling_time_mean_days().sample_size() == 2 && report.renewals() == 1 &&
               report.upsells().count() == 1 && report.cross_sells().count() == 1 &&
               report.annual_revenue().count() == 3;
      },
      std::chrono::seconds(60)))
      << report.DebugString();

  // The same figures, worked out here from what this test sent.
  EXPECT_EQ(report.accounts(), 4);
  EXPECT_DOUBLE_EQ(report.retention_rate().value(), 3.0 / 4);  // one of four left
  EXPECT_FALSE(report.retention_rate().meets_benchmark());     // below 85 %
  EXPECT_EQ(report.churn_notices(), 1);
  EXPECT_DOUBLE_EQ(report.renewal_rate().value(), 1.0 / 2);  // one renewal, one churn
  ASSERT_EQ(report.upsells().amounts_size(), 1);
  EXPECT_EQ(report.upsells().amounts(0).amount_minor(), 5'000'000);
  EXPECT_EQ(report.cross_sells().amounts(0).amount_minor(), 2'000'000);
  EXPECT_EQ(report.renewal_value().amounts(0).amount_minor(), 10'000'000);
  // NPS 3, 2, 10, 9: two promoters, two detractors.
  EXPECT_DOUBLE_EQ(report.nps().value(), 0);
  EXPECT_FALSE(report.nps().meets_benchmark());
  // Requests handled in 12 s and 2 s.
  EXPECT_NEAR(report.handling_time_mean_days().value(), 7.0 * kSecond / kDay, 1e-12);
  EXPECT_NEAR(report.handling_time_p90_days().value(), 12.0 * kSecond / kDay, 1e-12);
  EXPECT_TRUE(report.handling_time_p90_days().meets_benchmark());
  EXPECT_EQ(report.open_requests(), 0);
  // Growth: nobody's revenue record changed, so it is estimated from the deals: Big Group's
  // 70,000 on 600,000; Renewing Co and Steady Co nothing (a renewal is no growth).
  EXPECT_EQ(report.growth_estimated_accounts(), 3);
  EXPECT_EQ(report.growth_measured_accounts(), 0);
  EXPECT_NEAR(report.revenue_growth().value(), (70'000.0 / 600'000) / 3, 1e-12);
  EXPECT_EQ(report.revenue_growth().basis(), "estimated");
  // Contacts: upsell, cross-sell, two resolutions, renewal, meeting; over three accounts open for
  // the hour and one until it closed.
  const double months =
      (3.0 * (t2 - t1) + static_cast<double>(MillisFromTimestamp(closed.close_time()) - t1)) /
      kMonth;
  EXPECT_NEAR(report.contacts_per_account_month().value(), 6 / months, 1e-9);
  ASSERT_EQ(report.annual_revenue().amounts_size(), 1);
  EXPECT_EQ(report.annual_revenue().amounts(0).amount_minor(), 90'000'000);
  // Its share of the book: other tests' accounts share the input topics, so only bounds here
  // (kpi_book_test.cc has the exact figure).
  EXPECT_GT(report.revenue_share(), 0);
  EXPECT_LE(report.revenue_share(), 1);

  // The group rolls up its subsidiary, and lists it.
  kam::v1::GetKpisRequest group_request = request;
  group_request.set_account_id(big.id());
  kam::v1::KpiReport group;
  ASSERT_TRUE(
      Call(kpi_stub_.get(), &kam::v1::KpiService::Stub::GetKpis, group_request, &group).ok());
  EXPECT_EQ(std::vector<std::string>(group.rolled_up_account_ids().begin(),
                                     group.rolled_up_account_ids().end()),
            (std::vector<std::string>{big.id(), leaving.id()}));
  EXPECT_EQ(group.churned_accounts(), 1);
  ASSERT_TRUE(group.has_clv());
  EXPECT_EQ(group.clv().average_revenue_per_year().amount_minor(), 60'000'000);
  kam::v1::ListAccountsRequest subsidiaries;
  subsidiaries.set_parent_account_id(big.id());
  subsidiaries.set_include_closed(true);
  kam::v1::ListAccountsResponse listed;
  ASSERT_TRUE(Call(accounts_stub_.get(), &kam::v1::AccountsService::Stub::ListAccounts,
                   subsidiaries, &listed)
                  .ok());
  ASSERT_EQ(listed.accounts_size(), 1);
  EXPECT_EQ(listed.accounts(0).id(), leaving.id());

  // Bad KPI requests are refused with the field named.
  kam::v1::GetKpisRequest nothing;
  grpc::Status refused =
      Call(kpi_stub_.get(), &kam::v1::KpiService::Stub::GetKpis, nothing, &report);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.error_message().find("scope"), std::string::npos);
  nothing.set_account_id("acc_nobody");
  EXPECT_EQ(
      Call(kpi_stub_.get(), &kam::v1::KpiService::Stub::GetKpis, nothing, &report).error_code(),
      grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace kam
