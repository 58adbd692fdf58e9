// kamctl kpis: the KPIs of every manager (and the whole book), one manager, or one account, beside
// the articles' benchmarks. A figure that misses its benchmark is marked with "!"; one the period
// gave nothing to measure shows "-".

#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/time_util.h"
#include "tools/kamctl/commands.h"

namespace kam::ctl {
namespace {

// "80.0% !" -- the figure, scaled and with its unit, marked when it misses its benchmark.
std::string Cell(const kam::v1::Kpi& kpi, double scale, int digits, const char* unit) {
  if (!kpi.known()) return "-";
  std::string cell = absl::StrCat(Fixed(kpi.value() * scale, digits), unit);
  if (kpi.has_benchmark() && !kpi.meets_benchmark()) cell += " !";
  return cell;
}

std::string Totals(const kam::v1::MoneyTotals& totals) {
  if (totals.count() == 0) return "0";
  std::vector<std::string> amounts;
  for (const auto& money : totals.amounts()) amounts.push_back(FormatMoney(money));
  return absl::StrCat(totals.count(), " (", absl::StrJoin(amounts, ", "), ")");
}

std::optional<google::protobuf::Timestamp> ParseDay(const std::string& text, const char* flag) {
  absl::Time when;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &when, &error) ||
      absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &when, &error)) {
    return TimestampFromMillis(absl::ToUnixMillis(when));
  }
  std::fprintf(stderr, "kamctl: %s: expected YYYY-MM-DD or RFC 3339: %s\n", flag, error.c_str());
  return std::nullopt;
}

const std::vector<std::string> kHeader = {"SCOPE",       "ACCOUNTS",       "RETENTION >=85%",
                                          "CHURNED",     "RENEWAL RATE",   "UPSELLS",
                                          "CROSS-SELLS", "GROWTH >=15%/y", "HANDLING <=2d",
                                          "P90 <=2d",    "NPS >0",         "CONTACTS/MONTH >=1"};

std::vector<std::string> Row(const std::string& scope, const kam::v1::KpiReport& r) {
  return {scope,
          absl::StrCat(r.accounts()),
          Cell(r.retention_rate(), 100, 1, "%"),
          absl::StrCat(r.churned_accounts()),
          Cell(r.renewal_rate(), 100, 1, "%"),
          absl::StrCat(r.upsells().count()),
          absl::StrCat(r.cross_sells().count()),
          Cell(r.revenue_growth(), 100, 1,
               r.revenue_growth().basis() == "estimated" ? "% (est.)" : "%"),
          Cell(r.handling_time_mean_days(), 1, 1, "d"),
          Cell(r.handling_time_p90_days(), 1, 1, "d"),
          Cell(r.nps(), 1, 0, ""),
          Cell(r.contacts_per_account_month(), 1, 1, "")};
}

// One report as a list of figures, for an account or a single manager.
void PrintReport(const kam::v1::KpiReport& r) {
  std::vector<std::vector<std::string>> rows = {
      {"accounts", absl::StrCat(r.accounts()), ""},
      {"retention rate", Cell(r.retention_rate(), 100, 1, "%"), "at least 85%"},
      {"churned accounts", absl::StrCat(r.churned_accounts()), ""},
      {"churn notices", absl::StrCat(r.churn_notices()), ""},
      {"renewal rate", Cell(r.renewal_rate(), 100, 1, "%"), ""},
      {"renewals", Totals(r.renewal_value()), ""},
      {"upsells", Totals(r.upsells()), ""},
      {"cross-sells", Totals(r.cross_sells()), ""},
      {"revenue growth per customer",
       absl::StrCat(Cell(r.revenue_growth(), 100, 1, "%"), " (", r.growth_measured_accounts(),
                    " measured, ", r.growth_estimated_accounts(), " estimated)"),
       absl::StrCat("at least ", Fixed(r.revenue_growth().benchmark() * 100, 1),
                    "% (15% a year over the period)")},
      {"handling time, mean", Cell(r.handling_time_mean_days(), 1, 2, " days"), "at most 2 days"},
      {"handling time, p90", Cell(r.handling_time_p90_days(), 1, 2, " days"), "at most 2 days"},
      {"open requests", absl::StrCat(r.open_requests()), ""},
      {"NPS", absl::StrCat(Cell(r.nps(), 1, 0, ""), " (", r.nps().sample_size(), " answers)"),
       "above 0"},
      {"CSAT", Cell(r.csat(), 1, 2, " of 5"), ""},
      {"contacts per account and month", Cell(r.contacts_per_account_month(), 1, 2, ""),
       "at least 1"},
      {"annual revenue", Totals(r.annual_revenue()), ""},
      {"share of all revenue", absl::StrCat(Fixed(r.revenue_share() * 100, 1), "%"), ""}};
  if (r.has_clv()) {
    const auto& clv = r.clv();
    rows.push_back(
        {"customer lifetime value", FormatMoney(clv.value()),
         absl::StrCat(FormatMoney(clv.average_revenue_per_year()), " a year x ",
                      Fixed(clv.expected_retention_years(), 1), " years (", clv.retention_source(),
                      ") - ", FormatMoney(clv.acquisition_cost()), " - ",
                      FormatMoney(clv.servicing_cost_per_year()), " a year")});
  }
  std::cout << r.scope() << "  " << FormatTime(r.start_time()) << " .. "
            << FormatTime(r.end_time());
  if (r.rolled_up_account_ids_size() > 1) {
    std::cout << "  (rolled up: " << absl::StrJoin(r.rolled_up_account_ids(), ", ") << ")";
  }
  std::cout << "\n";
  PrintTable({"FIGURE", "VALUE", "BENCHMARK"}, rows);
}

}  // namespace

