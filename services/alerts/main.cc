// kam-alerts: wiring only. Rules and alert lifecycle in AlertsEngine, the view of all alerts in
// AlertsView and the KPI facts of all accounts in KpiBook (both fed by a ChangelogFollower), gRPC
// translation in AlertsGrpcService and KpiGrpcService, process runtime
// (store, stream tasks, transactions, health, metrics) in ServiceHost.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/strip.h"
#include "common/kafka/changelog_follower.h"
#include "common/kafka/publisher.h"
#include "common/kafka_topics.h"
#include "common/logging.h"
#include "common/mutex.h"
#include "common/service_host.h"
#include "common/time_util.h"
#include "common/trace_context.h"
#include "services/alerts/alert_store.h"
#include "services/alerts/alert_writer.h"
#include "services/alerts/alerts_engine.h"
#include "services/alerts/alerts_view.h"
#include "services/alerts/grpc_service.h"
#include "services/alerts/kpi_book.h"
#include "services/alerts/kpi_grpc_service.h"
#include "services/alerts/silences.h"

int main(int argc, char** argv) {
  std::string rules_file;
  kam::alerts::EngineOptions options;
  int idle_seconds = 5;
  int allowed_lateness_seconds = 0;
  size_t watch_history = 100000;
  kam::ParseOutcome parsed = kam::ParseServiceConfig(
      argc, argv, {"kam-alerts", "127.0.0.1:50053", "127.0.0.1:9463", "var/alerts"},
      [&](CLI::App& app) {
        app.add_option("--rules-file", rules_file,
                       "JSON file with rule thresholds and windows (see deploy/alerts-rules.json)")
            ->envname("KAM_RULES_FILE");
        app.add_option("--idle-seconds", idle_seconds,
                       "after this long without records a partition's clock follows the wall clock")
            ->check(CLI::Range(1, 3600))
            ->envname("KAM_IDLE_SECONDS");
        app.add_option("--allowed-lateness-seconds", allowed_lateness_seconds,
                       "how far (event time) an interaction may trail its partition's clock and "
                       "still be judged as if it had come in order; other accounts' timers wait "
                       "this long")
            ->check(CLI::Range(0, 7 * 24 * 3600))
            ->envname("KAM_ALLOWED_LATENESS_SECONDS");
        app.add_option("--watch-history", watch_history,
                       "alert changes every instance keeps for WatchAlerts to replay; older "
                       "resume tokens get FAILED_PRECONDITION")
            ->check(CLI::Range(size_t{1000}, size_t{10000000}))
            ->capture_default_str()
            ->envname("KAM_WATCH_HISTORY");
      });
  if (parsed.exit) return parsed.exit_code;
  auto rules = kam::alerts::LoadRules(rules_file);
  if (!rules.ok()) {
    std::fprintf(stderr, "kam-alerts: %s\n", std::string(rules.status().message()).c_str());
    return 2;
  }
  options.rules = *rules;
  // Internal topics belong to the application (consumer group), like Kafka Streams'
  // <application.id>-... topics: two groups never read each other's changelog or facts.
  const std::string application =
      parsed.config.consumer_group.empty() ? "kam-alerts" : parsed.config.consumer_group;
  if (application.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789._-") != std::string::npos ||
      application.size() > 200) {
    std::fprintf(stderr,
                 "kam-alerts: --consumer-group: names internal topics, so at most 200 of "
                 "A-Z a-z 0-9 . _ -, got \"%s\"\n",
                 application.c_str());
    return 2;
  }
  options.portfolio_topic = application + ".portfolio.v1";
  options.commands_topic = application + ".commands.v1";
  const std::string changelog_topic = application + ".changelog.v1";
  options.idle_millis = int64_t{idle_seconds} * 1000;
  options.allowed_lateness_millis = int64_t{allowed_lateness_seconds} * 1000;

  kam::ServiceHost host(
      parsed.config,
      {.column_families =
           [] {
             std::vector<std::string> families = kam::alerts::AlertsEngine::ColumnFamilies();
             families.push_back(kam::alerts::kViewCopyCf);  // local only, not changelogged
             return families;
           }(),
       // kam-alerts writes and reads its own repartition topic (portfolio facts by manager).
       .output_topics = {kam::kafka_topics::kAlerts, kam::kafka_topics::kDeadLetter,
                         options.portfolio_topic},
       // ... and its commands topic: API writes routed to the task that owns the alert.
       .input_topics = {kam::kafka_topics::kAccounts, kam::kafka_topics::kManagers,
                        kam::kafka_topics::kInteractions, options.portfolio_topic,
                        options.commands_topic},
       .co_partitioned = {{kam::kafka_topics::kAccounts, kam::kafka_topics::kInteractions,
                           options.commands_topic},
                          {kam::kafka_topics::kManagers, options.portfolio_topic}},
       .restore_to_end = false,
       // Each task's state is changelogged in Kafka transactions and restored where it moves.
       .changelog = kam::kafka::ChangelogSpec{changelog_topic, kam::alerts::TaskColumnFamilies()}});
  absl::Status opened = host.Open();
  if (!opened.ok()) {
    kam::log::Error("start failed", {{"error", opened.ToString()}});
    return 1;
  }
  // Every instance keeps a view of all alerts, fed by every task's changelog: reads work on any
  // instance. Page tokens are signed per application, so any instance continues a listing.
  kam::alerts::AlertsView view(kam::PageTokens("kam-alerts view|" + application), watch_history);
  // ... and of every silence (task 0's state): the tasks ask it when an alert changes, and ask the
  // view whether the owner's overload alert is open (global tables, silences.h).
  kam::alerts::SilenceBook silences;
  options.silences_matching = [&silences](const kam::v1::Alert& alert, int tier, int industry,
                                          int64_t at) {
    return silences.Matching(alert, tier, industry, at);
  };
  options.open_overload_alert = [&view](const std::string& manager_id) {
    return view.OpenAlertId(
        kam::alerts::FingerprintOf(kam::v1::ALERT_RULE_MANAGER_OVERLOADED, manager_id));
  };
  auto engine = kam::alerts::AlertsEngine::Open(host.store(), host.committer(), options);
  if (!engine.ok()) {
    kam::log::Error("start failed", {{"error", engine.status().ToString()}});
    return 1;
  }
  host.SetProcessor(engine->get());
  host.metrics()->AddCallbackFamily(
      "kam_alert_changes_total", "Alert state changes published, by rule, severity and change.",
      kam::MetricKind::kCounter, [e = engine->get()] {
        std::vector<kam::MetricSample> samples;
        for (const auto& [key, count] : e->changes_by_kind()) {
          const auto& [rule, severity, kind] = key;
          // The enum value names without their prefix, as Alertmanager's alertname has them.
          samples.push_back(
              {{{"rule",
                 std::string(absl::StripPrefix(kam::v1::AlertRule_Name(rule), "ALERT_RULE_"))},
                {"severity",
                 std::string(absl::StripPrefix(kam::v1::Severity_Name(severity), "SEVERITY_"))},
                {"change", std::string(absl::StripPrefix(kam::v1::AlertChangeKind_Name(kind),
                                                         "ALERT_CHANGE_KIND_"))}},
               static_cast<double>(count)});
        }
        return samples;
      });
  host.metrics()->AddCallbackCounter(
      "kam_alerts_parked_total", "Interactions held back until their account was known.",
      [e = engine->get()] { return static_cast<double>(e->parked_total()); });
  // ... and of every account's KPI facts: any instance answers GetKpis.
  kam::kpis::KpiBook kpis([] { return kam::MillisFromTimestamp(kam::NowTimestamp()); });
  auto follower = kam::kafka::ChangelogFollower::Create(
      host.kafka_options(), changelog_topic,
      [&view, &kpis, &silences](int32_t task, std::string_view key,
                                std::optional<std::string_view> value) {
        view.Apply(task, key, value);
        kpis.Apply(task, key, value);
        silences.Apply(task, key, value);
      },
      kam::kafka::ChangelogFollower::LocalCopy{host.store(), kam::alerts::kViewCopyCf,
                                               &kam::alerts::ViewReads});
  if (!follower.ok()) {
    kam::log::Error("start failed", {{"error", follower.status().ToString()}});
    return 1;
  }
  host.AddReadiness([f = follower->get()] { return f->CaughtUp(); });
  absl::Status following = (*follower)->Start([&host] { host.ReadinessChanged(); });
  if (!following.ok()) {
    kam::log::Error("start failed", {{"error", following.ToString()}});
    return 1;
  }
  host.metrics()->AddCallbackGauge("kam_alerts_view_alerts", "Alerts in this instance's view.",
                                   [&view] { return static_cast<double>(view.alerts_count()); });
  host.metrics()->AddCallbackCounter(
      "kam_alerts_view_changelog_records_total", "Changelog records read into the view.",
      [f = follower->get()] { return static_cast<double>(f->records_total()); });
  // Writes go to the task that owns what they change, through the commands topic.
  std::atomic<bool> stopping{false};
  auto command_producer = kam::kafka::KafkaPublisher::Create(
      host.kafka_options(), "kam-alerts-commands/" + host.store()->instance_id(), &stopping);
  if (!command_producer.ok()) {
    kam::log::Error("start failed", {{"error", command_producer.status().ToString()}});
    return 1;
  }
  kam::Mutex command_mutex;  // one Publish at a time on the producer
  kam::alerts::AlertWriter writer(
      &view, &silences,
      [&, producer = command_producer->get()](int32_t task, const std::string& key,
                                              const std::string& value) {
        kam::MutexLock lock(&command_mutex);
        std::vector<bool> delivered;
        return producer->Publish({{.topic = options.commands_topic,
                                   .partition = task,
                                   .key = key,
                                   .value = value,
                                   .event_id = key,
                                   // The API call's: its changes continue the caller's trace.
                                   .traceparent = kam::trace::CurrentTraceparent()}},
                                 &delivered);
      },
      options.wall_clock ? options.wall_clock
                         : [] { return kam::MillisFromTimestamp(kam::NowTimestamp()); },
      std::chrono::seconds(10));
  kam::alerts::AlertsGrpcService service(&writer, &view, host.rpc_metrics());
  host.AddService(&service);
  kam::kpis::KpiGrpcService kpi_service(&kpis, host.rpc_metrics());
  host.AddService(&kpi_service);
  host.metrics()->AddCallbackGauge("kam_kpi_accounts", "Accounts in this instance's KPI book.",
                                   [&kpis] { return static_cast<double>(kpis.accounts()); });
  // The global tables bootstrap before any task runs, as Kafka Streams' global stores do: a task
  // that asked an empty silence book or view would store "not silenced, not grouped" with its
  // changes for good.
  for (int waited = 0; !(*follower)->CaughtUp(); ++waited) {
    if (waited % 500 == 0) kam::log::Info("reading the changelog before the tasks run", {});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return host.Run();
}
