// What every kam-alerts instance answers GetKpis from: the tasks' KPI facts as the changelog
// brings them, scoped to an account and its group, a manager's portfolio, or the book.

#include "services/alerts/kpi_book.h"

#include <gtest/gtest.h>

#include "common/time_util.h"
#include "services/alerts/alert_store.h"

namespace kam::kpis {
namespace {

using Facts = kam::internal::v1::AccountKpiState;

constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr int64_t kNow = 1'790'000'000'000;

class KpiBookTest : public ::testing::Test {
 protected:
  // The changelog record a task writes for `facts`.
  void Put(const Facts& facts, int32_t task = 0) {
    book_.Apply(task, Key(facts.account_id(), task), facts.SerializeAsString());
  }
  static std::string Key(const std::string& id, int32_t task) {
    return std::string(alerts::kKpisCf) + std::string(1, '\0') + alerts::PartKey(task, id);
  }
  static Facts Account(const std::string& id, const std::string& owner,
                       const std::string& parent = "") {
    Facts facts;
    facts.set_account_id(id);
    facts.set_known(true);
    facts.set_owner_manager_id(owner);
    facts.set_parent_account_id(parent);
    facts.set_create_millis(kNow - 500 * kDay);
    auto* answer = facts.add_answers();
    answer->set_at_millis(kNow - 10 * kDay);
    answer->set_nps(10);
    answer->set_csat(-1);
    return facts;
  }
  absl::StatusOr<kam::v1::KpiReport> ForAccount(const std::string& id, bool alone = false) {
    kam::v1::GetKpisRequest request;
    request.set_account_id(id);
    request.set_exclude_subsidiaries(alone);
    return book_.Get(request);
  }
  KpiBook book_{[] { return kNow; }};
};

TEST_F(KpiBookTest, AGroupRollsUpItsSubsidiariesAtEveryLevel) {
  Put(Account("grp", "m1"));
  Put(Account("sub_jp", "m2", "grp"), 1);
  Put(Account("plant_br", "m2", "sub_jp"), 2);
  Put(Account("other", "m1"));
  auto report = ForAccount("grp");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(std::vector<std::string>(report->rolled_up_account_ids().begin(),
                                     report->rolled_up_account_ids().end()),
            (std::vector<std::string>{"grp", "sub_jp", "plant_br"}));
  EXPECT_EQ(report->accounts(), 3);
  EXPECT_EQ(report->nps().sample_size(), 3) << "the subsidiaries' answers count for the group";
  EXPECT_EQ(report->scope(), "account/grp");
  EXPECT_EQ(MillisFromTimestamp(report->end_time()), kNow);
  EXPECT_EQ(MillisFromTimestamp(report->start_time()), kNow - 365 * kDay);
  EXPECT_EQ(ForAccount("grp", /*alone=*/true)->accounts(), 1);

  // The Brazilian plant moves to the top level: the group loses it.
  Put(Account("plant_br", "m2"), 2);
  EXPECT_EQ(ForAccount("grp")->accounts(), 2);
}

TEST_F(KpiBookTest, AManagersPortfolioAndTheWholeBook) {
  Put(Account("a", "m1"));
  Put(Account("b", "m1"), 1);
  Put(Account("c", "m2"), 2);
  kam::v1::GetKpisRequest request;
  request.set_manager_id("m1");
  EXPECT_EQ(book_.Get(request)->accounts(), 2);
  EXPECT_EQ(book_.Get(request)->scope(), "manager/m1");
  // Reassigned: it follows its new owner.
  Put(Account("b", "m2"), 1);
  EXPECT_EQ(book_.Get(request)->accounts(), 1);
  request.set_book(true);
  EXPECT_EQ(book_.Get(request)->accounts(), 3);
  // A deleted record (the task's state was dropped) leaves the book.
  book_.Apply(2, Key("c", 2), std::nullopt);
  EXPECT_EQ(book_.Get(request)->accounts(), 2);
  EXPECT_EQ(book_.accounts(), 2u);
}

TEST_F(KpiBookTest, CustomerLifetimeValueUsesTheWholeBooksRetention) {
  for (const std::string id : {"a", "b", "c", "d"}) {
    Facts facts = Account(id, "m1");
    auto* revenue = facts.add_revenue();
    revenue->set_at_millis(kNow - 500 * kDay);
    revenue->set_amount_minor(100'000'00);
    revenue->set_currency("EUR");
    if (id == "d") facts.set_close_millis(kNow - 100 * kDay);
    Put(facts);
  }
  // Three of four stayed over the year: about 75 % a year, so 1 / (1 - 0.75) = 4 years.
  auto report = ForAccount("a");
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_TRUE(report->has_clv());
  EXPECT_NEAR(report->clv().expected_retention_years(), 4, 0.01);
  EXPECT_NEAR(static_cast<double>(report->clv().value().amount_minor()), 4 * 100'000'00,
              0.01 * 100'000'00);
  EXPECT_NE(report->clv().retention_source().find("75"), std::string::npos)
      << report->clv().retention_source();

  // The closed account leaves the book: everyone stayed, the expectation is capped at 20 years.
  book_.Apply(0, Key("d", 0), std::nullopt);
  EXPECT_DOUBLE_EQ(ForAccount("a")->clv().expected_retention_years(), 20);
  // One of the remaining three closes after all: 2 of 3.
  Facts closed = Account("b", "m1");
  closed.set_close_millis(kNow - kDay);
  Put(closed);
  EXPECT_NEAR(ForAccount("a")->clv().expected_retention_years(), 3, 0.01);
}

TEST_F(KpiBookTest, AScopesShareOfTheBooksRevenueNow) {
  auto with_revenue = [](Facts facts, int64_t euros) {
    auto* point = facts.add_revenue();
    point->set_at_millis(kNow - 400 * kDay);
    point->set_amount_minor(euros * 100);
    point->set_currency("EUR");
    facts.set_revenue_share(0.01);  // what kam-accounts last published: stale for small accounts
    return facts;
  };
  Put(with_revenue(Account("a", "m1"), 600));
  Put(with_revenue(Account("b", "m1"), 200), 1);
  Put(with_revenue(Account("c", "m2"), 200), 2);
  kam::v1::GetKpisRequest request;
  request.set_manager_id("m1");
  EXPECT_DOUBLE_EQ(book_.Get(request)->revenue_share(), 0.8);
  // c closes: m1 holds the whole book.
  Facts closed = with_revenue(Account("c", "m2"), 200);
  closed.set_close_millis(kNow - kDay);
  Put(closed, 2);
  EXPECT_DOUBLE_EQ(book_.Get(request)->revenue_share(), 1.0);
  // b's revenue is recorded in another currency: the book is no longer in one currency, and the
  // published shares stand.
  Facts dollars = with_revenue(Account("b", "m1"), 200);
  dollars.mutable_revenue(0)->set_currency("USD");
  Put(dollars, 1);
  EXPECT_DOUBLE_EQ(book_.Get(request)->revenue_share(), 0.02);
}

TEST_F(KpiBookTest, BadRequestsAreRefusedNamingTheField) {
  Put(Account("a", "m1"));
  kam::v1::GetKpisRequest request;
  auto missing = book_.Get(request);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("scope"), std::string::npos);

