// kamctl demo: plays a realistic book of business against the running platform, seeded and
// reproducible. Managers in several industries, accounts with a long tail of revenue, months of
// meetings, requests and survey answers in compressed time, and three stories that raise alerts
// within a minute: a customer whose satisfaction slides, a manager handed too many accounts (who
// is relieved at the end), a request left open too long, a customer who gives notice, and a
// renewal coming up with an unhappy customer. Upsells, cross-sells and renewals along the way give
// `kamctl kpis` something to measure.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>
#include <random>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "tools/kamctl/commands.h"
#include "tools/kamctl/progress.h"

namespace kam::ctl {
namespace {

constexpr int64_t kHour = 3600LL * 1000;
constexpr int64_t kDay = 24 * kHour;

struct DemoManager {
  std::string name, email;
  kam::v1::Industry industry;
  int capacity;  // 0 = industry default
  std::string id;
};

const char* kCompanyWords[] = {"Nord",  "Alpen", "Rhein",  "Kestrel", "Falke",  "Solar",   "Hansa",
                               "Atlas", "Vega",  "Orion",  "Lumen",   "Delta",  "Polar",   "Terra",
                               "Nova",  "Aurum", "Vertex", "Helix",   "Quanta", "Borealis"};
const char* kCompanyKinds[] = {"Logistics", "Maschinenbau", "Energie",    "Systems",    "Pharma",
                               "Retail",    "Finanz",       "Consulting", "Automotive", "Foods"};

struct Event {
  int64_t at;
  kam::v1::RecordInteractionRequest request;
};

}  // namespace

namespace {

// The first alert `request` lists within 30 s (kam-alerts works asynchronously).
std::optional<kam::v1::Alert> AwaitAlert(Client& client,
                                         const kam::v1::ListAlertsRequest& request) {
  for (int attempt = 0; attempt < 60; ++attempt) {
    kam::v1::ListAlertsResponse response;
    grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
      return client.alerts().ListAlerts(context, request, &response);
    });
    if (status.ok() && response.alerts_size() > 0) return response.alerts(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return std::nullopt;
}

// Stories 6-8: living with alerts. Max's overload groups the alerts of his accounts; the request
// left open at Atlas Pharma is snoozed with a reason; a silence covers a planned CRM migration.
int LivingWithAlerts(Client& client, const std::string& max_id, const std::string& max_account,
                     const std::string& atlas_id) {
  // The request left open at Max's largest account (story 6) is overdue by now.
  kam::v1::ListAlertsRequest max_overdue;
  max_overdue.set_rule(kam::v1::ALERT_RULE_RESPONSE_OVERDUE);
  max_overdue.set_account_id(max_account);
  AwaitAlert(client, max_overdue);
  kam::v1::ListAlertsRequest overload;
  overload.set_rule(kam::v1::ALERT_RULE_MANAGER_OVERLOADED);
  overload.set_manager_id(max_id);
  overload.set_state(kam::v1::ALERT_STATE_FIRING);
  if (auto max = AwaitAlert(client, overload)) {
    kam::v1::ListAlertsRequest parts;
    parts.set_group_alert_id(max->id());
    kam::v1::ListAlertsResponse grouped;
    grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
      return client.alerts().ListAlerts(context, parts, &grouped);
    });
    if (!status.ok()) return Fail(status, "demo: grouped alerts");
    std::printf(
        "demo: Max's overload alert %s groups %d alert(s) of his accounts, not notified "
        "on their own (kamctl alerts list --group %s)\n",
        max->id().c_str(), grouped.alerts_size(), max->id().c_str());
  }
  kam::v1::ListAlertsRequest overdue;
  overdue.set_rule(kam::v1::ALERT_RULE_RESPONSE_OVERDUE);
  overdue.set_account_id(atlas_id);
  overdue.set_state(kam::v1::ALERT_STATE_FIRING);
  if (auto atlas = atlas_id.empty() ? std::nullopt : AwaitAlert(client, overdue)) {
    kam::v1::SnoozeAlertRequest snooze;
    snooze.set_id(atlas->id());
    snooze.set_snoozed_by("team-lead@example.com");
    snooze.set_reason("answer promised by the lab on Friday");
    *snooze.mutable_end_time() =
        TimestampFromMillis(MillisFromTimestamp(NowTimestamp()) + 2 * kDay);
    kam::v1::Alert snoozed;
    grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
      return client.alerts().SnoozeAlert(context, snooze, &snoozed);
    });
    if (!status.ok()) return Fail(status, "demo: snooze");
    std::printf("demo: snoozed %s for two days: %s\n", snoozed.id().c_str(),
                snoozed.snooze_reason().c_str());
  }
  kam::v1::CreateSilenceRequest silence;
  silence.set_request_id("demo-crm-migration");
  silence.mutable_silence()->set_rule(kam::v1::ALERT_RULE_NO_CONTACT);
  silence.mutable_silence()->set_created_by("team-lead@example.com");
  silence.mutable_silence()->set_comment("CRM migration: contacts are not synced until tonight");
  *silence.mutable_silence()->mutable_end_time() =
      TimestampFromMillis(MillisFromTimestamp(NowTimestamp()) + 8 * 3600 * 1000);
  kam::v1::Silence created;
  grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.alerts().CreateSilence(context, silence, &created);
  });
  if (!status.ok()) return Fail(status, "demo: silence");
  std::printf("demo: silence %s: no-contact alerts recorded but not notified for 8 hours (%s)\n",
              created.id().c_str(), created.comment().c_str());
  return kOk;
}

}  // namespace

