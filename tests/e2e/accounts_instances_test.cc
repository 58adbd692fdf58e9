// kam-accounts as three instances of one group on the real broker: one writer, elected through
// the group, and two hot standbys that follow its changelog. Any instance answers any call; a
// client that passes the version of its own write reads it from any instance; after a kill -9 of
// the writer a standby takes writes again within seconds with every acknowledged write present,
// published once; and a writer frozen with SIGSTOP until another took over publishes nothing when
// it wakes, and says in its log that it lost the role.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka/kafka_common.h"
#include "common/time_util.h"
#include "kam/v1/accounts.grpc.pb.h"
#include "kam/v1/events.pb.h"
#include "tests/testing/grpc_call.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace kam {
namespace {

using kam::v1::AccountsService;

constexpr char kVersionHeader[] = "kam-book-version";

// One call with a deadline; `version` gets the answer's kam-book-version, `min_version` (when not
// 0) asks for at least that one.
template <typename Request, typename Response, typename Method>
grpc::Status Call(AccountsService::Stub* stub, Method method, const Request& request,
                  Response* response, uint64_t* version = nullptr, uint64_t min_version = 0,
                  std::chrono::seconds deadline = std::chrono::seconds(10)) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  if (min_version > 0) context.AddMetadata("kam-min-book-version", std::to_string(min_version));
  grpc::Status status = (stub->*method)(&context, request, response);
  if (version != nullptr) {
    auto found = context.GetServerInitialMetadata().find(kVersionHeader);
    *version = found == context.GetServerInitialMetadata().end()
                   ? 0
                   : std::stoull(std::string(found->second.data(), found->second.size()));
  }
  return status;
}

class AccountsInstancesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = testing::RealKafkaBootstrap();
    ASSERT_FALSE(brokers_.empty()) << "run through ctest: needs the real_kafka fixture";
    stamp_ = std::to_string(MillisFromTimestamp(NowTimestamp()));
    // Tests of this file run side by side: the test name keeps their groups apart.
    group_ = std::string("kam-accounts-") +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" + stamp_;
  }

  testing::RunningService Start(const std::string& name) {
    return testing::StartService(
        "kam-accounts", brokers_, dir_.Sub(name),
        dir_.Sub(name + "-log-" + std::to_string(++starts_)),
        {"--consumer-group", group_, "--instance-id", name, "--session-timeout-ms", "6000"});
  }
  static bool Writer(const testing::RunningService& s) {
    return testing::ScrapeMetric(s.metrics_port, "kam_accounts_writer") == 1;
  }
  static std::unique_ptr<AccountsService::Stub> StubFor(const std::string& address) {
    return AccountsService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  }
  // The AccountCreated events of this test on kam.accounts.v1: account name -> times, and which
  // producer wrote each record.
  std::map<std::string, int> CreatedByName(std::vector<std::string>* producers = nullptr) {
    std::map<std::string, int> created;
    for (const auto& record : testing::ReadTopic(brokers_, "kam.accounts.v1")) {
      kam::v1::EventEnvelope envelope;
      if (!envelope.ParseFromString(record.value) || !envelope.has_account_created()) continue;
      const std::string& name = envelope.account_created().account().name();
      if (name.find(stamp_) == std::string::npos) continue;
      ++created[name];
      if (producers != nullptr)
        producers->push_back(
            record.headers.count("kam-producer") ? record.headers.at("kam-producer") : "");
    }
    return created;
  }
  kam::v1::CreateAccountRequest NewAccount(const std::string& name, const std::string& owner) {
    kam::v1::CreateAccountRequest request;
    request.set_request_id("req-" + name);
    request.mutable_account()->set_name(name);
    request.mutable_account()->set_industry(kam::v1::INDUSTRY_MANUFACTURING_STANDARD);
    request.mutable_account()->set_owner_manager_id(owner);
    request.mutable_account()->mutable_annual_revenue()->set_currency("EUR");
    request.mutable_account()->mutable_annual_revenue()->set_amount_minor(
        100000 * static_cast<int64_t>(1 + name.size() % 7));
    return request;
  }
  kam::v1::Manager CreateManager(AccountsService::Stub* stub, uint64_t* version) {
    kam::v1::CreateManagerRequest request;
    request.set_request_id("mgr-" + stamp_);
    request.mutable_manager()->set_name("Jane " + stamp_);
    request.mutable_manager()->set_email("jane-" + stamp_ + "@example.com");
    request.mutable_manager()->set_industry_focus(kam::v1::INDUSTRY_MANUFACTURING_STANDARD);
    kam::v1::Manager manager;
    grpc::Status status;
    EXPECT_TRUE(testing::WaitFor([&] {
      status = Call(stub, &AccountsService::Stub::CreateManager, request, &manager, version);
      return status.ok();
    })) << status.error_message();
    return manager;
  }

  std::string brokers_;
  std::string stamp_;
  std::string group_;
  testing::TempDir dir_;
  int starts_ = 0;
};

