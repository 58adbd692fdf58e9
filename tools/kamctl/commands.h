#pragma once

// The subcommands of kamctl. Each returns a process exit code (client.h).

#include <string>
#include <vector>

#include "tools/kamctl/client.h"

namespace kam::ctl {

struct ManagerArgs {
  std::string name, email, industry;
  int capacity = 0;
  std::string request_id;
};
int CreateManager(Client& client, const ManagerArgs& args);
int ListManagers(Client& client);
int ShowManager(Client& client, const std::string& id);

struct AccountArgs {
  std::string name, industry, currency = "EUR", owner, phase, complexity, parent, request_id;
  std::vector<std::string> regions;
  double revenue = 0;
  bool key_account = false;
};
int CreateAccount(Client& client, const AccountArgs& args);
struct AccountFilter {
  std::string manager, tier, industry, phase, parent;
  bool key_only = false;
  bool include_closed = false;
};
int ListAccounts(Client& client, const AccountFilter& filter);
int ShowAccount(Client& client, const std::string& id);
int AssignAccount(Client& client, const std::string& id, const std::string& manager,
                  const std::string& reason, bool reassign);
int ShowLoads(Client& client, bool overloaded_only);
// The plan that relieves overloaded managers (one, or all); applied with `apply`.
int Rebalance(Client& client, const std::string& manager, bool apply);
// The loads as they would be after moving each "ACCOUNT_ID:MANAGER_ID".
int WhatIf(Client& client, const std::vector<std::string>& moves);
int ImportAccounts(Client& client, const std::string& csv_path, bool validate_only);

struct RecordArgs {
  std::string account, type, channel, note, id, resolves, manager, contact, occurred;
  int nps = -1;
  int csat = -1;
  std::string comment;
};
int RecordInteraction(Client& client, const RecordArgs& args);
int ShowHealth(Client& client, const std::string& account);

int ListAlerts(Client& client, const std::string& state, const std::string& account,
               const std::string& manager, const std::string& group);
int ShowAlert(Client& client, const std::string& id);
int AcknowledgeAlert(Client& client, const std::string& id, const std::string& by);
int WatchAlerts(Client& client, const std::string& resume_token, bool live_only);

struct SnoozeArgs {
  std::string id, by, reason, until, for_duration;
};
int SnoozeAlert(Client& client, const SnoozeArgs& args);
struct SilenceArgs {
  std::string rule, account, manager, tier, industry;  // matchers
  std::string starts, until, for_duration, by, comment, request_id;
};
int CreateSilence(Client& client, const SilenceArgs& args);
int ListSilences(Client& client, bool include_expired);
int ExpireSilence(Client& client, const std::string& id);

struct KpiArgs {
  std::string manager, account, from, to;
  bool alone = false;      // --account without its subsidiaries
  bool book_only = false;  // only the whole book
};
// One manager's, one account's (rolled up over its group) or every manager's KPIs beside the
// articles' benchmarks; the figures that miss theirs are marked.
int ShowKpis(Client& client, const KpiArgs& args);

struct DemoArgs {
  unsigned seed = 7;
  int accounts = 240;
  int months = 6;
};
int Demo(Client& client, const DemoArgs& args);

}  // namespace kam::ctl
