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

#include "absl/strings/str_cat.h"
#include "common/fingerprint.h"
#include "common/kafka/kafka_common.h"
#include "common/kafka_topics.h"
#include "common/logging.h"
#include "common/mutex.h"
#include "common/time_util.h"
#include "kam/v1/accounts.grpc.pb.h"
#include "kam/v1/events.pb.h"
#include "kam/v1/interactions.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/testing/grpc_call.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace {

using SteadyClock = std::chrono::steady_clock;

double WallMillis() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The moments one measured call passes, in wall-clock milliseconds (Kafka's record timestamps are
// wall clock, so every hop is measured on that clock; all processes share this host's clock).
struct Hops {
  double returned = 0;             // RecordInteraction returned OK to the caller
  double interaction_visible = 0;  // its InteractionRecorded read (read_committed) by the observer
  double alert_produced = 0;       // the alert's record timestamp: kam-alerts produced it
  double alert_visible = 0;        // the alert's CloudEvent read (read_committed) by the observer
  bool complete() const {
    return returned > 0 && interaction_visible > 0 && alert_produced > 0 && alert_visible > 0;
  }
};

// Pairs each call with the records it causes, whichever arrives first.
class Journeys {
 public:
  void Returned(const std::string& id, double at) {
    kam::MutexLock lock(&mutex_);
    hops_[id].returned = at;
  }
  void InteractionVisible(const std::string& id, double at) {
    kam::MutexLock lock(&mutex_);
    hops_[id].interaction_visible = at;
  }
  void AlertVisible(const std::string& fingerprint, double produced, double at) {
    kam::MutexLock lock(&mutex_);
    auto id = id_of_fingerprint_.find(fingerprint);
    if (id == id_of_fingerprint_.end()) return;
    Hops& hops = hops_[id->second];
    if (hops.alert_visible > 0) ++duplicates_;
    hops.alert_produced = produced;
    hops.alert_visible = at;
  }
  void Expect(const std::string& id, const std::string& fingerprint) {
    kam::MutexLock lock(&mutex_);
    id_of_fingerprint_[fingerprint] = id;
  }
  size_t complete() {
    kam::MutexLock lock(&mutex_);
    return std::count_if(hops_.begin(), hops_.end(),
                         [](const auto& entry) { return entry.second.complete(); });
  }
  int duplicates() {
    kam::MutexLock lock(&mutex_);
    return duplicates_;
  }
  std::vector<Hops> Completed() {
    kam::MutexLock lock(&mutex_);
    std::vector<Hops> done;
    for (const auto& [id, hops] : hops_) {
      if (hops.complete()) done.push_back(hops);
    }
    return done;
  }

 private:
  kam::Mutex mutex_;
  std::map<std::string, Hops> hops_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::string> id_of_fingerprint_ ABSL_GUARDED_BY(mutex_);
  int duplicates_ ABSL_GUARDED_BY(mutex_) = 0;
};

// Consumes kam.interactions.v1 and kam.alerts.v1 from their current ends, read_committed, as an
// operator's tool would, and reports the measured interactions and RESPONSE_OVERDUE firings.
class Observer {
 public:
  bool Start(const std::string& brokers, Journeys* journeys) {
    kam::kafka::KafkaOptions options;
    options.brokers = brokers;
    // A short fetch wait, as an operator's latency-sensitive consumer would set it.
    auto conf = kam::kafka::NewConf(options, {{"group.id", "bench-latency-observer"},
                                              {"enable.auto.commit", "false"},
                                              {"isolation.level", "read_committed"},
                                              {"fetch.wait.max.ms", "5"}});
    if (!conf.ok()) return false;
    auto handle = kam::kafka::NewHandle(RD_KAFKA_CONSUMER, *conf);
    if (!handle.ok()) return false;
    consumer_ = std::move(*handle);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(8);
    for (const char* topic : {kam::kafka_topics::kInteractions, kam::kafka_topics::kAlerts}) {
      auto partitions = kam::kafka::PartitionCount(consumer_.get(), topic, 10000);
      if (!partitions.ok()) return false;
      // Explicit end offsets, so that nothing published after Start is missed.
      for (int32_t p = 0; p < *partitions; ++p) {
        auto end = kam::kafka::EndOffset(consumer_.get(), topic, p, 10000);
        if (!end.ok()) return false;
        rd_kafka_topic_partition_list_add(list, topic, p)->offset = *end;
      }
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    thread_ = std::thread([this, journeys] {
      while (!stop_.load()) {
        rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_.get(), 100);
        if (message == nullptr) continue;
        const double at = WallMillis();
        if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) Observe(*message, at, journeys);
        rd_kafka_message_destroy(message);
      }
    });
    return true;
  }
  ~Observer() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    if (consumer_) rd_kafka_consumer_close(consumer_.get());
  }

 private:
  static void Observe(const rd_kafka_message_t& message, double at, Journeys* journeys) {
    const std::string topic = rd_kafka_topic_name(message.rkt);
    if (topic == kam::kafka_topics::kInteractions) {
      kam::v1::EventEnvelope envelope;
      if (envelope.ParseFromArray(message.payload, static_cast<int>(message.len)) &&
          envelope.has_interaction_recorded()) {
        journeys->InteractionVisible(envelope.interaction_recorded().interaction().id(), at);
      }
      return;
    }
    auto event = nlohmann::json::parse(
        std::string(static_cast<const char*>(message.payload), message.len), nullptr, false);
    if (!event.is_discarded() && event.value("type", "") == "dev.kam.alert.fired" &&
        event["data"].value("rule", "") == "ALERT_RULE_RESPONSE_OVERDUE") {
      rd_kafka_timestamp_type_t type;
      const int64_t produced = rd_kafka_message_timestamp(&message, &type);
      journeys->AlertVisible(event.value("subject", ""), static_cast<double>(produced), at);
    }
  }

  kam::kafka::HandlePtr consumer_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(q * values.size()))];
}