  request.set_book(false);
  EXPECT_EQ(book_.Get(request).status().code(), absl::StatusCode::kInvalidArgument);

  request.set_account_id("nobody");
  auto unknown = book_.Get(request);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("account_id"), std::string::npos);

  request.set_manager_id("nobody");
  EXPECT_EQ(book_.Get(request).status().code(), absl::StatusCode::kNotFound);

  request.set_book(true);
  *request.mutable_start_time() = TimestampFromMillis(kNow);
  *request.mutable_end_time() = TimestampFromMillis(kNow - kDay);
  auto backwards = book_.Get(request);
  EXPECT_EQ(backwards.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(backwards.status().message().find("end_time"), std::string::npos);

  *request.mutable_start_time() = TimestampFromMillis(kNow - 11 * 365 * kDay);
  *request.mutable_end_time() = TimestampFromMillis(kNow);
  EXPECT_EQ(book_.Get(request).status().code(), absl::StatusCode::kInvalidArgument);

  // Records of other column families and garbage are ignored.
  book_.Apply(0, "alerts" + std::string(1, '\0') + alerts::PartKey(0, "x"), "garbage");
  book_.Apply(0, Key("a", 0), std::string("\xff\xff", 2));
  EXPECT_EQ(book_.accounts(), 1u);
}

}  // namespace
}  // namespace kam::kpis
