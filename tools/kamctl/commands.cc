#include "tools/kamctl/commands.h"

#include <cmath>
#include <cstdio>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/currency.h"
#include "common/time_util.h"

namespace kam::ctl {
namespace {

kam::v1::Money Money(double major, const std::string& currency) {
  kam::v1::Money money;
  int exponent = CurrencyExponent(currency).value_or(2);
  money.set_amount_minor(static_cast<int64_t>(std::llround(major * std::pow(10.0, exponent))));
  money.set_currency(currency);
  return money;
}

void PrintManager(const kam::v1::Manager& m) {
  PrintTable({"ID", "NAME", "EMAIL", "INDUSTRY", "CAPACITY", "ACTIVE"},
             {{m.id(), m.name(), m.email(), Short(kam::v1::Industry_Name(m.industry_focus())),
               absl::StrCat(m.effective_capacity()), m.active() ? "yes" : "no"}});
}

std::vector<std::string> AccountRow(const kam::v1::Account& a) {
  char share[16];
  std::snprintf(share, sizeof(share), "%.1f%%", a.revenue_share() * 100);
  char weight[16];
  std::snprintf(weight, sizeof(weight), "%.2f", a.weight());
  return {a.id(),
          a.name(),
          Short(kam::v1::Tier_Name(a.tier())),
          FormatMoney(a.annual_revenue()),
          share,
          weight,
          a.owner_manager_id().empty() ? "-" : a.owner_manager_id(),
          Short(kam::v1::LifecyclePhase_Name(a.lifecycle_phase())),
          a.key_account() ? "key" : ""};
}
const std::vector<std::string> kAccountHeader = {"ID",     "NAME",  "TIER",  "REVENUE", "SHARE",
                                                 "WEIGHT", "OWNER", "PHASE", ""};

}  // namespace

int CreateManager(Client& client, const ManagerArgs& args) {
  kam::v1::CreateManagerRequest request;
  // Always a request id: kamctl retries the create when the service answers UNAVAILABLE.
  request.set_request_id(args.request_id.empty() ? Client::NewRequestId() : args.request_id);
  auto* manager = request.mutable_manager();
  manager->set_name(args.name);
  manager->set_email(args.email);
  manager->set_capacity(args.capacity);
  kam::v1::Industry industry = kam::v1::INDUSTRY_UNSPECIFIED;
  if (!ParseEnum(args.industry, "INDUSTRY_", &kam::v1::Industry_Parse, &industry, "--industry"))
    return kUsage;
  manager->set_industry_focus(industry);
  kam::v1::Manager created;
  grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.accounts().CreateManager(context, request, &created);
  });
  if (!status.ok()) return Fail(status, "create manager");
  if (client.options().json) {
    std::cout << ToJson(created) << "\n";
  } else {
    PrintManager(created);
  }
  return kOk;
}

int ListManagers(Client& client) {
  kam::v1::ListManagersRequest request;
  request.set_page_size(1000);
  std::vector<std::vector<std::string>> rows;
  while (true) {
    kam::v1::ListManagersResponse response;
    grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
      return client.accounts().ListManagers(context, request, &response);
    });
    if (!status.ok()) return Fail(status, "list managers");
    for (const auto& m : response.managers()) {
      if (client.options().json) {
        std::cout << ToJson(m) << "\n";
        continue;
      }
      rows.push_back({m.id(), m.name(), m.email(),
                      Short(kam::v1::Industry_Name(m.industry_focus())),
                      absl::StrCat(m.effective_capacity()), m.active() ? "yes" : "no"});
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  if (!client.options().json)
    PrintTable({"ID", "NAME", "EMAIL", "INDUSTRY", "CAPACITY", "ACTIVE"}, rows);
  return kOk;
}

int ShowManager(Client& client, const std::string& id) {
  kam::v1::GetManagerRequest request;
  request.set_id(id);
  kam::v1::Manager manager;
  grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.accounts().GetManager(context, request, &manager);
  });
  if (!status.ok()) return Fail(status, "show manager");
  if (client.options().json) {
    std::cout << ToJson(manager) << "\n";
  } else {
    PrintManager(manager);
  }
  return kOk;
}

