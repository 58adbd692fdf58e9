// kamctl: the command-line client of kam. Talks gRPC to the three services and nothing else.
#include <CLI/CLI.hpp>

#include "absl/strings/ascii.h"
#include "common/config.h"
#include "common/grpc_tls.h"
#include "common/secret_file.h"
#include "common/tls_files.h"
#include "tools/kamctl/commands.h"

int main(int argc, char** argv) {
  using namespace kam::ctl;
  Options options;
  CLI::App app{
      "kamctl: manage accounts, record interactions, and follow alerts of kam.\n"
      "Exit codes: 0 ok, 1 server error, 2 usage, 3 not found, 4 rejected (invalid, "
      "precondition, exists, stale etag), 5 service unavailable, 6 denied (no, unknown or too weak "
      "--token)."};
  app.require_subcommand(1);
  app.fallthrough();  // global flags (--json, addresses) work before or after the subcommand
  app.add_option("--accounts", options.accounts, "kam-accounts address")
      ->envname("KAM_ACCOUNTS_ADDR")
      ->capture_default_str();
  app.add_option("--interactions", options.interactions, "kam-interactions address")
      ->envname("KAM_INTERACTIONS_ADDR")
      ->capture_default_str();
  app.add_option("--alerts", options.alerts, "kam-alerts address")
      ->envname("KAM_ALERTS_ADDR")
      ->capture_default_str();
  app.add_flag("--json", options.json, "JSON lines instead of tables");
  app.add_option("--tls-ca", options.tls.ca, "PEM CA of the services' certificates: call over TLS")
      ->envname("KAM_TLS_CA");
  app.add_option("--tls-cert", options.tls.cert, "PEM client certificate (mutual TLS)")
      ->envname("KAM_TLS_CERT");
  app.add_option("--tls-key", options.tls.key, "PEM key of --tls-cert")->envname("KAM_TLS_KEY");
  app.add_option("--token", options.token,
                 "bearer token for every call (prefer KAM_TOKEN or --token-file: a flag shows in "
                 "the process list)")
      ->envname("KAM_TOKEN");
  std::string token_file;
  app.add_option("--token-file", token_file, "file holding the bearer token (first line)")
      ->envname("KAM_TOKEN_FILE");
  app.add_option("--timeout", options.timeout_seconds, "seconds per call")->capture_default_str();
  int code = kOk;
  std::function<int(Client&)> run;

  // managers
  auto* managers = app.add_subcommand("managers", "account managers")->require_subcommand(1);
  ManagerArgs manager;
  auto* mcreate = managers->add_subcommand("create", "create a manager");
  mcreate->add_option("--name", manager.name)->required();
  mcreate->add_option("--email", manager.email)->required();
  mcreate->add_option("--industry", manager.industry, "e.g. services, traditional_b2b");
  mcreate->add_option("--capacity", manager.capacity, "weighted-load units; 0 = industry default");
  mcreate->add_option("--request-id", manager.request_id, "makes the create idempotent");
  mcreate->callback([&] { run = [&](Client& c) { return CreateManager(c, manager); }; });
  managers->add_subcommand("list", "list managers")->callback([&] {
    run = [&](Client& c) { return ListManagers(c); };
  });
  std::string id;
  auto* mshow = managers->add_subcommand("show", "show one manager");
  mshow->add_option("id", id)->required();
  mshow->callback([&] { run = [&](Client& c) { return ShowManager(c, id); }; });

  // accounts
  auto* accounts = app.add_subcommand("accounts", "customer accounts")->require_subcommand(1);
  AccountArgs account;
  auto* acreate = accounts->add_subcommand("create", "create an account");
  acreate->add_option("--name", account.name)->required();
  acreate->add_option("--industry", account.industry)->required();
  acreate
      ->add_option("--revenue", account.revenue, "annual revenue in major units, e.g. 1250000.50")
      ->required();
  acreate->add_option("--currency", account.currency)->capture_default_str();
  acreate->add_option("--region", account.regions, "ISO country code; repeat for several");
  acreate->add_option("--owner", account.owner, "manager id");
  acreate->add_option("--phase", account.phase, "onboarding, established, at_risk");
  acreate->add_option("--complexity", account.complexity, "low, medium, high");
  acreate->add_option("--parent", account.parent, "parent account id");
  acreate->add_flag("--key", account.key_account, "mark as key account");
  acreate->add_option("--request-id", account.request_id, "makes the create idempotent");
  acreate->callback([&] { run = [&](Client& c) { return CreateAccount(c, account); }; });
  AccountFilter filter;
  auto* alist = accounts->add_subcommand("list", "list accounts");
  alist->add_option("--manager", filter.manager);
  alist->add_option("--tier", filter.tier, "a, b, c");
  alist->add_option("--industry", filter.industry);
  alist->add_option("--phase", filter.phase);
  alist->add_flag("--key", filter.key_only, "key accounts only");
  alist->add_flag("--include-closed", filter.include_closed);
  alist->add_option("--parent", filter.parent, "only the direct subsidiaries of this account");
  alist->callback([&] { run = [&](Client& c) { return ListAccounts(c, filter); }; });
  auto* ashow = accounts->add_subcommand("show", "show one account");
  ashow->add_option("id", id)->required();
  ashow->callback([&] { run = [&](Client& c) { return ShowAccount(c, id); }; });
  std::string target, reason;
  auto* assign = accounts->add_subcommand("assign", "give an unowned account an owner");
  assign->add_option("id", id)->required();
  assign->add_option("--manager", target)->required();
  assign->add_option("--reason", reason);
  assign->callback(
      [&] { run = [&](Client& c) { return AssignAccount(c, id, target, reason, false); }; });
  auto* reassign = accounts->add_subcommand("reassign", "move an account to another manager");
  reassign->add_option("id", id)->required();
  reassign->add_option("--manager", target)->required();
  reassign->add_option("--reason", reason)->required();
  reassign->callback(
      [&] { run = [&](Client& c) { return AssignAccount(c, id, target, reason, true); }; });
  std::string csv;
  bool validate_only = false;
  auto* import =
      accounts->add_subcommand("import",
                               "import a CSV export: "
                               "name,industry,revenue,currency[,regions,owner_manager_id,lifecycle_"
                               "phase,complexity,key_account,parent_account_id,external_id]");
  import->add_option("file", csv)->required()->check(CLI::ExistingFile);
  import->add_flag("--validate-only", validate_only, "check every row, import nothing");
  import->callback([&] { run = [&](Client& c) { return ImportAccounts(c, csv, validate_only); }; });

  bool overloaded = false;
  auto* loads = app.add_subcommand("loads", "manager loads, most utilised first");
  loads->add_flag("--overloaded", overloaded);
  loads->callback([&] {
    if (loads->get_subcommands().empty()) {
      run = [&](Client& c) { return ShowLoads(c, overloaded); };
    }
  });
  std::string rebalance_manager;
  bool rebalance_apply = false;
  auto* rebalance = loads->add_subcommand(
      "rebalance",
      "moves that bring overloaded managers within capacity (a plan; --apply does it)");
  rebalance->add_option("--manager", rebalance_manager, "relieve this manager only");
  rebalance->add_flag("--apply", rebalance_apply, "reassign the accounts as planned");
  rebalance->callback(
      [&] { run = [&](Client& c) { return Rebalance(c, rebalance_manager, rebalance_apply); }; });
  std::vector<std::string> what_if_moves;
  auto* what_if = loads->add_subcommand("what-if", "the loads a set of moves would give");
  what_if->add_option("--move", what_if_moves, "ACCOUNT_ID:MANAGER_ID (repeatable)")->required();
  what_if->callback([&] { run = [&](Client& c) { return WhatIf(c, what_if_moves); }; });

  // interactions
  RecordArgs record;
  auto* rec = app.add_subcommand("record", "record an interaction or survey answer");
  rec->add_option("--account", record.account)->required();
  rec->add_option(
      "--type", record.type,
      "meeting, call, email, complaint, support_request, request_resolved, survey, ...");
  rec->add_option("--channel", record.channel, "in_person, phone, video, email, portal, other");
  rec->add_option("--nps", record.nps, "0..10 (makes it a survey)");
  rec->add_option("--csat", record.csat, "1..5 (makes it a survey)");
  rec->add_option("--comment", record.comment, "survey comment");
  rec->add_option("--note", record.note);
  rec->add_option("--id", record.id, "your id for it (e.g. a ticket number)");
  rec->add_option("--resolves", record.resolves, "id of the request this resolves");
  rec->add_option("--manager", record.manager);
  rec->add_option("--contact", record.contact);
  rec->add_option("--at", record.occurred, "when it happened, RFC 3339 (default now)");
  rec->callback([&] { run = [&](Client& c) { return RecordInteraction(c, record); }; });
  std::string health_account;
  auto* health = app.add_subcommand("health", "an account's satisfaction and response times");
  health->add_option("account", health_account)->required();
  health->callback([&] { run = [&](Client& c) { return ShowHealth(c, health_account); }; });

  // alerts
  auto* alerts = app.add_subcommand("alerts", "alerts")->require_subcommand(1);
  std::string state, account_filter, manager_filter, group_filter, by;
  auto* list = alerts->add_subcommand("list", "list alerts, newest first");
  list->add_option("--state", state, "firing, acknowledged, snoozed, resolved");
  list->add_option("--account", account_filter);
  list->add_option("--manager", manager_filter);
  list->add_option("--group", group_filter, "the parts of one overload alert");
  list->callback([&] {
    run = [&](Client& c) {
      return ListAlerts(c, state, account_filter, manager_filter, group_filter);
    };
  });
  auto* show = alerts->add_subcommand("show", "one alert with its evidence");
  show->add_option("id", id)->required();
  show->callback([&] { run = [&](Client& c) { return ShowAlert(c, id); }; });
  auto* ack = alerts->add_subcommand("ack", "acknowledge an alert");
  ack->add_option("id", id)->required();
  ack->add_option("--by", by, "who takes care of it")->required();
  ack->callback([&] { run = [&](Client& c) { return AcknowledgeAlert(c, id, by); }; });
  SnoozeArgs snooze_args;
  auto* snooze = alerts->add_subcommand(
      "snooze", "put an alert aside until a time; it fires again then if still true");
  snooze->add_option("id", snooze_args.id)->required();
  snooze->add_option("--by", snooze_args.by, "who snoozes")->required();
  snooze->add_option("--reason", snooze_args.reason, "why, for whoever looks next")->required();
  snooze->add_option("--for", snooze_args.for_duration, "how long, e.g. 4h, 3d as 72h");
  snooze->add_option("--until", snooze_args.until, "until when, RFC 3339");
  snooze->callback([&] { run = [&](Client& c) { return SnoozeAlert(c, snooze_args); }; });

  // silences
  auto* silences = app.add_subcommand("silences", "silences: alerts still recorded, not notified")
                       ->require_subcommand(1);
  SilenceArgs silence_args;
  auto* silence_create =
      silences->add_subcommand("create", "silence alerts matching every matcher given, for a time");
  silence_create->add_option("--rule", silence_args.rule, "e.g. satisfaction_low");
  silence_create->add_option("--account", silence_args.account);
  silence_create->add_option("--manager", silence_args.manager);
  silence_create->add_option("--tier", silence_args.tier, "a, b, c");
  silence_create->add_option("--industry", silence_args.industry);
  silence_create->add_option("--starts", silence_args.starts, "RFC 3339 (default now)");
  silence_create->add_option("--for", silence_args.for_duration, "how long, e.g. 8h");
  silence_create->add_option("--until", silence_args.until, "until when, RFC 3339");
  silence_create->add_option("--by", silence_args.by, "who")->required();
  silence_create->add_option("--comment", silence_args.comment, "why")->required();
  silence_create->add_option("--request-id", silence_args.request_id, "makes a retry safe");
  silence_create->callback(
      [&] { run = [&](Client& c) { return CreateSilence(c, silence_args); }; });
  bool include_expired = false;
  auto* silence_list = silences->add_subcommand("list", "active and pending silences");
  silence_list->add_flag("--all", include_expired, "also those ended in the last 7 days");
  silence_list->callback(
      [&] { run = [&](Client& c) { return ListSilences(c, include_expired); }; });
  std::string silence_id;
  auto* silence_expire = silences->add_subcommand("expire", "end a silence now");
  silence_expire->add_option("id", silence_id)->required();
  silence_expire->callback([&] { run = [&](Client& c) { return ExpireSilence(c, silence_id); }; });

  std::string resume;
  bool live = false;
  auto* watch = app.add_subcommand(
      "watch", "follow alert changes (colours on a terminal, JSON lines when piped)");
  watch->add_option("--from", resume, "resume token: replay changes after it");
  watch->add_flag("--live", live, "only new changes");
  watch->callback([&] { run = [&](Client& c) { return WatchAlerts(c, resume, live); }; });

  // KPIs
  KpiArgs kpi;
  auto* kpis = app.add_subcommand(
      "kpis", "KPIs per manager beside the articles' benchmarks (misses marked with !)");
  kpis->add_option("--manager", kpi.manager, "one manager only");
  kpis->add_option("--account", kpi.account, "one account, rolled up over its subsidiaries");
  kpis->add_flag("--alone", kpi.alone, "with --account: without its subsidiaries");
  kpis->add_flag("--book", kpi.book_only, "the whole book only");
  kpis->add_option("--from", kpi.from,
                   "start of the period, YYYY-MM-DD or RFC 3339 (default a year ago)");
  kpis->add_option("--to", kpi.to, "end of the period, exclusive (default now)");
  kpis->callback([&] { run = [&](Client& c) { return ShowKpis(c, kpi); }; });

  DemoArgs demo;
  auto* demo_cmd =
      app.add_subcommand("demo", "play a seeded book of business against the running platform");
  demo_cmd->add_option("--seed", demo.seed)->capture_default_str();
  demo_cmd->add_option("--accounts", demo.accounts)
      ->check(CLI::Range(10, 5000))
      ->capture_default_str();
  demo_cmd->add_option("--months", demo.months)->check(CLI::Range(1, 24))->capture_default_str();
  demo_cmd->callback([&] { run = [&](Client& c) { return Demo(c, demo); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int exit = app.exit(e);
    return exit == 0 ? kOk : kUsage;
  }
  if (!token_file.empty()) {
    if (!options.token.empty()) {
      std::fprintf(stderr, "kamctl: --token-file: give it or --token/KAM_TOKEN, not both\n");
      return kUsage;
    }
    auto token = kam::ReadSecretFile(token_file, "--token-file");
    if (!token.ok()) {
      std::fprintf(stderr, "kamctl: %s\n", std::string(token.status().message()).c_str());
      return kUsage;
    }
    options.token = *std::move(token);
  }
  absl::StripAsciiWhitespace(&options.token);
  if (!options.token.empty() && options.tls.ca.empty() && options.tls.cert.empty()) {
    // A bearer token in plaintext is anybody's token: only to this host's own services.
    for (const std::string* address : {&options.accounts, &options.interactions, &options.alerts}) {
      std::string host;
      int port = 0;
      if (!kam::SplitHostPort(*address, "address", &host, &port).ok() ||
          !kam::IsLoopbackHost(host)) {
        std::fprintf(stderr,
                     "kamctl: --token: refusing to send a token in plaintext to %s; give --tls-ca "
                     "(the services' CA) to call over TLS\n",
                     address->c_str());
        return kUsage;
      }
    }
  }
  auto credentials = ChannelCredentialsFor(options.tls);
  if (!credentials.ok()) {
    std::fprintf(stderr, "kamctl: %s\n", std::string(credentials.status().message()).c_str());
    return kUsage;
  }
  Client client(options, *credentials);
  code = run ? run(client) : kUsage;
  return code;
}
