// gRPC ingest benchmark: RecordInteraction throughput and latency at 1, 16 and 64 concurrent
// callers, next to the same kind of server answering with an empty handler (the ceiling), in the
// same process and the same run. The kam server is the real stack: InteractionsBook over RocksDB
// with the outbox relay publishing to the embedded broker while the load runs.
//
//   build/bin/kam-bench-ingest [--seconds 5] [--callers 1,16,64]
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "bench/empty_interactions.h"
#include "common/kafka/publisher.h"
#include "common/kafka_topics.h"
#include "common/logging.h"
#include "common/outbox_relay.h"
#include "common/record_applier.h"
#include "common/rpc_metrics.h"
#include "services/interactions/grpc_service.h"
#include "tests/testing/temp_dir.h"
#include "tools/broker/mock_broker.h"

namespace {

using Clock = std::chrono::steady_clock;

// The ceiling: the same RPC, answered without doing anything.
using kam::bench::EmptyInteractions;

struct Result {
  double rps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  uint64_t errors = 0;
};

Result Load(const std::string& address, int callers, double seconds, int accounts) {
  auto channel_args = grpc::ChannelArguments();
  std::vector<std::thread> threads;
  std::vector<std::vector<double>> latencies(callers);
  std::atomic<uint64_t> errors{0};
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  // A few channels, as real clients spread over connections.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int c = 0; c < std::min(callers, 4); ++c) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", c);  // distinct channels, not one shared subchannel
    channels.push_back(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  }
  for (int t = 0; t < callers; ++t) {
    threads.emplace_back([&, t] {
      auto stub = kam::v1::InteractionsService::NewStub(channels[t % channels.size()]);
      for (uint64_t i = 0; Clock::now() < deadline; ++i) {
        kam::v1::RecordInteractionRequest request;
        auto* interaction = request.mutable_interaction();
        interaction->set_account_id("acc_" + std::to_string((t * 7919 + i) % accounts));
        interaction->set_type(kam::v1::INTERACTION_TYPE_CALL);
        interaction->set_channel(kam::v1::CHANNEL_PHONE);
        interaction->set_note("benchmark call");
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        kam::v1::Interaction response;
        auto start = Clock::now();
        grpc::Status status = stub->RecordInteraction(&context, request, &response);
        latencies[t].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        if (!status.ok()) errors.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Result result;
  result.rps = all.size() / seconds;
  if (!all.empty()) {
    result.p50_ms = all[all.size() / 2];
    result.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  result.errors = errors.load();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  std::vector<int> callers = {1, 16, 64};
  int accounts = 1000;
  CLI::App app{"kam-bench-ingest: RecordInteraction vs an empty handler"};
  app.add_option("--seconds", seconds, "per measurement")->capture_default_str();
  app.add_option("--callers", callers, "concurrent callers")->delimiter(',')->capture_default_str();
  app.add_option("--accounts", accounts)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  kam::log::SetLevel(kam::log::Level::kWarn);

  kam::testing::TempDir dir;
  auto broker = kam::MockBroker::Start(1, 3, "");
  if (!broker.ok()) return 1;
  auto store = kam::Store::Open({.path = dir.Sub("db")},
                                kam::interactions::InteractionsBook::ColumnFamilies());
  auto outbox = kam::Outbox::Open(store->get());
  if (!store.ok() || !outbox.ok()) return 1;
  // One instance serving every account (the logic's own cost; forwarding is measured apart).
  kam::OutboxCommitter committer(store->get(), outbox->get());
  kam::SingleTaskOwnership ownership;
  auto book = kam::interactions::InteractionsBook::Open(store->get(), &committer, &ownership, {});
  if (!book.ok()) return 1;
  // The account replica, as the consumer would have built it.
  kam::RecordApplier replica(store->get(), outbox->get(), (*book)->account_replica(), "bench");
  for (int i = 0; i < accounts; ++i) {
    kam::v1::EventEnvelope envelope;
    envelope.mutable_account_created()->mutable_account()->set_id("acc_" + std::to_string(i));
    envelope.mutable_account_created()->mutable_account()->set_owner_manager_id("mgr_1");
    if (!replica
             .Apply({kam::kafka_topics::kAccounts, 0, i, "acc_" + std::to_string(i),
                     envelope.SerializeAsString(), 0})
             .ok()) {
      return 1;
    }
  }
  // The relay publishes to the embedded broker while the load runs, as in production.
  std::atomic<bool> stop{false};
  kam::kafka::KafkaOptions kafka_options;
  kafka_options.brokers = (*broker)->bootstrap();
  auto publisher = kam::kafka::KafkaPublisher::Create(kafka_options, "bench/1", &stop);
  if (!publisher.ok()) return 1;
  kam::OutboxRelay relay(
      outbox->get(), publisher->get(),
      {.topics = {kam::kafka_topics::kInteractions, kam::kafka_topics::kDeadLetter}});
  std::thread relay_thread([&] { relay.Run(stop); });

  kam::MetricsRegistry registry;
  kam::RpcMetrics metrics(&registry);
  kam::interactions::InteractionsGrpcService service(book->get(), /*router=*/nullptr, &metrics);
  EmptyInteractions empty;
  auto start_server = [](grpc::Service* svc, int* port) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), port);
    builder.RegisterService(svc);
    return builder.BuildAndStart();
  };
  int kam_port = 0, empty_port = 0;
  auto kam_server = start_server(&service, &kam_port);
  auto empty_server = start_server(&empty, &empty_port);

  std::printf(
      "| callers | empty handler rps | p50 ms | p99 ms | RecordInteraction rps | p50 ms | p99 ms | "
      "ratio |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int c : callers) {
    Result ceiling = Load("127.0.0.1:" + std::to_string(empty_port), c, seconds, accounts);
    Result real = Load("127.0.0.1:" + std::to_string(kam_port), c, seconds, accounts);
    std::printf("| %d | %.0f | %.2f | %.2f | %.0f | %.2f | %.2f | %.0f%% |\n", c, ceiling.rps,
                ceiling.p50_ms, ceiling.p99_ms, real.rps, real.p50_ms, real.p99_ms,
                100 * real.rps / ceiling.rps);
    if (real.errors + ceiling.errors > 0) {
      std::printf("  (errors: kam %lu, empty %lu)\n", static_cast<unsigned long>(real.errors),
                  static_cast<unsigned long>(ceiling.errors));
    }
    std::fflush(stdout);
  }
  auto pending = (*outbox)->CountPending();
  std::printf("\noutbox rows still pending after the load: %lu (published so far: %lu)\n",
              static_cast<unsigned long>(pending.value_or(0)),
              static_cast<unsigned long>(relay.published_total()));
  kam_server->Shutdown();
  empty_server->Shutdown();
  stop.store(true);
  relay_thread.join();
  return 0;
}
