#include "services/alerts/kpi_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "kam/v1/interactions.pb.h"

namespace kam::kpis {
namespace {

constexpr int64_t kDayMillis = 24LL * 3600 * 1000;
constexpr double kYearMillis = 365.25 * kDayMillis;
constexpr double kMonthMillis = kYearMillis / 12;

bool Within(int64_t at, int64_t from, int64_t to) { return at >= from && at < to; }

bool OpenAt(const Lifetime& lifetime, int64_t at) {
  return lifetime.since <= at && (lifetime.closed == 0 || lifetime.closed > at);
}

bool OpenAt(const Facts& account, int64_t at) { return OpenAt(LifetimeOf(account), at); }

// The annual revenue the record held at `at`: the newest point at or before it.
const kam::internal::v1::KpiRevenuePoint* RevenueAt(const Facts& account, int64_t at) {
  const kam::internal::v1::KpiRevenuePoint* found = nullptr;
  for (const auto& point : account.revenue()) {
    if (point.at_millis() <= at) found = &point;
  }
  return found;
}

kam::v1::Kpi Figure(double value, int sample, std::optional<double> benchmark, bool at_least) {
  kam::v1::Kpi kpi;
  kpi.set_known(sample > 0);
  kpi.set_sample_size(sample);
  if (sample == 0) return kpi;
  kpi.set_value(value);
  kpi.set_basis("measured");
  if (benchmark) {
    kpi.set_has_benchmark(true);
    kpi.set_benchmark(*benchmark);
    kpi.set_meets_benchmark(at_least ? value >= *benchmark : value <= *benchmark);
  }
  return kpi;
}

void SetTotals(const std::map<std::string, int64_t>& by_currency, int count,
               kam::v1::MoneyTotals* totals) {
  totals->set_count(count);
  for (const auto& [currency, amount] : by_currency) {
    auto* money = totals->add_amounts();
    money->set_currency(currency);
    money->set_amount_minor(amount);
  }
}

// The growth benchmark (15 % a year) compounded over a period of this length.
double GrowthBenchmark(int64_t period_millis) {
  return std::pow(1 + kGrowthBenchmark, static_cast<double>(period_millis) / kYearMillis) - 1;
}

}  // namespace

kam::v1::KpiReport ComputeKpis(const std::vector<const Facts*>& accounts, int64_t from,
                               int64_t to) {
  kam::v1::KpiReport report;
  int in_period = 0, cohort = 0, retained = 0, churned = 0, notices = 0;
  std::map<std::string, int64_t> upsell_value, cross_value, renewal_value, revenue_now;
  int upsells = 0, cross_sells = 0, renewals = 0, revenue_accounts = 0;
  double growth_sum = 0;
  int measured = 0, estimated = 0;
  std::vector<double> handling_days;
  int open_requests = 0;
  int promoters = 0, detractors = 0, nps_answers = 0, csat_answers = 0;
  double csat_sum = 0;
  int64_t contacts = 0;
  double account_months = 0;
  double share = 0;
  for (const Facts* account : accounts) {
    if (!account->known()) continue;  // only interactions seen, no account event yet
    const int64_t open_from = std::max(from, LifetimeOf(*account).since);
    const int64_t open_to =
        account->close_millis() > 0 ? std::min(to, account->close_millis()) : to;
    if (open_from >= open_to && !Within(account->close_millis(), from, to)) continue;
    ++in_period;
    account_months += std::max<int64_t>(0, open_to - open_from) / kMonthMillis;
    if (OpenAt(*account, from)) {
      ++cohort;
      retained += OpenAt(*account, to - 1) ? 1 : 0;
    }
    if (account->close_millis() > 0 && Within(account->close_millis(), from, to)) ++churned;
    for (int64_t notice : account->churn_notice_millis()) notices += Within(notice, from, to);

    int64_t deal_growth = 0;  // upsell and cross-sell value in the start revenue's currency
    const auto* start = RevenueAt(*account, from);
    for (const auto& deal : account->deals()) {
      if (!Within(deal.at_millis(), from, to)) continue;
      if (deal.type() == kam::v1::INTERACTION_TYPE_UPSELL) {
        ++upsells;
        upsell_value[deal.currency()] += deal.amount_minor();
      } else if (deal.type() == kam::v1::INTERACTION_TYPE_CROSS_SELL) {
        ++cross_sells;
        cross_value[deal.currency()] += deal.amount_minor();
      } else {
        ++renewals;
        renewal_value[deal.currency()] += deal.amount_minor();
        continue;
      }
      if (start != nullptr && deal.currency() == start->currency()) {
        deal_growth += deal.amount_minor();
      }
    }

    // Growth of a customer open throughout the period, from the revenue in force at its start.
    if (OpenAt(*account, from) && OpenAt(*account, to - 1) && start != nullptr &&
        start->amount_minor() > 0) {
      bool updated = false;
      for (const auto& point : account->revenue()) {
        updated |= point.at_millis() > from && point.at_millis() < to &&
                   point.currency() == start->currency();
      }
      const auto* end = RevenueAt(*account, to - 1);
      const double base = static_cast<double>(start->amount_minor());
      double growth;
      if (updated && end->currency() == start->currency()) {
        growth = (static_cast<double>(end->amount_minor()) - base) / base;
        ++measured;
      } else {
        growth = static_cast<double>(deal_growth) / base;
        ++estimated;
      }
      growth_sum += growth;
    }

    for (const auto& request : account->requests()) {
      if (request.open_millis() == 0) continue;  // resolved, but the request has not arrived
      if (request.close_millis() > 0 && Within(request.close_millis(), from, to)) {
        handling_days.push_back(
            static_cast<double>(request.close_millis() - request.open_millis()) / kDayMillis);
      }
      if (request.open_millis() < to &&
          (request.close_millis() == 0 || request.close_millis() >= to)) {
        ++open_requests;
      }
    }
    for (const auto& answer : account->answers()) {
      if (!Within(answer.at_millis(), from, to)) continue;
      if (answer.nps() >= 0) {
        ++nps_answers;
        promoters += answer.nps() >= 9;
        detractors += answer.nps() <= 6;
      } else if (answer.csat() >= 1) {
        ++csat_answers;
        csat_sum += answer.csat();
      }
    }
    for (const auto& [day, count] : account->contacts_by_day()) {
      const int64_t at = static_cast<int64_t>(day) * kDayMillis;
      if (at + kDayMillis > from && at < to) contacts += count;
    }
    if (OpenAt(*account, to - 1)) {
      share += account->revenue_share();
      if (const auto* end = RevenueAt(*account, to - 1);
          end != nullptr && !end->currency().empty()) {
        revenue_now[end->currency()] += end->amount_minor();
        ++revenue_accounts;
      }
    }
  }

  report.set_accounts(in_period);
  *report.mutable_retention_rate() = Figure(cohort > 0 ? static_cast<double>(retained) / cohort : 0,
                                            cohort, kRetentionBenchmark, true);
  report.set_churned_accounts(churned);
  report.set_churn_notices(notices);
  report.set_renewals(renewals);
  *report.mutable_renewal_rate() =
      Figure(renewals + churned > 0 ? static_cast<double>(renewals) / (renewals + churned) : 0,
             renewals + churned, std::nullopt, true);
  SetTotals(renewal_value, renewals, report.mutable_renewal_value());
  SetTotals(upsell_value, upsells, report.mutable_upsells());
  SetTotals(cross_value, cross_sells, report.mutable_cross_sells());

  const int grown = measured + estimated;
  *report.mutable_revenue_growth() =
      Figure(grown > 0 ? growth_sum / grown : 0, grown, GrowthBenchmark(to - from), true);
  if (estimated > 0) report.mutable_revenue_growth()->set_basis("estimated");
  report.set_growth_measured_accounts(measured);
  report.set_growth_estimated_accounts(estimated);

  const int handled = static_cast<int>(handling_days.size());
  double mean = 0;
  for (double days : handling_days) mean += days;
  mean = handled > 0 ? mean / handled : 0;
  std::sort(handling_days.begin(), handling_days.end());
  // Nearest rank: the smallest value with at least 90 % of the values at or below it.
  const double p90 =
      handled > 0 ? handling_days[static_cast<size_t>(std::ceil(0.9 * handled)) - 1] : 0;
  *report.mutable_handling_time_mean_days() = Figure(mean, handled, kHandlingBenchmarkDays, false);
  *report.mutable_handling_time_p90_days() = Figure(p90, handled, kHandlingBenchmarkDays, false);
  report.set_open_requests(open_requests);

  kam::v1::Kpi nps = Figure(nps_answers > 0 ? 100.0 * (promoters - detractors) / nps_answers : 0,
                            nps_answers, kNpsBenchmark, true);
  if (nps.known()) nps.set_meets_benchmark(nps.value() > kNpsBenchmark);
  *report.mutable_nps() = nps;
  *report.mutable_csat() =
      Figure(csat_answers > 0 ? csat_sum / csat_answers : 0, csat_answers, std::nullopt, true);
  *report.mutable_contacts_per_account_month() =
      Figure(account_months > 0 ? static_cast<double>(contacts) / account_months : 0,
             account_months > 0 ? in_period : 0, kContactsPerMonthBenchmark, true);
  SetTotals(revenue_now, revenue_accounts, report.mutable_annual_revenue());
  report.set_revenue_share(share);
  return report;
}

Lifetime LifetimeOf(const Facts& account) {
  return {.since = account.first_activity_millis() > 0
                       ? std::min(account.create_millis(), account.first_activity_millis())
                       : account.create_millis(),
          .closed = account.close_millis()};
}

std::optional<double> YearlyRetention(const std::vector<Lifetime>& accounts, int64_t from,
                                      int64_t to) {
  int cohort = 0, retained = 0;
  for (const Lifetime& lifetime : accounts) {
    if (!OpenAt(lifetime, from)) continue;
    ++cohort;
    retained += OpenAt(lifetime, to - 1) ? 1 : 0;
  }
  if (cohort == 0) return std::nullopt;
  if (retained == 0) return 0.0;
  return std::pow(static_cast<double>(retained) / cohort,
                  kYearMillis / static_cast<double>(to - from));
}

absl::StatusOr<kam::v1::Clv> ComputeClv(const Facts& account, const kam::v1::ClvInputs& inputs,
                                        std::optional<double> book_yearly_retention,
                                        int64_t to_millis) {
  const auto* latest = RevenueAt(account, to_millis - 1);
  if (latest == nullptr || latest->currency().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("account_id: no annual revenue recorded for \"", account.account_id(), "\""));
  }
  const std::string& currency = latest->currency();
  auto check_cost = [&](const kam::v1::Money& cost, const char* field) -> absl::Status {
    if (cost.amount_minor() == 0 && cost.currency().empty()) return absl::OkStatus();
    if (cost.amount_minor() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("clv_inputs.", field, ".amount_minor: must be >= 0"));
    }
    if (cost.currency() != currency) {
      return absl::InvalidArgumentError(absl::StrCat("clv_inputs.", field, ".currency: must be ",
                                                     currency, ", the account's revenue currency"));
    }
    return absl::OkStatus();
  };
  KAM_RETURN_IF_ERROR(check_cost(inputs.acquisition_cost(), "acquisition_cost"));
  KAM_RETURN_IF_ERROR(check_cost(inputs.servicing_cost_per_year(), "servicing_cost_per_year"));
  if (!(inputs.expected_retention_years() >= 0) ||
      !std::isfinite(inputs.expected_retention_years())) {
    return absl::InvalidArgumentError("clv_inputs.expected_retention_years: must be >= 0");
  }

  // Time-weighted mean of the annual revenue recorded (same currency), from the first record to
  // the end of the period or the account's closing.
  const int64_t until =
      account.close_millis() > 0 ? std::min(to_millis, account.close_millis()) : to_millis;
  double weighted = 0;
  int64_t covered = 0;
  int observations = 0;
  const auto& points = account.revenue();
  for (int i = 0; i < points.size(); ++i) {
    const auto& point = points[i];
    if (point.currency() != currency || point.at_millis() >= until) continue;
    const int64_t next = i + 1 < points.size() ? std::min(points[i + 1].at_millis(), until) : until;
    const int64_t span = std::max<int64_t>(next - point.at_millis(), 0);
    weighted += static_cast<double>(point.amount_minor()) * static_cast<double>(span);
    covered += span;
    ++observations;
  }
  const double average = covered > 0 ? weighted / static_cast<double>(covered)
                                     : static_cast<double>(latest->amount_minor());

  kam::v1::Clv clv;
  double years = inputs.expected_retention_years();
  if (years > 0) {
    clv.set_retention_source("given");
  } else if (book_yearly_retention && *book_yearly_retention < 1) {
    years = std::min(kMaxRetentionYears, 1 / (1 - *book_yearly_retention));
    clv.set_retention_source(absl::StrCat("from the book's retention rate (",
                                          std::round(*book_yearly_retention * 1000) / 10,
                                          " % a year): 1 / (1 - rate)"));
  } else if (book_yearly_retention) {
    years = kMaxRetentionYears;
    clv.set_retention_source("from the book's retention rate (100 % a year): capped");
  } else {
    years = 1;
    clv.set_retention_source("no retention measured in the period: 1 year assumed");
  }
  const double acquisition = static_cast<double>(inputs.acquisition_cost().amount_minor());
  const double servicing = static_cast<double>(inputs.servicing_cost_per_year().amount_minor());
  auto money = [&](double minor) {
    kam::v1::Money out;
    out.set_currency(currency);
    out.set_amount_minor(static_cast<int64_t>(std::llround(minor)));
    return out;
  };
  *clv.mutable_value() = money(average * years - acquisition - servicing * years);
  *clv.mutable_average_revenue_per_year() = money(average);
  clv.set_expected_retention_years(years);
  *clv.mutable_acquisition_cost() = money(acquisition);
  *clv.mutable_servicing_cost_per_year() = money(servicing);
  clv.set_revenue_observations(std::max(observations, 1));
  return clv;
}

}  // namespace kam::kpis
