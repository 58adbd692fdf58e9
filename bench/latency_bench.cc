// End-to-end latency: from RecordInteraction returning to the alert's CloudEvent on
// kam.alerts.v1, at a steady rate. The three services run as processes on a real Kafka broker,
// driven through gRPC only; an observer consumes kam.alerts.v1 as an operator's tool would.
//
// Every measured call records a support request dated three days back: the partition's clock is
// already at "now" (a warm-up call per account moved it there), so RESPONSE_OVERDUE fires for
// exactly that request; its fingerprint names the request, which pairs each call with its alert.
//
//   bench/run-latency-bench [--rate 50] [--seconds 20] [--accounts 50]
// (starts a throw-away Apache Kafka broker and passes --brokers to this program)
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "common/mutex.h"
#include "absl/strings/str_cat.h"
#include "common/fingerprint.h"
#include "common/kafka/kafka_common.h"
#include "common/kafka_topics.h"
#include "common/logging.h"
#include "common/time_util.h"
#include "kam/v1/accounts.grpc.pb.h"
#include "kam/v1/interactions.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/testing/grpc_call.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace {

using Clock = std::chrono::steady_clock;

// Pairs calls with the CloudEvents they cause.
class Latencies {
 public:
  void Sent(const std::string& fingerprint, Clock::time_point returned) {
    kam::MutexLock lock(&mutex_);
    auto arrived = early_.find(fingerprint);
    if (arrived != early_.end()) {
      // The event overtook the call's return (the outbox relay is that fast): latency <= 0.
      latencies_ms_.push_back(Millis(arrived->second - returned));
      early_.erase(arrived);
      return;
    }
    returned_[fingerprint] = returned;
  }
  void Arrived(const std::string& fingerprint, Clock::time_point at) {
    kam::MutexLock lock(&mutex_);
    auto sent = returned_.find(fingerprint);
    if (sent == returned_.end()) {
      early_[fingerprint] = at;
      return;
    }
    latencies_ms_.push_back(Millis(at - sent->second));
    returned_.erase(sent);
  }
  size_t measured() {
    kam::MutexLock lock(&mutex_);
    return latencies_ms_.size();
  }
  std::vector<double> Sorted() {
    kam::MutexLock lock(&mutex_);
    std::vector<double> sorted = latencies_ms_;
    std::sort(sorted.begin(), sorted.end());
    return sorted;
  }

 private:
  static double Millis(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  }
  kam::Mutex mutex_;
  std::map<std::string, Clock::time_point> returned_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, Clock::time_point> early_ ABSL_GUARDED_BY(mutex_);
  std::vector<double> latencies_ms_ ABSL_GUARDED_BY(mutex_);
};

