// Several instances of a service, driven through gRPC only (bench/run-instances-bench starts the
// processes on a throw-away Apache Kafka broker and passes their addresses):
//   kam-bench-instances seed --brokers B --accounts N --prefix P
//       writes N AccountCreated events to kam.accounts.v1 (keyed, Kafka's partitioner);
//   kam-bench-instances ingest --targets a,b,c --accounts N --prefix P --callers C --seconds S
//       C callers record interactions on random accounts through the targets in turn; prints
//       calls/s and latency percentiles;
//   kam-bench-instances forward --targets a,b,c --metrics m1,m2,m3 --accounts N --prefix P
//       sorts (target, account) pairs into local and forwarded by the target's
//       kam_forwarded_calls_total, then times one caller's calls of each kind;
//   kam-bench-instances writes --targets a,b,c --seconds S
//       creates accounts through the targets in turn, retrying UNAVAILABLE, and prints the
//       wall-clock millisecond of every accepted write (the fail-over gap is read off these).
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/kafka/kafka_common.h"
#include "common/time_util.h"
#include "kam/v1/accounts.grpc.pb.h"
#include "kam/v1/interactions.grpc.pb.h"
#include "tests/testing/alert_stream.h"
#include "tests/testing/service_process.h"
#include "tests/testing/topic_reader.h"

namespace {

using Clock = std::chrono::steady_clock;
using kam::v1::InteractionsService;

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(q * values.size()))];
}

std::string Account(const std::string& prefix, int n) { return absl::StrCat(prefix, "-", n); }

kam::v1::RecordInteractionRequest Meeting(const std::string& account, const std::string& id) {
  kam::v1::RecordInteractionRequest request;
  request.set_request_id(id);
  request.mutable_interaction()->set_account_id(account);
  request.mutable_interaction()->set_type(kam::v1::INTERACTION_TYPE_MEETING);
  return request;
}

// One call; its latency in milliseconds, negative when it failed.
double Record(InteractionsService::Stub* stub, const kam::v1::RecordInteractionRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  kam::v1::Interaction recorded;
  auto start = Clock::now();
  grpc::Status status = stub->RecordInteraction(&context, request, &recorded);
  double millis = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return status.ok() ? millis : -1;
}

std::vector<std::unique_ptr<InteractionsService::Stub>> Stubs(
    const std::vector<std::string>& targets) {
  std::vector<std::unique_ptr<InteractionsService::Stub>> stubs;
  for (const auto& target : targets) {
    stubs.push_back(InteractionsService::NewStub(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials())));
  }
  return stubs;
}

int Seed(const std::string& brokers, int accounts, const std::string& prefix) {
  kam::kafka::KafkaOptions options;
  options.brokers = brokers;
  if (!kam::kafka::EnsureTopics(options, {"kam.accounts.v1", "kam.interactions.v1"}, 3, 30000)
           .ok()) {
    std::fprintf(stderr, "topics not created\n");
    return 1;
  }
  std::map<int32_t, std::vector<std::pair<std::string, std::string>>> records;
  for (int n = 0; n < accounts; ++n) {
    const std::string id = Account(prefix, n);
    records[kam::kafka::PartitionOfKey(id, 3)].emplace_back(
        id, kam::testing::AccountCreatedEvent(id, "mgr-bench"));
  }
  for (const auto& [partition, batch] : records) {
    if (!kam::testing::ProduceRecords(brokers, "kam.accounts.v1", partition, batch)) return 1;
  }
  return 0;
}

