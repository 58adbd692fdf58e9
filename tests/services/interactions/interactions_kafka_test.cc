// kam-accounts and kam-interactions as processes on the real Kafka broker: from account creation
// to a recorded interaction event, and a kill -9 of kam-interactions in the middle of a burst.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "kam/internal/v1/storage.pb.h"
#include "kam/v1/accounts.grpc.pb.h"
#include "kam/v1/events.pb.h"
#include "kam/v1/interactions.grpc.pb.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace kam {
namespace {

class InteractionsKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = testing::RealKafkaBootstrap();
    ASSERT_FALSE(brokers_.empty()) << "run through ctest: needs the real_kafka fixture";
    accounts_ = testing::StartService("kam-accounts", brokers_, dir_.Sub("accounts"),
                                      dir_.Sub("accounts-log"));
    ASSERT_TRUE(accounts_.process) << accounts_.address;
    StartInteractions("interactions-log-1");
    accounts_stub_ = kam::v1::AccountsService::NewStub(
        grpc::CreateChannel(accounts_.address, grpc::InsecureChannelCredentials()));
  }

  void StartInteractions(const std::string& log) {
    interactions_ = testing::StartService("kam-interactions", brokers_, dir_.Sub("interactions"),
                                          dir_.Sub(log), {"--replica-wait-ms", "10000"});
    ASSERT_TRUE(interactions_.process) << interactions_.address;
    stub_ = kam::v1::InteractionsService::NewStub(
        grpc::CreateChannel(interactions_.address, grpc::InsecureChannelCredentials()));
  }

  kam::v1::Account CreateAccount(const std::string& name, const std::string& owner) {
    kam::v1::CreateAccountRequest request;
    request.mutable_account()->set_name(name);
    request.mutable_account()->set_industry(kam::v1::INDUSTRY_SERVICES);
    request.mutable_account()->mutable_annual_revenue()->set_amount_minor(1000);
    request.mutable_account()->mutable_annual_revenue()->set_currency("EUR");
    request.mutable_account()->set_owner_manager_id(owner);
    grpc::ClientContext context;
    kam::v1::Account account;
    EXPECT_TRUE(accounts_stub_->CreateAccount(&context, request, &account).ok());
    return account;
  }

  kam::v1::Manager CreateManager(const std::string& email) {
    kam::v1::CreateManagerRequest request;
    request.mutable_manager()->set_name("Manager");
    request.mutable_manager()->set_email(email);
    grpc::ClientContext context;
    kam::v1::Manager manager;
    EXPECT_TRUE(accounts_stub_->CreateManager(&context, request, &manager).ok());
    return manager;
  }

  std::string brokers_;
  testing::TempDir dir_;
  testing::RunningService accounts_;
  testing::RunningService interactions_;
  std::unique_ptr<kam::v1::AccountsService::Stub> accounts_stub_;
  std::unique_ptr<kam::v1::InteractionsService::Stub> stub_;
};