// Consumes kam.alerts.v1 from its current end and reports every RESPONSE_OVERDUE firing.
class AlertObserver {
 public:
  bool Start(const std::string& brokers, Latencies* latencies) {
    kam::kafka::KafkaOptions options;
    options.brokers = brokers;
    auto conf = kam::kafka::NewConf(options, {{"group.id", "bench-latency-observer"},
                                              {"enable.auto.commit", "false"},
                                              {"fetch.wait.max.ms", "10"}});
    if (!conf.ok()) return false;
    auto handle = kam::kafka::NewHandle(RD_KAFKA_CONSUMER, *conf);
    if (!handle.ok()) return false;
    consumer_ = std::move(*handle);
    auto partitions =
        kam::kafka::PartitionCount(consumer_.get(), kam::kafka_topics::kAlerts, 10000);
    if (!partitions.ok()) return false;
    // Explicit end offsets, so that nothing published after Start is missed.
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(*partitions);
    for (int32_t p = 0; p < *partitions; ++p) {
      int64_t low = 0, high = 0;
      if (rd_kafka_query_watermark_offsets(consumer_.get(), kam::kafka_topics::kAlerts, p, &low,
                                           &high, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_topic_partition_list_destroy(list);
        return false;
      }
      rd_kafka_topic_partition_list_add(list, kam::kafka_topics::kAlerts, p)->offset = high;
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    thread_ = std::thread([this, latencies] {
      while (!stop_.load()) {
        rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_.get(), 100);
        if (message == nullptr) continue;
        auto at = Clock::now();
        if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          auto event = nlohmann::json::parse(
              std::string(static_cast<const char*>(message->payload), message->len), nullptr,
              false);
          if (!event.is_discarded() && event.value("type", "") == "dev.kam.alert.fired" &&
              event["data"].value("rule", "") == "ALERT_RULE_RESPONSE_OVERDUE") {
            latencies->Arrived(event.value("subject", ""), at);
          }
        }
        rd_kafka_message_destroy(message);
      }
    });
    return true;
  }
  ~AlertObserver() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    if (consumer_) rd_kafka_consumer_close(consumer_.get());
  }

 private:
  kam::kafka::HandlePtr consumer_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * sorted.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  std::string brokers;
  double rate = 50;
  double seconds = 20;
  int accounts = 50;
  CLI::App app{"kam-bench-latency: RecordInteraction returned -> CloudEvent on kam.alerts.v1"};
  app.add_option("--brokers", brokers, "a real Kafka broker (bench/run-latency-bench starts one)")
      ->required();
  app.add_option("--rate", rate, "calls per second, steady")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--seconds", seconds, "duration of the measured load")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--accounts", accounts)->check(CLI::PositiveNumber)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  kam::log::SetLevel(kam::log::Level::kWarn);

  kam::testing::TempDir dir;
  auto accounts_service =
      kam::testing::StartService("kam-accounts", brokers, dir.Sub("a"), dir.Sub("a.log"));
  auto interactions_service =
      kam::testing::StartService("kam-interactions", brokers, dir.Sub("i"), dir.Sub("i.log"));
  auto alerts_service =
      kam::testing::StartService("kam-alerts", brokers, dir.Sub("x"), dir.Sub("x.log"));
  if (!accounts_service.process || !interactions_service.process || !alerts_service.process) {
    std::fprintf(stderr, "a service did not start\n");
    return 1;
  }
  auto accounts_stub = kam::v1::AccountsService::NewStub(
      grpc::CreateChannel(accounts_service.address, grpc::InsecureChannelCredentials()));
  auto interactions_stub = kam::v1::InteractionsService::NewStub(
      grpc::CreateChannel(interactions_service.address, grpc::InsecureChannelCredentials()));

  kam::v1::CreateManagerRequest create_manager;
  create_manager.mutable_manager()->set_name("Latency Lee");
  create_manager.mutable_manager()->set_email("lee@example.com");
  create_manager.mutable_manager()->set_capacity(1000);  // never overloaded here
  kam::v1::Manager manager;
  if (!kam::testing::Call(accounts_stub.get(), &kam::v1::AccountsService::Stub::CreateManager,
                          create_manager, &manager)
           .ok()) {
    return 1;
  }
  std::vector<std::string> account_ids;
  for (int a = 0; a < accounts; ++a) {
    kam::v1::CreateAccountRequest create;
    create.mutable_account()->set_name("Latency account " + std::to_string(a));
    create.mutable_account()->set_industry(kam::v1::INDUSTRY_SERVICES);
    create.mutable_account()->mutable_annual_revenue()->set_amount_minor(1000000);
    create.mutable_account()->mutable_annual_revenue()->set_currency("EUR");
    create.mutable_account()->set_owner_manager_id(manager.id());
    kam::v1::Account account;
    if (!kam::testing::Call(accounts_stub.get(), &kam::v1::AccountsService::Stub::CreateAccount,
                            create, &account)
             .ok()) {
      return 1;
    }
    account_ids.push_back(account.id());
  }
  // Warm-up: a call per account brings every partition's clock to now (and waits, through the
  // replica, until kam-interactions knows the accounts).
  for (const auto& id : account_ids) {
    kam::v1::RecordInteractionRequest call;
    call.mutable_interaction()->set_account_id(id);
    call.mutable_interaction()->set_type(kam::v1::INTERACTION_TYPE_CALL);
    kam::v1::Interaction recorded;
    grpc::Status status =
        kam::testing::Call(interactions_stub.get(),
                           &kam::v1::InteractionsService::Stub::RecordInteraction, call, &recorded);
    if (!status.ok()) {
      std::fprintf(stderr, "warm-up: %s\n", status.error_message().c_str());
      return 1;
    }
  }

  Latencies latencies;
  AlertObserver observer;
  if (!observer.Start(brokers, &latencies)) {
    std::fprintf(stderr, "cannot consume %s\n", kam::kafka_topics::kAlerts);
    return 1;
  }
  const int total = static_cast<int>(rate * seconds);
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  const auto start = Clock::now();
  int failed = 0;
  for (int i = 0; i < total; ++i) {
    // Open loop: call i starts at start + i * interval, however long earlier calls took.
    std::this_thread::sleep_until(start +
                                  std::chrono::duration_cast<Clock::duration>(i * interval));
    const std::string& account = account_ids[i % account_ids.size()];
    const std::string id = absl::StrCat("lat_", i);
    kam::v1::RecordInteractionRequest request;
    request.set_request_id(id);
    auto* interaction = request.mutable_interaction();
    interaction->set_id(id);
    interaction->set_account_id(account);
    interaction->set_type(kam::v1::INTERACTION_TYPE_SUPPORT_REQUEST);
    interaction->set_note("cannot log in");
    *interaction->mutable_occur_time() =
        kam::TimestampFromMillis(kam::MillisFromTimestamp(kam::NowTimestamp()) - 3 * 86400000LL);
    kam::v1::Interaction recorded;
    grpc::Status status = kam::testing::Call(interactions_stub.get(),
                                             &kam::v1::InteractionsService::Stub::RecordInteraction,
                                             request, &recorded);
    auto returned = Clock::now();
    if (!status.ok()) {
      ++failed;
      continue;
    }
    latencies.Sent(kam::Sha256Hex(absl::StrCat("ALERT_RULE_RESPONSE_OVERDUE|", account, "/", id))
                       .substr(0, 16),
                   returned);
  }
  const double sent_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  auto wait_until = Clock::now() + std::chrono::seconds(60);
  while (latencies.measured() < static_cast<size_t>(total - failed) && Clock::now() < wait_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::vector<double> sorted = latencies.Sorted();
  std::printf("%d calls at %.0f/s over %.1f s (%d failed); %zu alerts paired, %zu missing\n\n",
              total, total / sent_seconds, sent_seconds, failed, sorted.size(),
              static_cast<size_t>(total - failed) - sorted.size());
  std::printf("| rate | p50 ms | p90 ms | p99 ms | max ms |\n|---:|---:|---:|---:|---:|\n");
  std::printf("| %.0f/s | %.1f | %.1f | %.1f | %.1f |\n", rate, Percentile(sorted, 0.50),
              Percentile(sorted, 0.90), Percentile(sorted, 0.99),
              sorted.empty() ? 0 : sorted.back());
  return sorted.size() == static_cast<size_t>(total - failed) ? 0 : 1;
}
