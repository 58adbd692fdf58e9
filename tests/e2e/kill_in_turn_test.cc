// One load of thousands of interactions (and account reassignments) through gRPC, during which
// kam-interactions, kam-alerts and kam-accounts are each killed with SIGKILL in turn and
// restarted. Afterwards: every acknowledged write is there, no alert state change was published
// twice, and the open alerts equal those of a run of the same book without faults.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "kam/v1/accounts.grpc.pb.h"
#include "kam/v1/alerts.grpc.pb.h"
#include "kam/v1/interactions.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/testing/grpc_call.h"
#include "tests/testing/alert_stream.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace kam {
namespace {

constexpr int kManagers = 4;
constexpr int kAccounts = 80;
constexpr int kWeeks = 52;
constexpr int kMoves = 12;
constexpr int64_t kWeek = 7LL * 24 * 3600 * 1000;
// Calls per second per caller: paced so that the load outlasts the three restarts (about 1-2.5 s
// each), i.e. every kill lands in the middle of it.
constexpr int kCallsPerSecond = 300;

using testing::Shell;

// An Apache Kafka broker of the test's own (scripts/kafka-local), stopped at the end. Each run
// gets one: other tests' kam-alerts instances on the shared broker would also publish alerts for
// this test's managers, and this run's for theirs.
class OwnBroker {
 public:
  OwnBroker() {
    brokers_ = Shell(kafka_local_ + " start --data-dir " + dir_.Sub("kafka") + " 2>/dev/null");
  }
  ~OwnBroker() {
    (void)system(
        (kafka_local_ + " stop --data-dir " + dir_.Sub("kafka") + " >/dev/null 2>&1").c_str());
  }
  bool ok() const { return brokers_.rfind("127.0.0.1:", 0) == 0; }
  const std::string& brokers() const { return brokers_; }

 private:
  const std::string kafka_local_ = std::string(KAM_SOURCE_DIR) + "/scripts/kafka-local";
  testing::TempDir dir_;
  std::string brokers_;
};

// A service process that can be killed and started again on its data directory; callers always
// reach the current incarnation (the port changes on every start).
class Service {
 public:
  Service(std::string binary, std::string brokers, testing::TempDir* dir)
      : binary_(std::move(binary)), brokers_(std::move(brokers)), dir_(dir) {}

  bool Start() {
    testing::RunningService running =
        testing::StartService(binary_, brokers_, dir_->Sub(binary_),
                              dir_->Sub(absl::StrCat(binary_, "-", starts_++, ".log")));
    if (!running.process) return false;
    auto channel = grpc::CreateChannel(running.address, grpc::InsecureChannelCredentials());
    std::lock_guard<std::mutex> lock(mutex_);
    running_ = std::move(running);
    channel_ = std::move(channel);
    return true;
  }
  void Kill() {
    std::lock_guard<std::mutex> lock(mutex_);
    running_.process->Signal(SIGKILL);
    running_.process->Wait(std::chrono::seconds(10));
  }
  const std::string& binary() const { return binary_; }
  std::string group() {
    std::lock_guard<std::mutex> lock(mutex_);
    return running_.group;
  }
  std::shared_ptr<grpc::Channel> channel() {
    std::lock_guard<std::mutex> lock(mutex_);
    return channel_;
  }
  // A counter from the service's /metrics (-1 when unreadable).
  double Metric(const std::string& name) {
    int port;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      port = running_.metrics_port;
    }
    return testing::ScrapeMetric(port, name);
  }

