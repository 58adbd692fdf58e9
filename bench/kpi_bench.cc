// kam-bench-kpis: what a GetKpis call costs on a large book. Fills a KpiBook (every kam-alerts
// instance's KPI facts of all accounts) with a year of realistic facts per account, then times
// GetKpis for the whole book, for managers and for accounts, against a ceiling measured in the
// same run: one pass that only reads every fact the book call reads (no figures computed).
// Prints figures; asserts nothing (docs/benchmarks.md).

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "kam/v1/interactions.pb.h"
#include "services/alerts/alert_store.h"
#include "services/alerts/kpi_book.h"

namespace {

using Facts = kam::internal::v1::AccountKpiState;
using Clock = std::chrono::steady_clock;
constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr int64_t kNow = 1'790'000'000'000;

Facts MakeFacts(int i, int managers, std::mt19937_64& rng) {
  Facts facts;
  facts.set_account_id(absl::StrCat("acc_", i));
  facts.set_name(absl::StrCat("Account ", i));
  facts.set_known(true);
  facts.set_owner_manager_id(absl::StrCat("mgr_", i % managers));
  if (i % 10 == 1) facts.set_parent_account_id(absl::StrCat("acc_", i - 1));
  facts.set_create_millis(kNow - 800 * kDay);
  if (i % 20 == 0) facts.set_close_millis(kNow - static_cast<int64_t>(rng() % 300) * kDay);
  facts.set_revenue_share(1e-5);
  auto at = [&](int days) { return kNow - static_cast<int64_t>(rng() % days) * kDay; };
  for (int p = 0; p < 2; ++p) {
    auto* point = facts.add_revenue();
    point->set_at_millis(kNow - (700 - p * 300) * kDay);
    point->set_amount_minor(10'000'000 + static_cast<int64_t>(rng() % 5'000'000));
    point->set_currency("EUR");
  }
  for (int d = 0; d < 6; ++d) {
    auto* deal = facts.add_deals();
    deal->set_at_millis(at(365));
    deal->set_type(kam::v1::INTERACTION_TYPE_UPSELL + d % 3);
    deal->set_amount_minor(1'000'000);
    deal->set_currency("EUR");
  }
  for (int a = 0; a < 8; ++a) {
    auto* answer = facts.add_answers();
    answer->set_at_millis(at(365));
    answer->set_nps(static_cast<int>(rng() % 11));
    answer->set_csat(-1);
  }
  for (int r = 0; r < 10; ++r) {
    auto* request = facts.add_requests();
    request->set_open_millis(at(365));
    request->set_close_millis(request->open_millis() + static_cast<int64_t>(rng() % 4) * kDay);
  }
  for (int c = 0; c < 60; ++c)
    (*facts.mutable_contacts_by_day())[static_cast<int32_t>(at(365) / kDay)] += 1;
  return facts;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  int accounts = 100000;
  int managers = 2000;
  CLI::App app{"kam-bench-kpis: GetKpis on a large book"};
  app.add_option("--accounts", accounts)->capture_default_str();
  app.add_option("--managers", managers)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  kam::kpis::KpiBook book([] { return kNow; });
  std::vector<Facts> all;
  std::mt19937_64 rng(7);
  size_t bytes = 0;
  for (int i = 0; i < accounts; ++i) {
    Facts facts = MakeFacts(i, managers, rng);
    bytes += facts.ByteSizeLong();
    book.Apply(i % 12,
               std::string(kam::alerts::kKpisCf) + std::string(1, '\0') +
                   kam::alerts::PartKey(i % 12, facts.account_id()),
               facts.SerializeAsString());
    all.push_back(std::move(facts));
  }
  std::printf("book: %d accounts, %d managers, %.1f MB of facts (serialized)\n", accounts, managers,
              bytes / 1e6);

  // Ceiling: read every fact a book call reads, computing nothing.
  int64_t checksum = 0;
  auto start = Clock::now();
  for (const auto& facts : all) {
    for (const auto& deal : facts.deals()) checksum += deal.at_millis();
    for (const auto& answer : facts.answers()) checksum += answer.nps();
    for (const auto& request : facts.requests()) checksum += request.close_millis();
    for (const auto& [day, count] : facts.contacts_by_day()) checksum += count;
    for (const auto& point : facts.revenue()) checksum += point.amount_minor();
  }
  const double ceiling = Seconds(Clock::now() - start);

  kam::v1::GetKpisRequest request;
  request.set_book(true);
  std::vector<double> book_times;
  kam::v1::KpiReport report;
  for (int run = 0; run < 5; ++run) {
    start = Clock::now();
    report = *book.Get(request);
    book_times.push_back(Seconds(Clock::now() - start));
  }
  std::sort(book_times.begin(), book_times.end());
  const double book_median = book_times[book_times.size() / 2];

  auto time_calls = [&](const std::function<void(int, kam::v1::GetKpisRequest*)>& scope,
                        int calls) {
    std::vector<double> times;
    for (int i = 0; i < calls; ++i) {
      kam::v1::GetKpisRequest one;
      scope(i, &one);
      start = Clock::now();
      auto answer = book.Get(one);
      times.push_back(Seconds(Clock::now() - start));
      if (!answer.ok()) std::fprintf(stderr, "%s\n", answer.status().ToString().c_str());
    }
    std::sort(times.begin(), times.end());
    return std::make_pair(times[times.size() / 2], times[times.size() * 99 / 100]);
  };
  auto [manager_p50, manager_p99] = time_calls(
      [&](int i, kam::v1::GetKpisRequest* r) {
        r->set_manager_id(absl::StrCat("mgr_", i % managers));
      },
      1000);
  auto [account_p50, account_p99] = time_calls(
      [&](int i, kam::v1::GetKpisRequest* r) {
        r->set_account_id(absl::StrCat("acc_", (i * 10) % accounts));  // groups with a subsidiary
      },
      1000);

  std::printf("ceiling (read every fact once): %.1f ms (checksum %lld)\n", ceiling * 1e3,
              static_cast<long long>(checksum % 1000));
  std::printf(
      "GetKpis book:    median %.1f ms over 5 calls (%.2f x the ceiling); NPS %.1f from %d "
      "answers\n",
      book_median * 1e3, book_median / ceiling, report.nps().value(), report.nps().sample_size());
  std::printf("GetKpis manager (%d accounts): p50 %.3f ms, p99 %.3f ms over 1000 calls\n",
              accounts / managers, manager_p50 * 1e3, manager_p99 * 1e3);
  std::printf(
      "GetKpis account (group of 2, with CLV over the book's retention): p50 %.3f ms, p99 %.3f "
      "ms\n",
      account_p50 * 1e3, account_p99 * 1e3);
  return 0;
}