TEST_F(InteractionsKafkaTest, FromAccountCreationToAnInteractionEventAndHealth) {
  kam::v1::Manager manager = CreateManager("owner@example.com");
  kam::v1::Account account = CreateAccount("Fresh Customer", manager.id());
  // Recorded right after the account was created: the service waits for the replica.
  kam::v1::RecordInteractionRequest survey;
  survey.set_request_id("survey-tool-1");
  survey.mutable_interaction()->set_account_id(account.id());
  survey.mutable_interaction()->set_type(kam::v1::INTERACTION_TYPE_SURVEY);
  survey.mutable_interaction()->mutable_survey()->set_nps(3);
  survey.mutable_interaction()->mutable_survey()->set_comment("too slow");
  kam::v1::Interaction recorded;
  {
    grpc::ClientContext context;
    grpc::Status status = stub_->RecordInteraction(&context, survey, &recorded);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(recorded.owner_manager_id(), manager.id());

  std::vector<kam::v1::EventEnvelope> events;
  ASSERT_TRUE(testing::WaitFor([&] {
    events.clear();
    for (const auto& record : testing::ReadTopic(brokers_, "kam.interactions.v1")) {
      if (record.key != account.id()) continue;
      kam::v1::EventEnvelope envelope;
      EXPECT_TRUE(envelope.ParseFromString(record.value));
      EXPECT_EQ(record.headers.at("kam-producer"), interactions_.producer);
      events.push_back(envelope);
    }
    return !events.empty();
  }));
  ASSERT_EQ(events.size(), 1u);
  const auto& event = events[0].interaction_recorded().interaction();
  EXPECT_EQ(events[0].type(), "kam.v1.InteractionRecorded");
  EXPECT_EQ(event.id(), recorded.id());
  EXPECT_EQ(event.owner_manager_id(), manager.id());
  EXPECT_EQ(event.survey().nps(), 3);

  kam::v1::GetAccountHealthRequest health_request;
  health_request.set_account_id(account.id());
  kam::v1::AccountHealth health;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->GetAccountHealth(&context, health_request, &health).ok());
  EXPECT_EQ(health.nps_responses(), 1);
  EXPECT_DOUBLE_EQ(health.nps(), -100);
}