int Demo(Client& client, const DemoArgs& args) {
  std::mt19937_64 rng(args.seed);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  // Anchored to the start of today (UTC): the same seed on the same day replays idempotently.
  const int64_t today = MillisFromTimestamp(NowTimestamp()) / kDay * kDay;
  const int64_t now = MillisFromTimestamp(NowTimestamp());
  const std::string tag = absl::StrCat("demo-", args.seed, "-", today / kDay);

  // Four managers per industry (capacity: the industry default), and Max, who gets too much.
  const char* first[] = {"Anna",  "Jonas", "Lea",    "Paul",  "Mia",   "Finn", "Emma",
                         "Noah",  "Lina",  "Ben",    "Clara", "Elias", "Ida",  "Felix",
                         "Marie", "Jan",   "Sophie", "Tim",   "Nele",  "Erik"};
  const char* last[] = {"Berger",  "Weber", "Fischer", "Schmidt", "Wagner", "Hoffmann", "Koch",
                        "Richter", "Klein", "Wolf",    "Neumann", "Schulz", "Braun",    "Zimmer",
                        "Kraus",   "Lang",  "Roth",    "Vogel",   "Frank",  "Jung"};
  const kam::v1::Industry industries[] = {
      kam::v1::INDUSTRY_SPECIALISED_TECHNOLOGY, kam::v1::INDUSTRY_GREENTECH_DIGITAL,
      kam::v1::INDUSTRY_SERVICES, kam::v1::INDUSTRY_TRADITIONAL_B2B,
      kam::v1::INDUSTRY_MANUFACTURING_STANDARD};
  const double default_capacity[] = {8, 10, 15, 20, 25};
  std::vector<DemoManager> managers;
  std::vector<double> capacity;
  for (int i = 0; i < 20; ++i) {
    managers.push_back({absl::StrCat(first[i], " ", last[i]),
                        absl::AsciiStrToLower(absl::StrCat(first[i], ".", last[i])),
                        industries[i % 5], 0, ""});
    capacity.push_back(default_capacity[i % 5]);
  }
  managers.push_back(
      {"Max Overload", "max.overload", kam::v1::INDUSTRY_SPECIALISED_TECHNOLOGY, 4, ""});
  std::cout << "demo: seed " << args.seed << ", " << managers.size() << " managers, "
            << args.accounts << " accounts, " << args.months << " months of history\n";
  for (auto& m : managers) {
    kam::v1::CreateManagerRequest request;
    request.set_request_id(absl::StrCat(tag, "-", m.email));
    request.mutable_manager()->set_name(m.name);
    request.mutable_manager()->set_email(absl::StrCat(m.email, "+", tag, "@example.com"));
    request.mutable_manager()->set_industry_focus(m.industry);
    request.mutable_manager()->set_capacity(m.capacity);
    kam::v1::Manager created;
    grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
      return client.accounts().CreateManager(context, request, &created);
    });
    if (!status.ok()) return Fail(status, "demo: create manager");
    m.id = created.id();
  }

  // Accounts: revenue follows a Pareto tail (a few large customers carry most of it).
  kam::v1::ImportAccountsRequest import;
  std::vector<size_t> owner_of;
  for (int i = 0; i < args.accounts; ++i) {
    auto* row = import.add_rows();
    row->set_request_id(absl::StrCat(tag, "-account-", i));
    auto* account = row->mutable_account();
    account->set_name(
        absl::StrCat(kCompanyWords[rng() % 20], " ", kCompanyKinds[rng() % 10], " ", i));
    // Max gets the first six; the others go to managers in proportion to their capacity.
    size_t owner = managers.size() - 1;
    if (i >= 6) owner = std::discrete_distribution<size_t>(capacity.begin(), capacity.end())(rng);
    owner_of.push_back(owner);
    account->set_industry(managers[owner].industry);
    double revenue = 50000.0 / std::pow(uniform(0.001, 1.0), 1 / 1.2);
    account->mutable_annual_revenue()->set_amount_minor(
        static_cast<int64_t>(std::min(revenue, 3e6) * 100));
    account->mutable_annual_revenue()->set_currency("EUR");
    account->add_regions("DE");
    if (rng() % 5 == 0) account->add_regions(rng() % 2 ? "FR" : "US");
    account->set_complexity(rng() % 4 == 0 ? kam::v1::COMPLEXITY_HIGH : kam::v1::COMPLEXITY_MEDIUM);
    account->set_key_account(i < 6 || revenue > 800000);
    account->set_owner_manager_id(managers[owner].id);
    if (i == 6) account->set_name("Kestrel Logistics (sliding satisfaction)");
    if (i == 7) account->set_name("Atlas Pharma (request left open)");
    if (i == 8) account->set_name("Falke Energie (gave notice)");
    if (i == 9) {
      account->set_name("Orion Retail (renewal at risk)");
      *account->mutable_renewal_time() = TimestampFromMillis(today + 45 * kDay);
    }
  }
  // Max's accounts weigh like standard A accounts: make them large.
  for (int i = 0; i < 6 && i < args.accounts; ++i) {
    auto* account = import.mutable_rows(i)->mutable_account();
    account->mutable_annual_revenue()->set_amount_minor(int64_t{400000000} + i);
    account->set_complexity(kam::v1::COMPLEXITY_MEDIUM);
    account->clear_regions();
    account->add_regions("DE");
  }
  kam::v1::ImportAccountsResponse imported;
  grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.accounts().ImportAccounts(context, import, &imported);
  });
  if (!status.ok()) return Fail(status, "demo: import accounts");
  if (!imported.applied()) {
    for (const auto& result : imported.results()) {
      if (result.code() != 0)
        std::cerr << "demo: row " << result.row() << ": " << result.error() << "\n";
    }
    return kRejected;
  }
  std::vector<std::string> account_ids;
  for (const auto& result : imported.results()) account_ids.push_back(result.account_id());
  std::cout << "demo: " << account_ids.size() << " accounts (" << imported.created() << " new)\n";

  // History in compressed time: every account gets meetings, calls, requests and surveys.
  std::vector<Event> events;
  int counter = 0;
  auto add = [&](size_t account, kam::v1::InteractionType type, int64_t at,
                 const std::function<void(kam::v1::Interaction*)>& fill = nullptr) -> std::string {
    Event event;
    event.at = at;
    event.request.set_request_id(absl::StrCat(tag, "-i-", counter++));
    auto* interaction = event.request.mutable_interaction();
    interaction->set_id(absl::StrCat(tag, "-", counter));
    interaction->set_account_id(account_ids[account]);
    interaction->set_type(type);
    interaction->set_channel(kam::v1::CHANNEL_PHONE);
    interaction->set_source_system("kamctl-demo");
    *interaction->mutable_occur_time() = TimestampFromMillis(at);
    if (fill) fill(interaction);
    events.push_back(event);
    return interaction->id();
  };
  const int64_t history = int64_t{args.months} * 30 * kDay;
  for (size_t a = 0; a < account_ids.size(); ++a) {
    if (a == 6) continue;  // the sliding customer has its own story below
    int touches = 2 + static_cast<int>(rng() % (args.months * 2));
    for (int t = 0; t < touches; ++t) {
      int64_t at = today - history + static_cast<int64_t>(uniform(0, 1) * (history - 2 * kDay));
      auto type =
          rng() % 3 == 0 ? kam::v1::INTERACTION_TYPE_MEETING : kam::v1::INTERACTION_TYPE_CALL;
      add(a, type, at);
      if (rng() % 4 == 0) {
        add(a, kam::v1::INTERACTION_TYPE_SURVEY, at + kHour, [&](kam::v1::Interaction* i) {
          i->mutable_survey()->set_nps(8 + static_cast<int>(rng() % 3));
        });
      }
      if (rng() % 10 == 0) {
        const auto deal = rng() % 3 == 0   ? kam::v1::INTERACTION_TYPE_CROSS_SELL
                          : rng() % 2 == 0 ? kam::v1::INTERACTION_TYPE_UPSELL
                                           : kam::v1::INTERACTION_TYPE_RENEWAL;
        add(a, deal, at + 3 * kHour, [&](kam::v1::Interaction* i) {
          i->mutable_amount()->set_currency("EUR");
          i->mutable_amount()->set_amount_minor(static_cast<int64_t>(uniform(5e3, 5e4)) * 100);
        });
      }
      if (rng() % 6 == 0) {
        std::string request = add(a, kam::v1::INTERACTION_TYPE_SUPPORT_REQUEST, at + 2 * kHour);
        add(a, kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED,
            at + 2 * kHour + static_cast<int64_t>(uniform(2, 40) * kHour),
            [&](kam::v1::Interaction* i) { i->set_resolves_interaction_id(request); });
      }
    }
  }
  // Story 1: Kestrel Logistics answers 9, 9, 8, 6, 4, 3, one survey a week; a complaint at the end.
  int slide[] = {9, 9, 8, 6, 4, 3};
  for (int week = 0; week < 6; ++week) {
    int64_t at = today - (6 - week) * 7 * kDay;
    add(6, kam::v1::INTERACTION_TYPE_MEETING, at - kDay);
    add(6, kam::v1::INTERACTION_TYPE_SURVEY, at, [&](kam::v1::Interaction* i) {
      i->mutable_survey()->set_nps(slide[week]);
      if (week == 5) i->mutable_survey()->set_comment("deliveries late again, nobody calls back");
    });
  }
  // Story 3: Atlas Pharma's support request, opened five days ago, never answered.
  if (account_ids.size() > 7) {
    add(7, kam::v1::INTERACTION_TYPE_SUPPORT_REQUEST, today - 5 * kDay,
        [&](kam::v1::Interaction* i) {
          i->set_note("validation report for the new batch process");
        });
  }
  // Story 4: Falke Energie gives notice two days ago.
  if (account_ids.size() > 8) {
    add(8, kam::v1::INTERACTION_TYPE_CHURN_NOTICE, today - 2 * kDay, [&](kam::v1::Interaction* i) {
      i->set_note("termination letter: contract ends with the quarter");
    });
  }
  // Story 5: Orion Retail renews in 45 days, and its last two answers are detractors.
  if (account_ids.size() > 9) {
    for (int n = 0; n < 2; ++n) {
      add(9, kam::v1::INTERACTION_TYPE_SURVEY, today - (3 - n) * kDay,
          [&](kam::v1::Interaction* i) { i->mutable_survey()->set_nps(3 - n); });
    }
  }
  // Story 6: a request to Max's largest account waits four days: part of Max's overload.
  add(0, kam::v1::INTERACTION_TYPE_SUPPORT_REQUEST, today - 4 * kDay,
      [&](kam::v1::Interaction* i) { i->set_note("invoice dispute, escalated by procurement"); });
  // Recent activity across the book moves every partition's clock to today.
  for (size_t a = 8; a < account_ids.size(); a += 3)
    add(a, kam::v1::INTERACTION_TYPE_EMAIL, now - kHour);
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& x, const Event& y) { return x.at < y.at; });

  Progress progress("history", events.size());
  for (size_t start = 0; start < events.size(); start += 500) {
    size_t end = std::min(events.size(), start + 500);
    std::vector<size_t> pending;
    for (size_t i = start; i < end; ++i) pending.push_back(i);
    // Accounts created a moment ago may not have reached kam-interactions yet (NOT_FOUND): retry.
    for (int attempt = 0; !pending.empty(); ++attempt) {
      kam::v1::BatchRecordInteractionsRequest batch;
      for (size_t i : pending) *batch.add_requests() = events[i].request;
      kam::v1::BatchRecordInteractionsResponse response;
      status = client.Retry(true, [&](grpc::ClientContext* context) {
        return client.interactions().BatchRecordInteractions(context, batch, &response);
      });
      if (!status.ok()) return Fail(status, "demo: record history");
      std::vector<size_t> retry;
      for (const auto& result : response.results()) {
        if (result.code() == static_cast<int>(grpc::StatusCode::NOT_FOUND) && attempt < 10) {
          retry.push_back(pending[result.index()]);
        } else if (result.code() != 0) {
          std::cerr << "demo: interaction " << pending[result.index()] << ": " << result.error()
                    << "\n";
        }
      }
      pending = std::move(retry);
      if (!pending.empty()) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    progress.Advance(end - start);
  }
  progress.Done();

  if (int code = LivingWithAlerts(client, managers.back().id, account_ids[0],
                                  account_ids.size() > 7 ? account_ids[7] : "");
      code != kOk) {
    return code;
  }

  // Story 2: Max Overload carries six large accounts against a capacity of 4 (an alert fires).
  // The team lead applies kam's rebalance plan: the alert resolves.
  kam::v1::GetManagerLoadRequest get_load;
  get_load.set_manager_id(managers.back().id);
  kam::v1::ManagerLoad load;
  status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.accounts().GetManagerLoad(context, get_load, &load);
  });
  if (!status.ok()) return Fail(status, "demo: manager load");
  std::printf("demo: Max Overload carries %.2f against a capacity of %.0f (%.0f%%)\n", load.load(),
              load.capacity(), load.utilisation() * 100);
  // The team lead asks kam for a rebalance plan for Max and applies it (kamctl loads rebalance).
  kam::v1::SuggestReassignmentsRequest suggest;
  suggest.set_manager_id(managers.back().id);
  kam::v1::SuggestReassignmentsResponse plan;
  status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.accounts().SuggestReassignments(context, suggest, &plan);
  });
  if (!status.ok()) return Fail(status, "demo: rebalance plan");
  for (const auto& suggestion : plan.suggestions()) {
    std::printf("demo: rebalance plan: %s from %s (%.0f%% -> %.0f%%) to %s (%.0f%% -> %.0f%%)\n",
                suggestion.account_name().c_str(), suggestion.from_manager_name().c_str(),
                suggestion.from_utilisation_before() * 100,
                suggestion.from_utilisation_after() * 100, suggestion.to_manager_name().c_str(),
                suggestion.to_utilisation_before() * 100, suggestion.to_utilisation_after() * 100);
    kam::v1::ReassignAccountRequest move;
    move.set_account_id(suggestion.account_id());
    move.set_new_manager_id(suggestion.to_manager_id());
    move.set_reason("demo: rebalance plan for an overloaded manager");
    kam::v1::Account moved;
    status = client.Retry(false, [&](grpc::ClientContext* context) {
      return client.accounts().ReassignAccount(context, move, &moved);
    });
    // A replay of the demo finds the move made already.
    if (!status.ok() && status.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
      return Fail(status, "demo: reassign");
    }
  }
  const std::string relief_name =
      plan.suggestions_size() > 0 ? plan.suggestions(0).to_manager_name() : "nobody";
  status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.accounts().GetManagerLoad(context, get_load, &load);
  });
  if (status.ok()) {
    std::printf("demo: after the plan's %d moves (first to %s): %.2f of %.0f (%.0f%%)\n",
                plan.suggestions_size(), relief_name.c_str(), load.load(), load.capacity(),
                load.utilisation() * 100);
  }
  std::cout << "\ndemo: done. Alerts arrive within seconds:\n"
            << "  kamctl watch                       # follow them live\n"
            << "  kamctl alerts list --state firing\n"
            << "  kamctl health " << account_ids[6] << "   # Kestrel Logistics\n"
            << "  kamctl kpis                        # every manager against the benchmarks\n";
  return kOk;
}

}  // namespace kam::ctl