int CreateAccount(Client& client, const AccountArgs& args) {
  kam::v1::CreateAccountRequest request;
  request.set_request_id(args.request_id.empty() ? Client::NewRequestId() : args.request_id);
  auto* account = request.mutable_account();
  account->set_name(args.name);
  kam::v1::Industry industry = kam::v1::INDUSTRY_UNSPECIFIED;
  kam::v1::LifecyclePhase phase = kam::v1::LIFECYCLE_PHASE_UNSPECIFIED;
  kam::v1::Complexity complexity = kam::v1::COMPLEXITY_UNSPECIFIED;
  if (!ParseEnum(args.industry, "INDUSTRY_", &kam::v1::Industry_Parse, &industry, "--industry") ||
      !ParseEnum(args.phase, "LIFECYCLE_PHASE_", &kam::v1::LifecyclePhase_Parse, &phase,
                 "--phase") ||
      !ParseEnum(args.complexity, "COMPLEXITY_", &kam::v1::Complexity_Parse, &complexity,
                 "--complexity")) {
    return kUsage;
  }
  account->set_industry(industry);
  account->set_lifecycle_phase(phase);
  account->set_complexity(complexity);
  for (const auto& region : args.regions) account->add_regions(region);
  *account->mutable_annual_revenue() = Money(args.revenue, args.currency);
  account->set_owner_manager_id(args.owner);
  account->set_parent_account_id(args.parent);
  account->set_key_account(args.key_account);
  kam::v1::Account created;
  grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.accounts().CreateAccount(context, request, &created);
  });
  if (!status.ok()) return Fail(status, "create account");
  if (client.options().json) {
    std::cout << ToJson(created) << "\n";
  } else {
    PrintTable(kAccountHeader, {AccountRow(created)});
  }
  return kOk;
}

int ListAccounts(Client& client, const AccountFilter& filter) {
  kam::v1::ListAccountsRequest request;
  request.set_page_size(1000);
  request.set_manager_id(filter.manager);
  kam::v1::Tier tier = kam::v1::TIER_UNSPECIFIED;
  kam::v1::Industry industry = kam::v1::INDUSTRY_UNSPECIFIED;
  kam::v1::LifecyclePhase phase = kam::v1::LIFECYCLE_PHASE_UNSPECIFIED;
  if (!ParseEnum(filter.tier, "TIER_", &kam::v1::Tier_Parse, &tier, "--tier") ||
      !ParseEnum(filter.industry, "INDUSTRY_", &kam::v1::Industry_Parse, &industry, "--industry") ||
      !ParseEnum(filter.phase, "LIFECYCLE_PHASE_", &kam::v1::LifecyclePhase_Parse, &phase,
                 "--phase")) {
    return kUsage;
  }
  request.set_tier(tier);
  request.set_industry(industry);
  request.set_lifecycle_phase(phase);
  if (filter.key_only) request.set_key_account(true);
  request.set_include_closed(filter.include_closed);
  request.set_parent_account_id(filter.parent);
  std::vector<std::vector<std::string>> rows;
  while (true) {
    kam::v1::ListAccountsResponse response;
    grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
      return client.accounts().ListAccounts(context, request, &response);
    });
    if (!status.ok()) return Fail(status, "list accounts");
    for (const auto& a : response.accounts()) {
      if (client.options().json) {
        std::cout << ToJson(a) << "\n";
      } else {
        rows.push_back(AccountRow(a));
      }
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  if (!client.options().json) PrintTable(kAccountHeader, rows);
  return kOk;
}

int ShowAccount(Client& client, const std::string& id) {
  kam::v1::GetAccountRequest request;
  request.set_id(id);
  kam::v1::Account account;
  grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.accounts().GetAccount(context, request, &account);
  });
  if (!status.ok()) return Fail(status, "show account");
  if (client.options().json) {
    std::cout << ToJson(account) << "\n";
  } else {
    PrintTable(kAccountHeader, {AccountRow(account)});
  }
  return kOk;
}