// A batch of answers for one account rewrites the account's health once per answer; the
// changelog, which a new owner restores from, carries only the last of those values per
// transaction -- not one 8 KB state per answer.
TEST_F(InteractionsKafkaTest, ABatchForOneAccountChangelogsItsHealthOncePerTransaction) {
  kam::v1::Manager manager = CreateManager("batch@example.com");
  kam::v1::Account account = CreateAccount("Surveyed Customer", manager.id());
  constexpr int kAnswers = 40;
  kam::v1::BatchRecordInteractionsRequest batch;
  for (int i = 0; i < kAnswers; ++i) {
    auto* interaction = batch.add_requests()->mutable_interaction();
    interaction->set_account_id(account.id());
    interaction->set_type(kam::v1::INTERACTION_TYPE_SURVEY);
    interaction->mutable_survey()->set_nps(i % 11);
  }
  kam::v1::BatchRecordInteractionsResponse response;
  {
    grpc::ClientContext context;
    grpc::Status status = stub_->BatchRecordInteractions(&context, batch, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_EQ(response.results_size(), kAnswers);
  for (const auto& result : response.results()) ASSERT_EQ(result.code(), 0) << result.error();

  // Health records of the account: key "health\0" + task prefix (4 bytes) + account id.
  const std::string prefix = std::string("health") + '\0';
  std::vector<kam::internal::v1::AccountHealthState> states;
  // Polled: the last transaction's records are readable once its markers are written.
  ASSERT_TRUE(testing::WaitFor([&] {
    states.clear();
    for (const auto& record : testing::ReadTopic(brokers_, interactions_.group + ".changelog.v1")) {
      if (record.key.rfind(prefix, 0) != 0 || record.key.size() < prefix.size() + 4 ||
          record.key.substr(prefix.size() + 4) != account.id()) {
        continue;
      }
      kam::internal::v1::AccountHealthState state;
      if (!state.ParseFromString(record.value)) return false;
      states.push_back(state);
    }
    return !states.empty() && states.back().answers_size() == kAnswers;
  })) << states.size()
      << " health records, the last with " << (states.empty() ? 0 : states.back().answers_size())
      << " answers";
  // The items share one or a few transactions (the group committer takes what has arrived).
  EXPECT_LT(states.size(), 10u) << "one changelog record per answer: superseded values sent";
  EXPECT_EQ(states.back().answers_size(), kAnswers) << "the last record holds every answer";

  kam::v1::GetAccountHealthRequest health_request;
  health_request.set_account_id(account.id());
  kam::v1::AccountHealth health;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->GetAccountHealth(&context, health_request, &health).ok());
  EXPECT_EQ(health.nps_responses(), kAnswers);
}

TEST_F(InteractionsKafkaTest, KillNineMidBurstLosesNoAcknowledgedInteractionAndPublishesOnce) {
  kam::v1::Manager manager = CreateManager("burst@example.com");
  std::vector<kam::v1::Account> accounts;
  for (int i = 0; i < 5; ++i)
    accounts.push_back(CreateAccount("Burst " + std::to_string(i), manager.id()));
  auto request_for = [&](const std::string& request_id, int n) {
    kam::v1::RecordInteractionRequest request;
    request.set_request_id(request_id);
    request.mutable_interaction()->set_account_id(accounts[n % accounts.size()].id());
    request.mutable_interaction()->set_type(kam::v1::INTERACTION_TYPE_CALL);
    request.mutable_interaction()->set_note("call " + request_id);
    return request;
  };
  // Warm up: every account is in the replica before the burst.
  for (size_t i = 0; i < accounts.size(); ++i) {
    grpc::ClientContext context;
    kam::v1::Interaction out;
    ASSERT_TRUE(
        stub_->RecordInteraction(&context, request_for("warm-" + std::to_string(i), i), &out).ok());
  }

  std::mutex mutex;
  std::map<std::string, std::string> acked;
  std::set<std::string> attempted;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; !stop.load(); ++i) {
        std::string id = "burst-" + std::to_string(w) + "-" + std::to_string(i);
        {
          std::lock_guard<std::mutex> lock(mutex);
          attempted.insert(id);
        }
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        kam::v1::Interaction out;
        if (!stub_->RecordInteraction(&context, request_for(id, i), &out).ok()) return;
        std::lock_guard<std::mutex> lock(mutex);
        acked[id] = out.id();
      }
    });
  }
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mutex);
        return acked.size() >= 1000;
      },
      std::chrono::seconds(120)));
  interactions_.process->Signal(SIGKILL);
  ASSERT_TRUE(interactions_.process->Wait(std::chrono::seconds(10)).has_value());
  stop.store(true);
  for (auto& writer : writers) writer.join();

  StartInteractions("interactions-log-2");
  for (const auto& [request_id, id] : acked) {
    grpc::ClientContext context;
    kam::v1::GetInteractionRequest get;
    get.set_id(id);
    kam::v1::Interaction out;
    ASSERT_TRUE(stub_->GetInteraction(&context, get, &out).ok()) << request_id << " lost";
  }
  std::set<std::string> ids;
  for (const auto& request_id : attempted) {
    int n = std::stoi(request_id.substr(request_id.rfind('-') + 1));
    grpc::ClientContext context;
    kam::v1::Interaction out;
    grpc::Status status = stub_->RecordInteraction(&context, request_for(request_id, n), &out);
    ASSERT_TRUE(status.ok()) << status.error_message();
    if (acked.count(request_id)) {
      EXPECT_EQ(out.id(), acked[request_id]);
    }
    ids.insert(out.id());
  }
  std::set<std::string> account_ids;
  for (const auto& account : accounts) account_ids.insert(account.id());
  std::map<std::string, int> published;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        published.clear();
        for (const auto& record : testing::ReadTopic(brokers_, "kam.interactions.v1")) {
          if (!account_ids.count(record.key)) continue;
          kam::v1::EventEnvelope envelope;
          EXPECT_TRUE(envelope.ParseFromString(record.value));
          const std::string& id = envelope.interaction_recorded().interaction().id();
          if (ids.count(id)) ++published[id];
        }
        return published.size() == ids.size();
      },
      std::chrono::seconds(120)))
      << published.size() << " of " << ids.size();
  for (const auto& [id, count] : published) EXPECT_EQ(count, 1) << id << " published twice";
  std::cout << "acked before kill: " << acked.size() << ", attempted: " << attempted.size() << "\n";
}

}  // namespace
}  // namespace kam
