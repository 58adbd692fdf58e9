// kill -9 of kam-accounts in the middle of a burst of creates, then a restart: every acknowledged
// account is there, retried requests do not create twice, and every event reaches Kafka exactly
// once (each AccountCreated once per account, no event id twice).

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "kam/v1/accounts.grpc.pb.h"
#include "kam/v1/events.pb.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace kam {
namespace {

constexpr int kWriters = 4;
constexpr int kAckedBeforeKill = 400;

kam::v1::CreateAccountRequest CreateRequest(const std::string& request_id,
                                            const std::string& owner) {
  kam::v1::CreateAccountRequest request;
  request.set_request_id(request_id);
  request.mutable_account()->set_name("Crash " + request_id);
  request.mutable_account()->set_industry(kam::v1::INDUSTRY_TRADITIONAL_B2B);
  request.mutable_account()->mutable_annual_revenue()->set_amount_minor(100000 + request_id.size());
  request.mutable_account()->mutable_annual_revenue()->set_currency("EUR");
  request.mutable_account()->set_owner_manager_id(owner);
  return request;
}

TEST(AccountsCrashTest, KillNineMidBurstLosesNothingAndPublishesOnce) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  auto first = testing::StartService("kam-accounts", brokers, dir.Sub("data"), dir.Sub("first"));
  ASSERT_TRUE(first.process) << first.address;
  auto channel = grpc::CreateChannel(first.address, grpc::InsecureChannelCredentials());
  auto stub = kam::v1::AccountsService::NewStub(channel);

  kam::v1::CreateManagerRequest create_manager;
  create_manager.set_request_id("crash-manager");
  create_manager.mutable_manager()->set_name("Crash Manager");
  create_manager.mutable_manager()->set_email("crash@example.com");
  create_manager.mutable_manager()->set_capacity(1000);
  kam::v1::Manager manager;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub->CreateManager(&context, create_manager, &manager).ok());
  }

  std::mutex mutex;
  std::map<std::string, std::string> acked;  // request_id -> account id
  std::set<std::string> attempted;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; !stop.load(); ++i) {
        std::string request_id = "crash-" + std::to_string(w) + "-" + std::to_string(i);
        {
          std::lock_guard<std::mutex> lock(mutex);
          attempted.insert(request_id);
        }
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        kam::v1::Account account;
        if (stub->CreateAccount(&context, CreateRequest(request_id, manager.id()), &account).ok()) {
          std::lock_guard<std::mutex> lock(mutex);
          acked[request_id] = account.id();
        } else {
          return;  // the server is gone
        }
      }
    });
  }
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mutex);
        return acked.size() >= kAckedBeforeKill;
      },
      std::chrono::seconds(120)));
  first.process->Signal(SIGKILL);
  ASSERT_TRUE(first.process->Wait(std::chrono::seconds(10)).has_value());
  stop.store(true);
  for (auto& writer : writers) writer.join();

  auto second = testing::StartService("kam-accounts", brokers, dir.Sub("data"), dir.Sub("second"));
  ASSERT_TRUE(second.process) << second.address;
  stub = kam::v1::AccountsService::NewStub(
      grpc::CreateChannel(second.address, grpc::InsecureChannelCredentials()));

  // Every acknowledged write survived.
  for (const auto& [request_id, id] : acked) {
    grpc::ClientContext context;
    kam::v1::GetAccountRequest get;
    get.set_id(id);
    kam::v1::Account account;
    ASSERT_TRUE(stub->GetAccount(&context, get, &account).ok()) << request_id << " lost";
  }
  // Clients retry what they never saw answered; request_id makes the retry safe.
  std::set<std::string> accounts;
  for (const auto& request_id : attempted) {
    grpc::ClientContext context;
    kam::v1::Account account;
    grpc::Status retried =
        stub->CreateAccount(&context, CreateRequest(request_id, manager.id()), &account);
    ASSERT_TRUE(retried.ok()) << request_id << ": " << retried.error_message();
    if (acked.count(request_id)) {
      EXPECT_EQ(account.id(), acked[request_id]);
    }
    accounts.insert(account.id());
  }
  EXPECT_EQ(accounts.size(), attempted.size());
  kam::v1::GetManagerLoadRequest get_load;
  get_load.set_manager_id(manager.id());
  kam::v1::ManagerLoad load;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub->GetManagerLoad(&context, get_load, &load).ok());
  }
  EXPECT_EQ(load.account_count(), static_cast<int>(attempted.size()));

  // Kafka: one AccountCreated per account, no event twice.
  std::map<std::string, int> created;
  std::set<std::string> event_ids;
  int duplicates = 0;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        created.clear();
        event_ids.clear();
        duplicates = 0;
        for (const auto& record : testing::ReadTopic(brokers, "kam.accounts.v1")) {
          if (!accounts.count(record.key)) continue;
          kam::v1::EventEnvelope envelope;
          EXPECT_TRUE(envelope.ParseFromString(record.value));
          if (!event_ids.insert(envelope.event_id()).second) ++duplicates;
          if (envelope.has_account_created()) ++created[record.key];
        }
        return created.size() == accounts.size();
      },
      std::chrono::seconds(120)))
      << created.size() << " of " << accounts.size() << " AccountCreated events arrived";
  EXPECT_EQ(duplicates, 0);
  for (const auto& [id, count] : created) EXPECT_EQ(count, 1) << id;
  std::cout << "acked before kill: " << acked.size() << ", attempted: " << attempted.size()
            << ", account events checked: " << event_ids.size() << "\n";
}

}  // namespace
}  // namespace kam