int AssignAccount(Client& client, const std::string& id, const std::string& manager,
                  const std::string& reason, bool reassign) {
  kam::v1::Account account;
  grpc::Status status;
  if (reassign) {
    kam::v1::ReassignAccountRequest request;
    request.set_account_id(id);
    request.set_new_manager_id(manager);
    request.set_reason(reason);
    status = client.Retry(false, [&](grpc::ClientContext* context) {
      return client.accounts().ReassignAccount(context, request, &account);
    });
  } else {
    kam::v1::AssignAccountRequest request;
    request.set_account_id(id);
    request.set_manager_id(manager);
    request.set_reason(reason);
    status = client.Retry(false, [&](grpc::ClientContext* context) {
      return client.accounts().AssignAccount(context, request, &account);
    });
  }
  if (!status.ok()) return Fail(status, reassign ? "reassign" : "assign");
  if (client.options().json) {
    std::cout << ToJson(account) << "\n";
  } else {
    PrintTable(kAccountHeader, {AccountRow(account)});
  }
  return kOk;
}

int ShowLoads(Client& client, bool overloaded_only) {
  kam::v1::ListManagerLoadsRequest request;
  request.set_page_size(1000);
  request.set_overloaded_only(overloaded_only);
  std::vector<std::vector<std::string>> rows;
  while (true) {
    kam::v1::ListManagerLoadsResponse response;
    grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
      return client.accounts().ListManagerLoads(context, request, &response);
    });
    if (!status.ok()) return Fail(status, "manager loads");
    for (const auto& load : response.loads()) {
      if (client.options().json) {
        std::cout << ToJson(load) << "\n";
        continue;
      }
      rows.push_back({load.manager_id(), load.manager_name(), Fixed(load.load()),
                      Fixed(load.capacity()), Percent(load.utilisation()),
                      absl::StrCat(load.account_count())});
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  if (!client.options().json)
    PrintTable({"MANAGER", "NAME", "LOAD", "CAPACITY", "UTILISATION", "ACCOUNTS"}, rows);
  return kOk;
}

int RecordInteraction(Client& client, const RecordArgs& args) {
  kam::v1::RecordInteractionRequest request;
  request.set_request_id(Client::NewRequestId());  // kamctl retries it on UNAVAILABLE
  auto* interaction = request.mutable_interaction();
  interaction->set_id(args.id);
  interaction->set_account_id(args.account);
  kam::v1::InteractionType type = kam::v1::INTERACTION_TYPE_UNSPECIFIED;
  kam::v1::Channel channel = kam::v1::CHANNEL_UNSPECIFIED;
  if (!ParseEnum(args.type, "INTERACTION_TYPE_", &kam::v1::InteractionType_Parse, &type,
                 "--type") ||
      !ParseEnum(args.channel, "CHANNEL_", &kam::v1::Channel_Parse, &channel, "--channel")) {
    return kUsage;
  }
  if (args.nps >= 0 || args.csat >= 0) {
    if (type == kam::v1::INTERACTION_TYPE_UNSPECIFIED) type = kam::v1::INTERACTION_TYPE_SURVEY;
    if (args.nps >= 0) interaction->mutable_survey()->set_nps(args.nps);
    if (args.csat >= 0) interaction->mutable_survey()->set_csat(args.csat);
    interaction->mutable_survey()->set_comment(args.comment);
  }
  interaction->set_type(type);
  interaction->set_channel(channel);
  interaction->set_note(args.note);
  interaction->set_resolves_interaction_id(args.resolves);
  interaction->set_manager_id(args.manager);
  interaction->set_contact_name(args.contact);
  interaction->set_source_system("kamctl");
  if (!args.occurred.empty()) {
    absl::Time when;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, args.occurred, &when, &error)) {
      std::fprintf(stderr, "kamctl: --at: expected RFC 3339 (2026-11-23T10:00:00Z): %s\n",
                   error.c_str());
      return kUsage;
    }
    *interaction->mutable_occur_time() = TimestampFromMillis(absl::ToUnixMillis(when));
  }
  kam::v1::Interaction recorded;
  grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.interactions().RecordInteraction(context, request, &recorded);
  });
  if (!status.ok()) return Fail(status, "record");
  if (client.options().json) {
    std::cout << ToJson(recorded) << "\n";
  } else {
    PrintTable({"ID", "ACCOUNT", "TYPE", "AT", "OWNER"},
               {{recorded.id(), recorded.account_id(),
                 Short(kam::v1::InteractionType_Name(recorded.type())),
                 FormatTime(recorded.occur_time()), recorded.owner_manager_id()}});
  }
  return kOk;
}

