// Resident memory of each service after a large book: imports N accounts (ImportAccounts, 10,000
// rows a call) and records M interactions (BatchRecordInteractions, 8 callers), waits until
// kam-alerts has applied them, then reads VmRSS of the three service processes.
//
//   bench/run-memory-bench [--accounts 100000] [--interactions 1000000]
// (starts a throw-away Apache Kafka broker and the three services; passes their pids here)
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "kam/v1/accounts.grpc.pb.h"
#include "kam/v1/interactions.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string Rss(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return line.substr(6);
  }
  return "?";
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string accounts_addr = "127.0.0.1:50051", interactions_addr = "127.0.0.1:50052";
  int accounts = 100000, interactions = 1000000;
  std::vector<int> pids;
  std::vector<std::string> names;
  CLI::App app{"kam-bench-memory: RSS of the services after a large book"};
  app.add_option("--accounts-addr", accounts_addr);
  app.add_option("--interactions-addr", interactions_addr);
  app.add_option("--accounts", accounts)->capture_default_str();
  app.add_option("--interactions", interactions)->capture_default_str();
  app.add_option("--pid", pids, "service pids to measure")->required();
  app.add_option("--name", names, "their names, in the same order")->required();
  CLI11_PARSE(app, argc, argv);

  auto accounts_stub = kam::v1::AccountsService::NewStub(
      grpc::CreateChannel(accounts_addr, grpc::InsecureChannelCredentials()));
  std::vector<std::string> ids;
  auto start = Clock::now();
  for (int first = 0; first < accounts; first += 10000) {
    kam::v1::ImportAccountsRequest request;
    for (int i = first; i < std::min(accounts, first + 10000); ++i) {
      auto* row = request.add_rows();
      row->set_request_id("mem-" + std::to_string(i));
      auto* account = row->mutable_account();
      account->set_name("Memory Account " + std::to_string(i));
      account->set_industry(kam::v1::INDUSTRY_TRADITIONAL_B2B);
      account->add_regions("DE");
      account->mutable_annual_revenue()->set_amount_minor(100000 + (i * 7919) % 10000000);
      account->mutable_annual_revenue()->set_currency("EUR");
    }
    grpc::ClientContext context;
    kam::v1::ImportAccountsResponse response;
    grpc::Status status = accounts_stub->ImportAccounts(&context, request, &response);
    if (!status.ok() || !response.applied()) {
      std::fprintf(stderr, "import failed: %s\n", status.error_message().c_str());
      return 1;
    }
    for (const auto& result : response.results()) ids.push_back(result.account_id());
  }
  std::printf("imported %d accounts in %.1f s\n", accounts, Seconds(start));

  start = Clock::now();
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 8; ++t) {
    callers.emplace_back([&] {
      auto stub = kam::v1::InteractionsService::NewStub(
          grpc::CreateChannel(interactions_addr, grpc::InsecureChannelCredentials()));
      while (true) {
        int first = next.fetch_add(1000);
        if (first >= interactions) return;
        kam::v1::BatchRecordInteractionsRequest batch;
        for (int i = first; i < std::min(interactions, first + 1000); ++i) {
          auto* interaction = batch.add_requests()->mutable_interaction();
          interaction->set_account_id(ids[i % ids.size()]);
          if (i % 4 == 0) {
            interaction->set_type(kam::v1::INTERACTION_TYPE_SURVEY);
            interaction->mutable_survey()->set_nps(i % 11);
          } else {
            interaction->set_type(kam::v1::INTERACTION_TYPE_CALL);
            interaction->set_note("call");
          }
        }
        for (int attempt = 0; attempt < 30; ++attempt) {
          grpc::ClientContext context;
          kam::v1::BatchRecordInteractionsResponse response;
          if (!stub->BatchRecordInteractions(&context, batch, &response).ok()) break;
          kam::v1::BatchRecordInteractionsRequest retry;  // accounts still on their way: again
          for (const auto& result : response.results()) {
            if (result.code() == static_cast<int>(grpc::StatusCode::NOT_FOUND)) {
              *retry.add_requests() = batch.requests(result.index());
            } else if (result.code() != 0) {
              failed.fetch_add(1);
            }
          }
          if (retry.requests_size() == 0) break;
          batch = std::move(retry);
        }
      }
    });
  }
  for (auto& caller : callers) caller.join();
  std::printf("recorded %d interactions in %.1f s (%d refused)\n", interactions, Seconds(start),
              failed.load());
  std::printf("\n| service | VmRSS |\n|---|---:|\n");
  for (size_t i = 0; i < pids.size() && i < names.size(); ++i) {
    std::printf("| %s | %s |\n", names[i].c_str(), Rss(pids[i]).c_str());
  }
  return 0;
}
