// kam-interactions: wiring only. Logic in InteractionsBook (records, health, account replica),
// gRPC translation in InteractionsGrpcService, process runtime in ServiceHost.
#include <CLI/CLI.hpp>

#include "common/kafka_topics.h"
#include "common/logging.h"
#include "common/service_host.h"
#include "services/interactions/grpc_service.h"
#include "services/interactions/interactions_book.h"

int main(int argc, char** argv) {
  kam::interactions::InteractionsOptions options;
  int nps_window_days = 90;
  kam::ParseOutcome parsed = kam::ParseServiceConfig(
      argc, argv, {"kam-interactions", "127.0.0.1:50052", "127.0.0.1:9462", "var/interactions"},
      [&](CLI::App& app) {
        app.add_option("--nps-window-days", nps_window_days, "window of NPS and CSAT in health")
            ->check(CLI::Range(1, 3650))
            ->envname("KAM_NPS_WINDOW_DAYS");
        app.add_option("--replica-wait-ms", options.replica_wait_millis,
                       "how long RecordInteraction waits for a just-created account to arrive")
            ->check(CLI::Range(0, 30000))
            ->envname("KAM_REPLICA_WAIT_MS");
      });
  if (parsed.exit) return parsed.exit_code;
  options.health.nps_window_millis = int64_t{nps_window_days} * 24 * 3600 * 1000;

  // Internal topics belong to the application (consumer group), as in kam-alerts.
  const std::string application =
      parsed.config.consumer_group.empty() ? "kam-interactions" : parsed.config.consumer_group;
  // Instances that share the work share the page-token secret (any of them continues a listing).
  options.page_token_secret = "kam-interactions page tokens|" + application;

  // Each account's interactions, health and idempotency records belong to the task of its
  // partition: changelogged in Kafka transactions, restored where the task moves. Any instance
  // answers any call (forwarded to the task's owner).
  kam::ServiceHost host(
      parsed.config,
      {.column_families = kam::interactions::InteractionsBook::ColumnFamilies(),
       .output_topics = {kam::kafka_topics::kInteractions, kam::kafka_topics::kDeadLetter},
       .input_topics = {kam::kafka_topics::kAccounts},
       .co_partitioned = {{kam::kafka_topics::kAccounts, kam::kafka_topics::kInteractions}},
       // The replica must be current before calls are answered from it.
       .restore_to_end = true,
       .changelog =
           kam::kafka::ChangelogSpec{application + ".changelog.v1",
                                     kam::interactions::InteractionsBook::TaskColumnFamilies()},
       .routes_calls = true});
  absl::Status opened = host.Open();
  if (!opened.ok()) {
    kam::log::Error("start failed", {{"error", opened.ToString()}});
    return 1;
  }
  auto book = kam::interactions::InteractionsBook::Open(host.store(), host.committer(),
                                                        host.ownership(), options);
  if (!book.ok()) {
    kam::log::Error("start failed", {{"error", book.status().ToString()}});
    return 1;
  }
  host.SetProcessor((*book)->account_replica());
  kam::interactions::InteractionsGrpcService service(book->get(), host.router(), host.rpc_metrics(),
                                                     options.max_batch_items);
  host.AddService(&service);
  return host.Run();
}
