// kam-accounts: wiring only. Logic in AccountsBook, gRPC translation in AccountsGrpcService, the
// process runtime (store, outbox relay, topics, health, reflection, metrics) in ServiceHost.
#include <CLI/CLI.hpp>

#include "common/kafka_topics.h"
#include "common/logging.h"
#include "common/service_host.h"
#include "services/accounts/accounts_book.h"
#include "services/accounts/grpc_service.h"
#include "services/accounts/policy.h"
#include "services/accounts/writer_role.h"

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

  // Internal topics belong to the application (consumer group), as in the other services.
  const std::string application =
      parsed.config.consumer_group.empty() ? "kam-accounts" : parsed.config.consumer_group;
  kam::accounts::WriterRole writer_role;
  kam::ServiceHost host(
      parsed.config,
      {.column_families = kam::accounts::AccountsBook::ColumnFamilies(),
       .output_topics = {kam::kafka_topics::kAccounts, kam::kafka_topics::kManagers},
       // One partition: whoever the group gives it to is the writer.
       .input_topics = {application + ".writer.v1"},
       // The book is changelogged in Kafka transactions fenced by the group's generation.
       .changelog = kam::kafka::ChangelogSpec{application + ".changelog.v1",
                                              kam::accounts::AccountsBook::TaskColumnFamilies()},
       .routes_calls = true,
       .input_partitions = 1,
       // Every other instance keeps the book as a hot standby and answers reads from it.
       .standby = true});
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
  auto book = kam::accounts::AccountsBook::Open(host.store(), host.committer(), host.ownership(),
                                                *policy, "kam-accounts page tokens|" + application);
  if (!book.ok()) {
    kam::log::Error("start failed", {{"error", book.status().ToString()}});
    return 1;
  }
  // The book in memory follows every restore: a standby's passes and the new writer's catch-up.
  host.SetRestoreListener(
      [b = book->get()](int32_t, const std::vector<kam::StoreRow>& rows, int64_t next, bool wiped) {
        absl::Status applied = b->ApplyChangelog(rows, static_cast<uint64_t>(next), wiped);
        // The store already holds these rows: a book that cannot follow them is broken.
        if (!applied.ok())
          kam::log::Fatal("book cannot follow the changelog", {{"error", applied.ToString()}});
      });
  host.SetProcessor(&writer_role);
  host.metrics()->AddCallbackGauge(
      "kam_accounts", "Accounts stored (open and closed).",
      [b = book->get()] { return static_cast<double>(b->account_count()); });
  host.metrics()->AddCallbackGauge("kam_managers", "Managers stored.", [b = book->get()] {
    return static_cast<double>(b->manager_count());
  });
  host.metrics()->AddCallbackGauge(
      "kam_accounts_writer", "1 while this instance is the writer of the accounts book, else 0.",
      [&writer_role] { return writer_role.writer() ? 1.0 : 0.0; });
  host.metrics()->AddCallbackCounter(
      "kam_accounts_writer_elections_total", "Times this instance became the writer.",
      [&writer_role] { return static_cast<double>(writer_role.elections_won()); });
  host.metrics()->AddCallbackGauge(
      "kam_accounts_book_version",
      "Changelog position the book reflects; the writer's minus a standby's is the standby's lag.",
      [b = book->get()] { return static_cast<double>(b->version()); });
  kam::accounts::AccountsGrpcService service(book->get(), host.router(), host.rpc_metrics());
  host.AddService(&service);
  return host.Run();
}