int ShowHealth(Client& client, const std::string& account) {
  kam::v1::GetAccountHealthRequest request;
  request.set_account_id(account);
  kam::v1::AccountHealth health;
  grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.interactions().GetAccountHealth(context, request, &health);
  });
  if (!status.ok()) return Fail(status, "health");
  if (client.options().json) {
    std::cout << ToJson(health) << "\n";
    return kOk;
  }
  auto hours = [](const google::protobuf::Duration& d) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.1f h", d.seconds() / 3600.0);
    return std::string(text);
  };
  char nps[32], csat[32], trend[32];
  std::snprintf(nps, sizeof(nps), "%+.0f (%d answers)", health.nps(), health.nps_responses());
  std::snprintf(csat, sizeof(csat), "%.2f (%d answers)", health.csat_average(),
                health.csat_responses());
  std::snprintf(trend, sizeof(trend), "%+.1f points/answer", health.trend());
  std::string recent;
  for (const auto& point : health.recent_answers()) recent += absl::StrCat(point.score(), " ");
  PrintTable({"FIGURE", "VALUE"},
             {{"account", health.account_id()},
              {"NPS", nps},
              {"CSAT", csat},
              {"trend", trend},
              {"recent answers (0-100)", recent.empty() ? "-" : recent},
              {"last contact", FormatTime(health.last_contact_time())},
              {"open requests", absl::StrCat(health.open_requests_size())},
              {"handling p50 / p90",
               hours(health.handling_time_p50()) + " / " + hours(health.handling_time_p90())},
              {"benchmark", hours(health.handling_time_benchmark())}});
  for (const auto& open : health.open_requests()) {
    std::cout << "  open: " << open.interaction_id() << " "
              << Short(kam::v1::InteractionType_Name(open.type())) << " since "
              << FormatTime(open.open_time()) << " (" << hours(open.age()) << ")\n";
  }
  return kOk;
}

namespace {

const char* SeverityColour(kam::v1::Severity severity) {
  switch (severity) {
    case kam::v1::SEVERITY_CRITICAL:
      return "\033[1;31m";
    case kam::v1::SEVERITY_WARNING:
      return "\033[33m";
    default:
      return "\033[36m";
  }
}

std::vector<std::string> AlertRow(const kam::v1::Alert& a) {
  return {a.id(),
          Short(kam::v1::AlertRule_Name(a.rule())),
          Short(kam::v1::Severity_Name(a.severity())),
          Short(kam::v1::AlertState_Name(a.state())),
          a.account_id().empty() ? a.manager_id() : a.account_id(),
          a.summary()};
}

}  // namespace

int ListAlerts(Client& client, const std::string& state, const std::string& account,
               const std::string& manager, const std::string& group) {
  kam::v1::ListAlertsRequest request;
  request.set_page_size(1000);
  kam::v1::AlertState parsed = kam::v1::ALERT_STATE_UNSPECIFIED;
  if (!ParseEnum(state, "ALERT_STATE_", &kam::v1::AlertState_Parse, &parsed, "--state"))
    return kUsage;
  request.set_state(parsed);
  request.set_account_id(account);
  request.set_manager_id(manager);
  request.set_group_alert_id(group);
  std::vector<std::vector<std::string>> rows;
  while (true) {
    kam::v1::ListAlertsResponse response;
    grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
      return client.alerts().ListAlerts(context, request, &response);
    });
    if (!status.ok()) return Fail(status, "list alerts");
    for (const auto& alert : response.alerts()) {
      if (client.options().json) {
        std::cout << ToJson(alert) << "\n";
      } else {
        rows.push_back(AlertRow(alert));
      }
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  if (!client.options().json)
    PrintTable({"ID", "RULE", "SEVERITY", "STATE", "SUBJECT", "SUMMARY"}, rows);
  return kOk;
}