 private:
  std::string binary_, brokers_;
  testing::TempDir* dir_;
  int starts_ = 0;
  std::mutex mutex_;
  testing::RunningService running_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Calls until the service answers: a connection lost to a kill, or a call refused while the
// service restarts, is retried with the same request (the request ids make that safe).
template <typename Stub, typename Request, typename Response>
grpc::Status Retry(Service& service,
                   grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                   const Request& request, Response* response) {
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (true) {
    auto stub = std::make_unique<Stub>(service.channel());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Status status = (stub.get()->*method)(&context, request, response);
    if (!testing::RetrySafeWithRequestId(status) || std::chrono::steady_clock::now() > give_up) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

struct Platform {
  std::string brokers;
  testing::TempDir dir;
  Service accounts{"kam-accounts", brokers, &dir};
  Service interactions{"kam-interactions", brokers, &dir};
  Service alerts{"kam-alerts", brokers, &dir};
  explicit Platform(std::string b) : brokers(std::move(b)) {}
};

struct RunResult {
  std::set<std::string> interaction_ids;           // acknowledged
  std::map<std::string, std::string> account_ids;  // name -> id
  std::map<std::string, std::string> manager_ids;  // name -> id
  std::map<std::string, std::string> final_owner;  // account name -> manager name
};

// The book, the same for both runs: managers near capacity, accounts with a long tail of
// revenue, thirty weeks of answers (one account in four sliding), calls, support requests (some
// left open), and reassignments while the interactions stream in. With `faults`, each service is
// killed and restarted in turn at an eighth, three eighths and five eighths of the interactions.
RunResult RunBook(Platform& platform, const std::string& prefix, bool faults) {
  RunResult result;
  for (int m = 0; m < kManagers; ++m) {
    kam::v1::CreateManagerRequest request;
    request.set_request_id(absl::StrCat(prefix, "mgr-", m));
    request.mutable_manager()->set_name(absl::StrCat(prefix, "M", m));
    request.mutable_manager()->set_email(absl::StrCat(prefix, "m", m, "@example.com"));
    request.mutable_manager()->set_capacity(m == 0 ? 8 : 20);
    kam::v1::Manager manager;
    grpc::Status status =
        Retry(platform.accounts, &kam::v1::AccountsService::Stub::CreateManager, request, &manager);
    EXPECT_TRUE(status.ok()) << status.error_message();
    result.manager_ids[request.manager().name()] = manager.id();
  }
  for (int a = 0; a < kAccounts; ++a) {
    kam::v1::CreateAccountRequest request;
    request.set_request_id(absl::StrCat(prefix, "acc-", a));
    auto* account = request.mutable_account();
    account->set_name(absl::StrCat(prefix, "A", a));
    account->set_industry(kam::v1::INDUSTRY_SERVICES);
    account->mutable_annual_revenue()->set_amount_minor(100'000'000 / (a + 1));
    account->mutable_annual_revenue()->set_currency("EUR");
    const std::string owner = absl::StrCat(prefix, "M", a % kManagers);
    account->set_owner_manager_id(result.manager_ids[owner]);
    kam::v1::Account created;
    grpc::Status status =
        Retry(platform.accounts, &kam::v1::AccountsService::Stub::CreateAccount, request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    result.account_ids[account->name()] = created.id();
    result.final_owner[account->name()] = owner;
  }

  const int64_t start = MillisFromTimestamp(NowTimestamp()) - (kWeeks + 1) * kWeek;
  std::atomic<int> acknowledged{0};
  std::mutex ids_mutex;
  // Two callers, each with its own half of the accounts (so each account's events keep order).
  auto caller = [&](int half) {
    const auto paced_from = std::chrono::steady_clock::now();
    int calls = 0;
    auto record = [&](const std::string& id, int a, kam::v1::InteractionType type, int64_t at,
                      int nps, const std::string& resolves) {
      std::this_thread::sleep_until(
          paced_from + std::chrono::microseconds(1'000'000LL * calls++ / kCallsPerSecond));
      kam::v1::RecordInteractionRequest request;
      request.set_request_id(prefix + id);
      auto* interaction = request.mutable_interaction();
      interaction->set_id(prefix + id);
      interaction->set_account_id(result.account_ids.at(absl::StrCat(prefix, "A", a)));
      interaction->set_type(type);
      *interaction->mutable_occur_time() = TimestampFromMillis(at);
      if (nps >= 0) interaction->mutable_survey()->set_nps(nps);
      if (!resolves.empty()) interaction->set_resolves_interaction_id(prefix + resolves);
      kam::v1::Interaction recorded;
      grpc::Status status =
          Retry(platform.interactions, &kam::v1::InteractionsService::Stub::RecordInteraction,
                request, &recorded);
      EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
      if (!status.ok()) return;
      std::lock_guard<std::mutex> lock(ids_mutex);
      result.interaction_ids.insert(recorded.id());
      ++acknowledged;
    };
    for (int week = 0; week < kWeeks; ++week) {
      for (int a = half; a < kAccounts; a += 2) {
        const int64_t at = start + week * kWeek + a * 60000;
        const int nps = a % 4 == 0 ? std::max(0, 9 - week / 3) : 8 + (a + week) % 3;
        record(absl::StrCat("s-", a, "-", week), a, kam::v1::INTERACTION_TYPE_SURVEY, at, nps, "");
        if (week % 3 == 0) {
          record(absl::StrCat("c-", a, "-", week), a, kam::v1::INTERACTION_TYPE_CALL, at + 1, -1,
                 "");
        }
        if (a % 5 == 0 && week == kWeeks - 10) {
          record(absl::StrCat("r-", a), a, kam::v1::INTERACTION_TYPE_SUPPORT_REQUEST, at + 2, -1,
                 "");
        }
        if (a % 10 == 0 && week == kWeeks - 9) {
          record(absl::StrCat("d-", a), a, kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED, at + 3, -1,
                 absl::StrCat("r-", a));
        }
      }
    }
  };
  int expected = 0;
  for (int week = 0; week < kWeeks; ++week) {
    for (int a = 0; a < kAccounts; ++a) {
      expected += 1 + (week % 3 == 0) + (a % 5 == 0 && week == kWeeks - 10) +
                  (a % 10 == 0 && week == kWeeks - 9);
    }
  }
  std::atomic<bool> load_done{false};
  // Reassignments while the interactions stream in: account a moves to the next manager.
  auto mover = [&] {
    for (int k = 0; k < kMoves; ++k) {
      while (acknowledged.load() < expected * (k + 1) / (kMoves + 1) && !load_done.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      const int a = 4 * k + 1;
      const std::string name = absl::StrCat(prefix, "A", a);
      const std::string to = absl::StrCat(prefix, "M", (a + 1) % kManagers);
      kam::v1::ReassignAccountRequest request;
      request.set_account_id(result.account_ids.at(name));
      request.set_new_manager_id(result.manager_ids.at(to));
      request.set_reason("rebalance");
      kam::v1::Account moved;
      grpc::Status status = Retry(
          platform.accounts, &kam::v1::AccountsService::Stub::ReassignAccount, request, &moved);
      // A retry of a move the killed process had already made finds it done.
      const bool done =
          status.ok() || (status.error_code() == grpc::FAILED_PRECONDITION &&
                          status.error_message().find("already owns") != std::string::npos);
      EXPECT_TRUE(done) << status.error_message();
      result.final_owner[name] = to;
    }
  };
  auto killer = [&] {
    // kam-alerts last: its restart takes longest, and it still has a backlog to consume then.
    Service* order[] = {&platform.interactions, &platform.accounts, &platform.alerts};
    for (int k = 0; k < 3; ++k) {
      while (acknowledged.load() < expected * (1 + 2 * k) / 8) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      order[k]->Kill();
      const int at = acknowledged.load();
      const auto killed = std::chrono::steady_clock::now();
      EXPECT_TRUE(order[k]->Start()) << "restart " << k << " failed";
      std::cout << "kill -9 of " << order[k]->binary() << " at " << at << " of " << expected
                << " interactions acknowledged; serving again after "
                << std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - killed)
                       .count()
                << " ms, at " << acknowledged.load() << "\n";
    }
  };
  std::thread first(caller, 0), second(caller, 1), moves(mover);
  std::thread faults_thread;
  if (faults) faults_thread = std::thread(killer);
  first.join();
  second.join();
  load_done.store(true);
  moves.join();
  if (faults_thread.joinable()) faults_thread.join();
  EXPECT_EQ(acknowledged.load(), expected);
  return result;
}

// The open alerts, named so that both runs compare: rule, subject name, severity. An account's
// alert names the account only: it carries the owner at the time it fired, and whether a
// reassignment reached kam-alerts before or after the firing interaction is a race of two topics.
std::set<std::string> OpenAlerts(Service& alerts, const RunResult& run,
                                 std::set<std::string>* alert_ids = nullptr) {
  std::map<std::string, std::string> names;  // id -> name
  for (const auto& [name, id] : run.account_ids) names[id] = name;
  for (const auto& [name, id] : run.manager_ids) names[id] = name;
  std::set<std::string> open;
  kam::v1::ListAlertsRequest request;
  request.set_page_size(500);
  while (true) {
    kam::v1::ListAlertsResponse response;
    grpc::Status status =
        Retry(alerts, &kam::v1::AlertsService::Stub::ListAlerts, request, &response);
    if (!status.ok()) return {"ListAlerts failed: " + status.error_message()};
    for (const auto& alert : response.alerts()) {
      if (alert.state() == kam::v1::ALERT_STATE_RESOLVED) continue;
      auto account = names.find(alert.account_id());
      auto manager = names.find(alert.manager_id());
      if (account == names.end() && manager == names.end()) continue;  // another test's
      const std::string& subject = account != names.end() ? account->second : manager->second;
      if (alert_ids != nullptr) alert_ids->insert(alert.id());
      open.insert(absl::StrCat(kam::v1::AlertRule_Name(alert.rule()), " ", subject, " ",
                               kam::v1::Severity_Name(alert.severity())));
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  return open;
}

TEST(KillInTurnTest, EachServiceKilledDuringOneLoadLosesNothingAndEndsWithTheSameAlerts) {
  // The fault-free run: its kam-alerts never restarts, so its counters say when it has applied
  // everything on the input topics.
  std::set<std::string> expected;
  {
    OwnBroker calm_broker;
    ASSERT_TRUE(calm_broker.ok()) << "own broker did not start: " << calm_broker.brokers();
    const std::string& calm_brokers = calm_broker.brokers();
    Platform calm(calm_brokers);
    ASSERT_TRUE(calm.accounts.Start() && calm.interactions.Start() && calm.alerts.Start());
    RunResult calm_run = RunBook(calm, "kit-", false);
    // Settled: every record on the input topics applied, and the open alerts unchanged a second
    // later (the outboxes may still have been publishing at the first look).
    std::set<std::string> previous;
    double last_applied = -1;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      // Settled: nothing new applied for a second (the load has ended; input offsets cannot be
      // compared with end offsets, which count the transaction markers of the producers).
      const double applied = calm.alerts.Metric("kam_consumer_applied_total") +
                             calm.alerts.Metric("kam_consumer_dead_lettered_total");
      const bool quiet = applied > 0 && applied == last_applied;
      last_applied = applied;
      if (quiet) {
        std::set<std::string> open = OpenAlerts(calm.alerts, calm_run);
        if (!open.empty() && open == previous) {
          expected = std::move(open);
          break;
        }
        previous = std::move(open);
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));  // poll interval, bounded by deadline
    }
  }  // the calm platform and its broker stop here
  ASSERT_GE(expected.size(), 10u) << "the book should leave several kinds of alerts open";

  // The same book with faults, on another broker (its alert topic then holds this run only).
  OwnBroker faulty_broker;
  ASSERT_TRUE(faulty_broker.ok()) << "own broker did not start: " << faulty_broker.brokers();
  const std::string& brokers = faulty_broker.brokers();
  {
    Platform faulty(brokers);
    ASSERT_TRUE(faulty.accounts.Start() && faulty.interactions.Start() && faulty.alerts.Start());
    RunResult run = RunBook(faulty, "kit-", true);

    // No acknowledged write lost.
    for (const auto& id : run.interaction_ids) {
      kam::v1::GetInteractionRequest get;
      get.set_id(id);
      kam::v1::Interaction interaction;
      grpc::Status status =
          Retry(faulty.interactions, &kam::v1::InteractionsService::Stub::GetInteraction, get,
                &interaction);
      EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
    }
    for (const auto& [name, id] : run.account_ids) {
      kam::v1::GetAccountRequest get;
      get.set_id(id);
      kam::v1::Account account;
      grpc::Status status =
          Retry(faulty.accounts, &kam::v1::AccountsService::Stub::GetAccount, get, &account);
      ASSERT_TRUE(status.ok()) << name << ": " << status.error_message();
      EXPECT_EQ(account.owner_manager_id(), run.manager_ids.at(run.final_owner.at(name))) << name;
    }

    // The open alerts converge on those of the fault-free run.
    std::set<std::string> open, open_ids;
    EXPECT_TRUE(testing::WaitFor(
        [&] {
          open_ids.clear();
          open = OpenAlerts(faulty.alerts, run, &open_ids);
          return open == expected;
        },
        std::chrono::seconds(120)));
    for (const auto& alert : expected) EXPECT_TRUE(open.count(alert)) << "missing: " << alert;
    for (const auto& alert : open) EXPECT_TRUE(expected.count(alert)) << "extra: " << alert;

    // Every state change published once: no CloudEvent id twice, no alert fired twice; and every
    // open alert's firing is on the topic (once the outbox has caught up).
    std::map<std::string, int> ids, fired;
    bool all_fired_published = testing::WaitFor(
        [&] {
          ids.clear();
          fired.clear();
          for (const auto& record : testing::ReadTopic(brokers, "kam.alerts.v1")) {
            auto event = nlohmann::json::parse(record.value, nullptr, false);
            if (event.is_discarded()) return false;
            ++ids[event.value("id", "")];
            if (event.value("type", "") == "dev.kam.alert.fired")
              ++fired[event["data"].value("id", "")];
          }
          for (const auto& id : open_ids) {
            if (!fired.count(id)) return false;
          }
          return true;
        },
        std::chrono::seconds(60));
    EXPECT_TRUE(all_fired_published) << "open alerts whose firing never reached kam.alerts.v1";
    for (const auto& [id, count] : ids) EXPECT_EQ(count, 1) << "published twice: " << id;
    for (const auto& [id, count] : fired) EXPECT_EQ(count, 1) << "fired twice: " << id;
    std::cout << "interactions acknowledged: " << run.interaction_ids.size()
              << ", open alerts: " << open.size() << ", alert changes on the topic: " << ids.size()
              << "\n";
  }
}

}  // namespace
}  // namespace kam