int ShowKpis(Client& client, const KpiArgs& args) {
  kam::v1::GetKpisRequest base;
  if (!args.from.empty()) {
    auto from = ParseDay(args.from, "--from");
    if (!from) return kUsage;
    *base.mutable_start_time() = *from;
  }
  if (!args.to.empty()) {
    auto to = ParseDay(args.to, "--to");
    if (!to) return kUsage;
    *base.mutable_end_time() = *to;
  }
  auto get = [&](kam::v1::GetKpisRequest request, kam::v1::KpiReport* report) {
    return client.Retry(true, [&](grpc::ClientContext* context) {
      return client.kpis().GetKpis(context, request, report);
    });
  };
  if (!args.account.empty() || !args.manager.empty()) {
    kam::v1::GetKpisRequest request = base;
    if (!args.account.empty()) {
      request.set_account_id(args.account);
      request.set_exclude_subsidiaries(args.alone);
    } else {
      request.set_manager_id(args.manager);
    }
    kam::v1::KpiReport report;
    grpc::Status status = get(request, &report);
    if (!status.ok()) return Fail(status, "kpis");
    if (client.options().json) {
      std::cout << ToJson(report) << "\n";
    } else {
      PrintReport(report);
    }
    return kOk;
  }

  std::vector<std::vector<std::string>> rows;
  if (!args.book_only) {
    kam::v1::ListManagersRequest list;
    list.set_page_size(1000);
    while (true) {
      kam::v1::ListManagersResponse managers;
      grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
        return client.accounts().ListManagers(context, list, &managers);
      });
      if (!status.ok()) return Fail(status, "list managers");
      for (const auto& manager : managers.managers()) {
        kam::v1::GetKpisRequest request = base;
        request.set_manager_id(manager.id());
        kam::v1::KpiReport report;
        status = get(request, &report);
        if (status.error_code() == grpc::StatusCode::NOT_FOUND) continue;  // owns no account
        if (!status.ok()) return Fail(status, "kpis");
        if (client.options().json) {
          std::cout << ToJson(report) << "\n";
        } else {
          rows.push_back(Row(manager.name().empty() ? manager.id() : manager.name(), report));
        }
      }
      if (managers.next_page_token().empty()) break;
      list.set_page_token(managers.next_page_token());
    }
  }
  kam::v1::GetKpisRequest request = base;
  request.set_book(true);
  kam::v1::KpiReport book;
  grpc::Status status = get(request, &book);
  if (!status.ok()) return Fail(status, "kpis");
  if (client.options().json) {
    std::cout << ToJson(book) << "\n";
    return kOk;
  }
  rows.push_back(Row("whole book", book));
  std::cout << "period " << FormatTime(book.start_time()) << " .. " << FormatTime(book.end_time())
            << "  (! misses the benchmark, - nothing to measure)\n";
  PrintTable(kHeader, rows);
  return kOk;
}

}  // namespace kam::ctl
