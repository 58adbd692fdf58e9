// kam-accounts: wiring only. Logic in AccountsBook, gRPC translation in AccountsGrpcService, the
// process runtime (store, outbox relay, topics, health, reflection, metrics) in ServiceHost.
#include <CLI/CLI.hpp>

#include "common/kafka_topics.h"
#include "common/logging.h"
#include "common/rpc_metrics.h"
#include "common/service_host.h"
#include "services/accounts/accounts_book.h"
#include "services/accounts/grpc_service.h"
#include "services/accounts/policy.h"

int main(int argc, char** argv) {
  std::string policy_file;
  kam::ParseOutcome parsed = kam::ParseServiceConfig(
      argc, argv, {"kam-accounts", "127.0.0.1:50051", "127.0.0.1:9461", "var/accounts"},
      [&](CLI::App& app) {
        app.add_option("--policy-file", policy_file,
                       "JSON file overriding tier thresholds, weights, capacities and rates")
            ->envname("KAM_POLICY_FILE");
      });
  if (parsed.exit) return parsed.exit_code;

  kam::ServiceHost host(
      parsed.config,
      {.column_families = kam::accounts::AccountsBook::ColumnFamilies(),
       .output_topics = {kam::kafka_topics::kAccounts, kam::kafka_topics::kManagers}});
  auto policy = kam::accounts::LoadPolicy(policy_file);
  if (!policy.ok()) {
    kam::log::Error("start failed", {{"error", policy.status().ToString()}});
    return 2;
  }
  absl::Status opened = host.Open();
  if (!opened.ok()) {
    kam::log::Error("start failed", {{"error", opened.ToString()}});
    return 1;
  }
  auto book = kam::accounts::AccountsBook::Open(host.store(), host.outbox(), *policy);
  if (!book.ok()) {
    kam::log::Error("start failed", {{"error", book.status().ToString()}});
    return 1;
  }
  host.metrics()->AddCallbackGauge(
      "kam_accounts", "Accounts stored (open and closed).",
      [b = book->get()] { return static_cast<double>(b->account_count()); });
  host.metrics()->AddCallbackGauge("kam_managers", "Managers stored.", [b = book->get()] {
    return static_cast<double>(b->manager_count());
  });
  kam::RpcMetrics rpc_metrics(host.metrics());
  kam::accounts::AccountsGrpcService service(book->get(), &rpc_metrics);
  host.AddService(&service);
  return host.Run();
}