int ShowAlert(Client& client, const std::string& id) {
  kam::v1::GetAlertRequest request;
  request.set_id(id);
  kam::v1::Alert alert;
  grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
    return client.alerts().GetAlert(context, request, &alert);
  });
  if (!status.ok()) return Fail(status, "show alert");
  if (client.options().json) {
    std::cout << ToJson(alert) << "\n";
    return kOk;
  }
  PrintTable({"ID", "RULE", "SEVERITY", "STATE", "SUBJECT", "SUMMARY"}, {AlertRow(alert)});
  std::cout << "\nstarted " << FormatTime(alert.start_time());
  if (!alert.acknowledged_by().empty())
    std::cout << ", acknowledged by " << alert.acknowledged_by();
  if (alert.state() == kam::v1::ALERT_STATE_SNOOZED) {
    std::cout << ", snoozed by " << alert.snoozed_by() << " until "
              << FormatTime(alert.snooze_end_time()) << " (" << alert.snooze_reason() << ")";
  }
  std::cout << "\n";
  for (const auto& silence : alert.silenced_by()) std::cout << "silenced by " << silence << "\n";
  if (!alert.group_alert_id().empty()) {
    std::cout << "part of " << alert.group_alert_id() << " (the owner's overload)\n";
  }
  if (alert.notification_suppressed()) std::cout << "not notified\n";
  for (const auto& evidence : alert.evidence()) {
    std::cout << "  " << evidence.name() << ": " << evidence.value() << "\n";
  }
  return kOk;
}

int AcknowledgeAlert(Client& client, const std::string& id, const std::string& by) {
  kam::v1::AcknowledgeAlertRequest request;
  request.set_id(id);
  request.set_acknowledged_by(by);
  kam::v1::Alert alert;
  grpc::Status status = client.Retry(false, [&](grpc::ClientContext* context) {
    return client.alerts().AcknowledgeAlert(context, request, &alert);
  });
  if (!status.ok()) return Fail(status, "acknowledge");
  if (client.options().json) {
    std::cout << ToJson(alert) << "\n";
  } else {
    PrintTable({"ID", "RULE", "SEVERITY", "STATE", "SUBJECT", "SUMMARY"}, {AlertRow(alert)});
  }
  return kOk;
}

int WatchAlerts(Client& client, const std::string& resume_token, bool live_only) {
  grpc::ClientContext context;  // no deadline: a watch runs until interrupted
  kam::v1::WatchAlertsRequest request;
  request.set_resume_token(resume_token);
  request.set_live_only(live_only);
  auto stream = client.alerts().WatchAlerts(&context, request);
  kam::v1::AlertChange change;
  const bool colour = IsTerminal() && !client.options().json;
  while (stream->Read(&change)) {
    if (!colour) {
      std::cout << ToJson(change) << std::endl;
      continue;
    }
    const auto& a = change.alert();
    std::cout << SeverityColour(a.severity()) << FormatTime(a.update_time()) << "  "
              << Short(kam::v1::AlertChangeKind_Name(change.kind())) << "  "
              << Short(kam::v1::Severity_Name(a.severity())) << "  "
              << Short(kam::v1::AlertRule_Name(a.rule())) << "  " << a.summary() << "\033[0m  ["
              << a.id() << " #" << change.resume_token() << "]" << std::endl;
  }
  grpc::Status status = stream->Finish();
  if (!status.ok()) return Fail(status, "watch");
  return kOk;
}

}  // namespace kam::ctl