TEST_F(AccountsInstancesTest, OneWriterAndAnyInstanceAnswersReadingItsOwnWrites) {
  std::vector<testing::RunningService> instances;
  for (const char* name : {"a", "b", "c"}) {
    instances.push_back(Start(name));
    ASSERT_TRUE(instances.back().process) << instances.back().address;
  }
  ASSERT_TRUE(testing::WaitFor([&] {
    return Writer(instances[0]) + Writer(instances[1]) + Writer(instances[2]) == 1;
  })) << "exactly one writer";
  std::vector<std::unique_ptr<AccountsService::Stub>> stubs;
  for (const auto& s : instances) stubs.push_back(StubFor(s.address));

  // Writes through every instance (two of them forward to the writer); each caller then reads
  // its write from another instance by asking for the version its write answered with.
  uint64_t version = 0;
  kam::v1::Manager manager = CreateManager(stubs[1].get(), &version);
  ASSERT_GT(version, 0u) << "a write answers with the book's version";
  std::vector<std::string> ids;
  for (int n = 0; n < 12; ++n) {
    kam::v1::Account created;
    uint64_t written = 0;
    ASSERT_TRUE(Call(stubs[n % 3].get(), &AccountsService::Stub::CreateAccount,
                     NewAccount("acc-" + std::to_string(n) + "-" + stamp_, manager.id()), &created,
                     &written)
                    .ok());
    ASSERT_GE(written, version) << "versions only grow";
    version = written;
    ids.push_back(created.id());
    kam::v1::GetAccountRequest get;
    get.set_id(created.id());
    kam::v1::Account read;
    uint64_t read_version = 0;
    grpc::Status status = Call(stubs[(n + 1) % 3].get(), &AccountsService::Stub::GetAccount, get,
                               &read, &read_version, written);
    ASSERT_TRUE(status.ok()) << "read-your-write on another instance: " << status.error_message();
    EXPECT_GE(read_version, written);
    EXPECT_EQ(read.etag(), created.etag());
  }
  // Once every standby has the last version, all instances give the same answers.
  std::vector<std::string> listings, loads;
  for (auto& stub : stubs) {
    kam::v1::ListAccountsRequest list;
    list.set_manager_id(manager.id());
    list.set_page_size(100);
    kam::v1::ListAccountsResponse page;
    ASSERT_TRUE(
        Call(stub.get(), &AccountsService::Stub::ListAccounts, list, &page, nullptr, version).ok());
    EXPECT_EQ(page.accounts_size(), 12);
    listings.push_back(page.SerializeAsString());
    kam::v1::GetManagerLoadRequest load_request;
    load_request.set_manager_id(manager.id());
    kam::v1::ManagerLoad load;
    ASSERT_TRUE(Call(stub.get(), &AccountsService::Stub::GetManagerLoad, load_request, &load,
                     nullptr, version)
                    .ok());
    loads.push_back(load.SerializeAsString());
  }
  EXPECT_EQ(listings[0], listings[1]);
  EXPECT_EQ(listings[0], listings[2]);
  EXPECT_EQ(loads[0], loads[1]);
  EXPECT_EQ(loads[0], loads[2]);
  // A version no instance has reached yet is refused with a retry, not answered from older state.
  kam::v1::GetAccountRequest get;
  get.set_id(ids[0]);
  kam::v1::Account read;
  EXPECT_EQ(Call(stubs[2].get(), &AccountsService::Stub::GetAccount, get, &read, nullptr,
                 version + 1000000, std::chrono::seconds(2))
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // A bad version is bad input.
  {
    grpc::ClientContext context;
    context.AddMetadata("kam-min-book-version", "soon");
    EXPECT_EQ(stubs[0]->GetAccount(&context, get, &read).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  // Each account created once on the topic.
  std::map<std::string, int> created;
  ASSERT_TRUE(testing::WaitFor([&] {
    created = CreatedByName();
    return created.size() >= 12;
  }));
  for (const auto& [name, times] : created) EXPECT_EQ(times, 1) << name;
}

TEST_F(AccountsInstancesTest, WriterKilledMidLoadAStandbyTakesOverWithEveryAcknowledgedWrite) {
  std::map<std::string, testing::RunningService> instances;
  for (const char* name : {"a", "b", "c"}) {
    instances[name] = Start(name);
    ASSERT_TRUE(instances[name].process) << instances[name].address;
  }
  std::string writer;
  ASSERT_TRUE(testing::WaitFor([&] {
    int writers = 0;
    for (auto& [name, s] : instances) {
      if (Writer(s)) {
        writer = name;
        ++writers;
      }
    }
    return writers == 1;
  }));
  uint64_t version = 0;
  auto first_stub = StubFor(instances["a"].address);
  kam::v1::Manager manager = CreateManager(first_stub.get(), &version);

  // Paced creates through random instances, each retried with its request_id while told to.
  std::mutex mutex;
  std::map<std::string, std::string> acknowledged;  // name -> id
  std::vector<std::string> addresses;
  for (auto& [name, s] : instances) addresses.push_back(s.address);
  std::atomic<bool> stop{false};
  std::atomic<int> gave_up{0};
  std::atomic<int64_t> last_ack_millis{0};
  std::atomic<int64_t> killed_at{0};
  std::atomic<int64_t> first_ack_after_kill{0};
  auto writer_thread = [&](int number) {
    std::mt19937 random(number);
    for (int n = 0; !stop.load(); ++n) {
      const std::string name =
          "acc-" + std::to_string(number) + "-" + std::to_string(n) + "-" + stamp_;
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (true) {
        std::string address;
        {
          std::lock_guard<std::mutex> lock(mutex);
          address = addresses[random() % addresses.size()];
        }
        auto stub = StubFor(address);
        kam::v1::Account created;
        grpc::Status status =
            Call(stub.get(), &AccountsService::Stub::CreateAccount, NewAccount(name, manager.id()),
                 &created, nullptr, 0, std::chrono::seconds(5));
        if (status.ok()) {
          std::lock_guard<std::mutex> lock(mutex);
          acknowledged[name] = created.id();
          last_ack_millis = MillisFromTimestamp(NowTimestamp());
          if (killed_at.load() > 0 && first_ack_after_kill.load() == 0) {
            first_ack_after_kill = last_ack_millis.load();
          }
          break;
        }
        if (!testing::RetrySafeWithRequestId(status) || std::chrono::steady_clock::now() > deadline) {
          ADD_FAILURE() << name << ": " << status.error_message();
          ++gave_up;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };
  auto count = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return acknowledged.size();
  };
  std::vector<std::thread> threads;
  for (int number = 0; number < 2; ++number) threads.emplace_back(writer_thread, number);
  ASSERT_TRUE(testing::WaitFor([&] { return count() >= 40; }, std::chrono::seconds(60)));

  // The writer dies. The time to the first write accepted after it is the fail-over time.
  const size_t before_kill = count();
  instances[writer].process->Signal(SIGKILL);
  killed_at = MillisFromTimestamp(NowTimestamp());
  instances[writer].process->Wait(std::chrono::seconds(10));
  ASSERT_TRUE(
      testing::WaitFor([&] { return first_ack_after_kill.load() > 0; }, std::chrono::seconds(60)))
      << "a standby takes writes again";
  std::string successor;
  for (auto& [name, s] : instances) {
    if (name != writer && Writer(s)) successor = name;
  }
  EXPECT_FALSE(successor.empty()) << "one of the standbys is the writer now";
  ASSERT_TRUE(
      testing::WaitFor([&] { return count() >= before_kill + 40; }, std::chrono::seconds(60)));
  // The old writer comes back on its disk, as a standby; then every instance is restarted in
  // turn (SIGTERM, start again on its disk) while the writes go on: no write fails beyond the
  // retries the answers ask for.
  auto restart = [&](const std::string& name) {
    testing::RunningService& old = instances[name];
    if (old.process->Running()) {
      old.process->Signal(SIGTERM);
      ASSERT_TRUE(old.process->Wait(std::chrono::seconds(60)).has_value()) << name;
    }
    testing::RunningService restarted = Start(name);
    ASSERT_TRUE(restarted.process) << name << ": " << restarted.address;
    {
      std::lock_guard<std::mutex> lock(mutex);
      for (auto& address : addresses) {
        if (address == old.address) address = restarted.address;
      }
    }
    old = std::move(restarted);
    const size_t at = count();
    ASSERT_TRUE(testing::WaitFor([&] { return count() >= at + 20; }, std::chrono::seconds(60)))
        << "writes go on after restarting " << name;
  };
  restart(writer);
  for (const char* name : {"a", "b", "c"}) restart(name);
  stop = true;
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(gave_up.load(), 0);

  // Every acknowledged create is in every instance's book, and was published exactly once.
  std::map<std::string, std::string> acked;
  {
    std::lock_guard<std::mutex> lock(mutex);
    acked = acknowledged;
  }
  uint64_t latest = 0;
  for (auto& [name, s] : instances) {
    auto stub = StubFor(s.address);
    kam::v1::ListAccountsRequest list;
    list.set_manager_id(manager.id());
    list.set_page_size(1000);
    kam::v1::ListAccountsResponse page;
    // The writer's version first, then every standby at least that current.
    grpc::Status status;
    ASSERT_TRUE(testing::WaitFor([&] {
      status = Call(stub.get(), &AccountsService::Stub::ListAccounts, list, &page, nullptr, latest);
      return status.ok() && page.accounts_size() >= static_cast<int>(acked.size());
    })) << name
        << ": " << status.error_message() << ", " << page.accounts_size() << " of " << acked.size();
    std::set<std::string> listed;
    for (const auto& account : page.accounts()) listed.insert(account.id());
    for (const auto& [account_name, id] : acked)
      EXPECT_TRUE(listed.count(id)) << name << " lacks " << account_name;
    EXPECT_EQ(page.accounts_size(), static_cast<int>(acked.size())) << "nothing unacknowledged";
  }
  std::map<std::string, int> created;
  ASSERT_TRUE(testing::WaitFor([&] {
    created = CreatedByName();
    return created.size() >= acked.size();
  }));
  for (const auto& [name, id] : acked) EXPECT_EQ(created[name], 1) << name;
  EXPECT_EQ(created.size(), acked.size());
  // A figure for docs/benchmarks.md, not an assertion: these machines are noisy.
  std::printf(
      "fail-over: %lld ms from kill -9 of the writer to the first accepted write; %zu "
      "writes acknowledged in all\n",
      static_cast<long long>(first_ack_after_kill.load() - killed_at.load()), acked.size());
}

TEST_F(AccountsInstancesTest, AFrozenWriterPublishesNothingAfterLosingTheRoleAndSaysSo) {
  auto a = Start("a");
  ASSERT_TRUE(a.process) << a.address;
  ASSERT_TRUE(testing::WaitFor([&] { return Writer(a); }));
  auto b = Start("b");
  ASSERT_TRUE(b.process) << b.address;
  auto stub_a = StubFor(a.address);
  auto stub_b = StubFor(b.address);
  uint64_t version = 0;
  kam::v1::Manager manager = CreateManager(stub_b.get(), &version);

  // a freezes; a create sent to it waits in its socket. b takes the role after the session timeout.
  a.process->Signal(SIGSTOP);
  std::thread zombie_call([&] {
    kam::v1::Account ignored;
    grpc::Status status = Call(stub_a.get(), &AccountsService::Stub::CreateAccount,
                               NewAccount("zombie-" + stamp_, manager.id()), &ignored, nullptr, 0,
                               std::chrono::seconds(60));
    // Either refused, or forwarded to the new writer once a knew it lost the role: never a's own.
    (void)status;
  });
  ASSERT_TRUE(testing::WaitFor([&] { return Writer(b); }, std::chrono::seconds(60)))
      << "b becomes the writer while a is frozen";
  kam::v1::Account by_b;
  grpc::Status status;
  ASSERT_TRUE(testing::WaitFor([&] {
    status = Call(stub_b.get(), &AccountsService::Stub::CreateAccount,
                  NewAccount("after-" + stamp_, manager.id()), &by_b);
    return status.ok();
  })) << status.error_message();

  a.process->Signal(SIGCONT);
  zombie_call.join();
  EXPECT_FALSE(a.process->WaitForLogLine("writer role lost", std::chrono::seconds(60)).empty())
      << "a says it lost the role";
  // Nothing on the topic from a after it froze: every AccountCreated of the test after the
  // manager's came from b, the zombie's create at most once.
  std::vector<std::string> producers;
  std::map<std::string, int> created;
  ASSERT_TRUE(testing::WaitFor([&] {
    producers.clear();
    created = CreatedByName(&producers);
    return created.count("after-" + stamp_) > 0;
  }));
  EXPECT_LE(created["zombie-" + stamp_], 1);
  for (const auto& producer : producers) EXPECT_EQ(producer, b.producer) << "published by a zombie";
  // And a serves again, as a standby that forwards writes.
  kam::v1::Account via_a;
  ASSERT_TRUE(testing::WaitFor([&] {
    return Call(stub_a.get(), &AccountsService::Stub::CreateAccount,
                NewAccount("later-" + stamp_, manager.id()), &via_a)
        .ok();
  }));
}

}  // namespace
}  // namespace kam