int Ingest(const std::vector<std::string>& targets, int accounts, const std::string& prefix,
           int callers, int seconds) {
  auto stubs = Stubs(targets);
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(callers);
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  const std::string run = std::to_string(kam::MillisFromTimestamp(kam::NowTimestamp()));
  auto start = Clock::now();
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 random(c);
      for (int n = 0; !stop.load(); ++n) {
        auto* stub = stubs[(c + n) % stubs.size()].get();
        double millis = Record(
            stub, Meeting(Account(prefix, random() % accounts), absl::StrCat(run, "-", c, "-", n)));
        if (millis < 0) {
          ++failed;
        } else {
          latencies[c].push_back(millis);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& thread : threads) thread.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (const auto& caller : latencies) all.insert(all.end(), caller.begin(), caller.end());
  std::printf("| %zu | %d | %.0f | %.1f | %.1f | %d |\n", targets.size(), callers,
              all.size() / elapsed, Percentile(all, 0.5), Percentile(all, 0.99), failed.load());
  return 0;
}

int Forward(const std::vector<std::string>& targets, const std::vector<std::string>& metrics,
            int accounts, const std::string& prefix, int calls) {
  auto stubs = Stubs(targets);
  const std::string run = std::to_string(kam::MillisFromTimestamp(kam::NowTimestamp()));
  // (target, account) pairs, sorted by whether the target forwarded the call.
  std::vector<std::pair<int, int>> local, forwarded;
  auto forwarded_total = [&](size_t t) {
    double sum = 0;
    std::string text = kam::testing::Shell("curl -s http://" + metrics[t] + "/metrics");
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (line.substr(0, 26) != "kam_forwarded_calls_total{") continue;
      sum += std::stod(std::string(line.substr(line.rfind(' ') + 1)));
    }
    return sum;
  };
  int n = 0;
  for (size_t t = 0; t < targets.size(); ++t) {
    for (int a = 0; a < std::min(accounts, 30); ++a) {
      double before = forwarded_total(t);
      if (Record(stubs[t].get(), Meeting(Account(prefix, a), absl::StrCat(run, "-w", n++))) < 0) {
        continue;
      }
      (forwarded_total(t) > before ? forwarded : local).emplace_back(t, a);
    }
  }
  auto time = [&](const std::vector<std::pair<int, int>>& pairs) {
    std::vector<double> latencies;
    for (int i = 0; i < calls && !pairs.empty(); ++i) {
      const auto& [t, a] = pairs[i % pairs.size()];
      double millis =
          Record(stubs[t].get(), Meeting(Account(prefix, a), absl::StrCat(run, "-m", n++)));
      if (millis >= 0) latencies.push_back(millis);
    }
    return latencies;
  };
  auto here = time(local);
  auto there = time(forwarded);
  std::printf("| local | %zu | %.2f | %.2f |\n", here.size(), Percentile(here, 0.5),
              Percentile(here, 0.99));
  std::printf("| forwarded | %zu | %.2f | %.2f |\n", there.size(), Percentile(there, 0.5),
              Percentile(there, 0.99));
  return 0;
}

int Writes(const std::vector<std::string>& targets, int seconds) {
  std::vector<std::unique_ptr<kam::v1::AccountsService::Stub>> stubs;
  for (const auto& target : targets) {
    stubs.push_back(kam::v1::AccountsService::NewStub(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials())));
  }
  const std::string run = std::to_string(kam::MillisFromTimestamp(kam::NowTimestamp()));
  auto until = Clock::now() + std::chrono::seconds(seconds);
  for (int n = 0; Clock::now() < until;) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    kam::v1::CreateAccountRequest request;
    request.set_request_id(absl::StrCat(run, "-", n));
    request.mutable_account()->set_name(absl::StrCat("Bench ", run, " ", n));
    request.mutable_account()->set_industry(kam::v1::INDUSTRY_SERVICES);
    request.mutable_account()->mutable_annual_revenue()->set_currency("EUR");
    request.mutable_account()->mutable_annual_revenue()->set_amount_minor(100000000);
    kam::v1::Account created;
    grpc::Status status = stubs[n % stubs.size()]->CreateAccount(&context, request, &created);
    if (status.ok()) {
      std::printf("%lld\n", static_cast<long long>(kam::MillisFromTimestamp(kam::NowTimestamp())));
      std::fflush(stdout);
      ++n;
    } else if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
               status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      std::fprintf(stderr, "write refused: %s\n", status.error_message().c_str());
      return 1;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("kam-bench-instances: several instances of a service, through gRPC");
  app.require_subcommand(1);
  std::string brokers, prefix = "bench-acc", targets, metrics;
  int accounts = 3000, callers = 16, seconds = 10, calls = 2000;
  auto* seed = app.add_subcommand("seed");
  seed->add_option("--brokers", brokers)->required();
  seed->add_option("--accounts", accounts);
  seed->add_option("--prefix", prefix);
  auto* ingest = app.add_subcommand("ingest");
  auto* forward = app.add_subcommand("forward");
  auto* writes = app.add_subcommand("writes");
  for (auto* sub : {ingest, forward, writes}) sub->add_option("--targets", targets)->required();
  for (auto* sub : {ingest, forward}) {
    sub->add_option("--accounts", accounts);
    sub->add_option("--prefix", prefix);
  }
  ingest->add_option("--callers", callers);
  ingest->add_option("--seconds", seconds);
  writes->add_option("--seconds", seconds);
  forward->add_option("--metrics", metrics)->required();
  forward->add_option("--calls", calls);
  CLI11_PARSE(app, argc, argv);
  std::vector<std::string> target_list = absl::StrSplit(targets, ',', absl::SkipEmpty());
  if (seed->parsed()) return Seed(brokers, accounts, prefix);
  if (ingest->parsed()) return Ingest(target_list, accounts, prefix, callers, seconds);
  if (writes->parsed()) return Writes(target_list, seconds);
  std::vector<std::string> metric_list = absl::StrSplit(metrics, ',', absl::SkipEmpty());
  return Forward(target_list, metric_list, accounts, prefix, calls);
}