// Calls that are in flight: the open-loop sender starts a call on schedule whether or not the
// earlier ones have returned, so each call's state lives on the heap until its callback.
struct PendingCall {
  grpc::ClientContext context;
  kam::v1::RecordInteractionRequest request;
  kam::v1::Interaction response;
};

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
  std::string json_out;
  app.add_option("--json-out", json_out, "also write the end-to-end figures here (bench/run-all)");
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

  Journeys journeys;
  Observer observer;
  if (!observer.Start(brokers, &journeys)) {
    std::fprintf(stderr, "cannot consume %s and %s\n", kam::kafka_topics::kInteractions,
                 kam::kafka_topics::kAlerts);
    return 1;
  }
  const int total = static_cast<int>(rate * seconds);
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  std::atomic<int> answered{0};
  std::atomic<int> failed{0};
  kam::Mutex call_mutex;
  std::vector<double> call_ms;  // guarded by call_mutex
  int late = 0;                 // calls started more than 5 ms after their scheduled time
  double max_lag_ms = 0;
  const auto start = SteadyClock::now();
  for (int i = 0; i < total; ++i) {
    // Open loop: call i starts at start + i * interval, however long earlier calls take; the
    // calls are asynchronous, so a slow answer never delays the next call.
    const auto scheduled = start + std::chrono::duration_cast<SteadyClock::duration>(i * interval);
    std::this_thread::sleep_until(scheduled);
    const auto sent = SteadyClock::now();
    const double lag_ms = std::chrono::duration<double, std::milli>(sent - scheduled).count();
    if (lag_ms > 5.0) ++late;
    max_lag_ms = std::max(max_lag_ms, lag_ms);
    const std::string& account = account_ids[i % account_ids.size()];
    const std::string id = absl::StrCat("lat_", i);
    auto* call = new PendingCall;
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    call->request.set_request_id(id);
    auto* interaction = call->request.mutable_interaction();
    interaction->set_id(id);
    interaction->set_account_id(account);
    interaction->set_type(kam::v1::INTERACTION_TYPE_SUPPORT_REQUEST);
    interaction->set_note("cannot log in");
    *interaction->mutable_occur_time() =
        kam::TimestampFromMillis(kam::MillisFromTimestamp(kam::NowTimestamp()) - 3 * 86400000LL);
    journeys.Expect(id,
                    kam::Sha256Hex(absl::StrCat("ALERT_RULE_RESPONSE_OVERDUE|", account, "/", id))
                        .substr(0, 16));
    interactions_stub->async()->RecordInteraction(
        &call->context, &call->request, &call->response,
        [call, id, sent, &journeys, &answered, &failed, &call_mutex,
         &call_ms](grpc::Status status) {
          if (status.ok()) {
            journeys.Returned(id, WallMillis());
            kam::MutexLock lock(&call_mutex);
            call_ms.push_back(
                std::chrono::duration<double, std::milli>(SteadyClock::now() - sent).count());
          } else {
            failed.fetch_add(1);
          }
          delete call;
          answered.fetch_add(1);
        });
  }
  const double offered_seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  auto wait_until = SteadyClock::now() + std::chrono::seconds(90);
  while ((answered.load() < total ||
          journeys.complete() < static_cast<size_t>(total - failed.load())) &&
         SteadyClock::now() < wait_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::vector<Hops> done = journeys.Completed();
  auto hop = [&](auto of) {
    std::vector<double> values;
    for (const Hops& h : done) values.push_back(of(h));
    return values;
  };
  const double offered_rate = total / offered_seconds;
  // Alerts delivered per second: from the first call's return to the last alert consumed.
  double first_returned = 0, last_visible = 0;
  for (const Hops& h : done) {
    if (first_returned == 0 || h.returned < first_returned) first_returned = h.returned;
    last_visible = std::max(last_visible, h.alert_visible);
  }
  const double delivered_rate =
      last_visible > first_returned ? done.size() * 1000.0 / (last_visible - first_returned) : 0;
  const bool rate_met = offered_rate >= 0.97 * rate && late <= total / 100;
  std::printf(
      "%d calls offered at %.0f/s over %.1f s (asked %.0f/s; %d started >5 ms late, max "
      "lag %.1f ms)%s\n",
      total, offered_rate, offered_seconds, rate, late, max_lag_ms,
      rate_met ? "" : "\nWARNING: the load generator did NOT offer the asked rate");
  std::printf(
      "%d failed; %zu alerts paired (%.0f/s delivered), %zu missing, %d delivered twice\n\n",
      failed.load(), done.size(), delivered_rate,
      static_cast<size_t>(total - failed.load()) - done.size(), journeys.duplicates());
  std::vector<double> calls;
  {
    kam::MutexLock lock(&call_mutex);
    calls = call_ms;
  }
  struct Row {
    const char* name;
    std::vector<double> values;
  };
  const std::vector<Row> rows = {
      {"**RecordInteraction returned -> alert consumed**",
       hop([](const Hops& h) { return h.alert_visible - h.returned; })},
      {"RecordInteraction call (client side)", calls},
      {"returned -> InteractionRecorded consumed",
       hop([](const Hops& h) { return h.interaction_visible - h.returned; })},
      {"InteractionRecorded consumed -> alert produced by kam-alerts",
       hop([](const Hops& h) { return h.alert_produced - h.interaction_visible; })},
      {"alert produced -> alert consumed",
       hop([](const Hops& h) { return h.alert_visible - h.alert_produced; })},
  };
  std::printf("| at %.0f/s | p50 ms | p90 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|\n",
              rate);
  for (const Row& row : rows) {
    std::printf("| %s | %.1f | %.1f | %.1f | %.1f |\n", row.name, Percentile(row.values, 0.50),
                Percentile(row.values, 0.90), Percentile(row.values, 0.99),
                Percentile(row.values, 1.0));
  }
  if (!json_out.empty()) {
    nlohmann::json result = {{"rate", rate},
                             {"offered_rate", offered_rate},
                             {"rate_met", rate_met},
                             {"calls", total},
                             {"failed", failed.load()},
                             {"paired", done.size()},
                             {"delivered_rate", delivered_rate},
                             {"p50_ms", Percentile(rows[0].values, 0.50)},
                             {"p90_ms", Percentile(rows[0].values, 0.90)},
                             {"p99_ms", Percentile(rows[0].values, 0.99)},
                             {"max_ms", Percentile(rows[0].values, 1.0)}};
    std::FILE* out = std::fopen(json_out.c_str(), "w");
    if (out == nullptr) return 1;
    std::fprintf(out, "%s\n", result.dump().c_str());
    std::fclose(out);
  }
  return done.size() == static_cast<size_t>(total - failed.load()) && rate_met ? 0 : 1;
}
