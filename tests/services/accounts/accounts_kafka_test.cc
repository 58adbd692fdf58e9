// kam-accounts as a process on a real Kafka broker: changes made over gRPC come back from
// kam.accounts.v1 and kam.managers.v1 one by one, in order, once, with the headers operators use.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <csignal>
#include <set>

#include "kam/v1/accounts.grpc.pb.h"
#include "kam/v1/events.pb.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace kam {
namespace {

using testing::TopicRecord;

struct Event {
  TopicRecord record;
  kam::v1::EventEnvelope envelope;
};

// The events on `topic` whose key is in `keys`, in partition order (one key = one partition).
std::vector<Event> EventsFor(const std::string& brokers, const std::string& topic,
                             const std::set<std::string>& keys) {
  std::vector<Event> events;
  for (auto& record : testing::ReadTopic(brokers, topic)) {
    if (!keys.count(record.key)) continue;
    Event event{record, {}};
    EXPECT_TRUE(event.envelope.ParseFromString(record.value));
    events.push_back(std::move(event));
  }
  return events;
}

std::vector<std::string> TypesFor(const std::vector<Event>& events, const std::string& key) {
  std::vector<std::string> types;
  for (const auto& event : events) {
    if (event.record.key == key) types.push_back(event.envelope.type());
  }
  return types;
}

TEST(AccountsKafkaTest, EveryChangeArrivesOnItsTopicsInOrderAndOnce) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  auto service = testing::StartService("kam-accounts", brokers, dir.Sub("data"), dir.Sub("log"));
  ASSERT_TRUE(service.process) << service.address;
  auto stub = kam::v1::AccountsService::NewStub(
      grpc::CreateChannel(service.address, grpc::InsecureChannelCredentials()));
  auto call = [](auto method, const auto& request, auto* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status status = method(&context, request, response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  };
  using Stub = kam::v1::AccountsService::Stub;
  auto bind = [&](auto member) {
    return [&, member](grpc::ClientContext* c, const auto& r, auto* o) {
      return ((*stub).*member)(c, r, o);
    };
  };

  kam::v1::Manager jane, max;
  kam::v1::CreateManagerRequest create_manager;
  create_manager.mutable_manager()->set_name("Jane");
  create_manager.mutable_manager()->set_email("jane@example.com");
  call(bind(&Stub::CreateManager), create_manager, &jane);
  create_manager.mutable_manager()->set_name("Max");
  create_manager.mutable_manager()->set_email("max@example.com");
  call(bind(&Stub::CreateManager), create_manager, &max);

  kam::v1::CreateAccountRequest create;
  create.mutable_account()->set_name("Alpha");
  create.mutable_account()->set_industry(kam::v1::INDUSTRY_SERVICES);
  create.mutable_account()->mutable_annual_revenue()->set_amount_minor(70000);
  create.mutable_account()->mutable_annual_revenue()->set_currency("EUR");
  create.mutable_account()->set_owner_manager_id(jane.id());
  kam::v1::Account alpha, beta, out;
  call(bind(&Stub::CreateAccount), create, &alpha);
  create.mutable_account()->set_name("Beta");
  create.mutable_account()->mutable_annual_revenue()->set_amount_minor(30000);
  create.mutable_account()->clear_owner_manager_id();
  call(bind(&Stub::CreateAccount), create, &beta);

  kam::v1::AssignAccountRequest assign;
  assign.set_account_id(beta.id());
  assign.set_manager_id(jane.id());
  call(bind(&Stub::AssignAccount), assign, &out);
  kam::v1::UpdateAccountRequest rename;
  rename.mutable_account()->set_id(alpha.id());
  rename.mutable_account()->set_name("Alpha Group");
  rename.mutable_update_mask()->add_paths("name");
  call(bind(&Stub::UpdateAccount), rename, &out);
  kam::v1::ReassignAccountRequest reassign;
  reassign.set_account_id(alpha.id());
  reassign.set_new_manager_id(max.id());
  reassign.set_reason("Jane moves to a new region");
  call(bind(&Stub::ReassignAccount), reassign, &out);
  kam::v1::CloseAccountRequest close;
  close.set_id(beta.id());
  close.set_reason("contract ended");
  call(bind(&Stub::CloseAccount), close, &out);

  // Alpha's share moves from 100 % to 70 % when Beta arrives and back to 100 % when Beta closes:
  // an account of 10 % or more is published when its share crosses a whole point.
  const std::vector<std::string> alpha_expected = {
      "kam.v1.AccountCreated", "kam.v1.AccountAssigned", "kam.v1.AccountUpdated",
      "kam.v1.AccountUpdated", "kam.v1.AccountAssigned", "kam.v1.AccountUpdated"};
  const std::vector<std::string> beta_expected = {"kam.v1.AccountCreated", "kam.v1.AccountAssigned",
                                                  "kam.v1.AccountClosed"};
  std::vector<Event> accounts;
  ASSERT_TRUE(testing::WaitFor([&] {
    accounts = EventsFor(brokers, "kam.accounts.v1", {alpha.id(), beta.id()});
    return accounts.size() >= alpha_expected.size() + beta_expected.size();
  })) << "got "
      << accounts.size() << " account events";

  EXPECT_EQ(TypesFor(accounts, alpha.id()), alpha_expected);
  EXPECT_EQ(TypesFor(accounts, beta.id()), beta_expected);
  std::set<std::string> event_ids;
  int64_t last_offset = 0;
  for (const auto& event : accounts) {
    EXPECT_TRUE(event_ids.insert(event.envelope.event_id()).second) << "event published twice";
    EXPECT_EQ(event.record.headers.at("kam-producer"), service.producer);
    EXPECT_EQ(service.producer.rfind("kam-accounts/", 0), 0u);
    // Published in Kafka transactions: no outbox sequence; the order is the partition's.
    EXPECT_EQ(event.record.headers.count("kam-seq"), 0u);
    EXPECT_EQ(event.envelope.source(), "kam-accounts");
    EXPECT_EQ(event.envelope.subject(), event.record.key);
    if (event.record.key == alpha.id()) {
      EXPECT_GT(event.record.offset + 1, last_offset) << "one key's events in order";
      last_offset = event.record.offset + 1;
    }
  }
  for (const auto& event : accounts) {
    if (event.envelope.has_account_assigned() && event.record.key == alpha.id() &&
        !event.envelope.account_assigned().old_manager_id().empty()) {
      EXPECT_EQ(event.envelope.account_assigned().old_manager_id(), jane.id());
      EXPECT_EQ(event.envelope.account_assigned().new_manager_id(), max.id());
      EXPECT_EQ(event.envelope.account_assigned().reason(), "Jane moves to a new region");
      EXPECT_DOUBLE_EQ(event.envelope.account_assigned().weight(), 1.0);
      EXPECT_EQ(event.envelope.account_assigned().account().tier(), kam::v1::TIER_A);
    }
  }

  // The managers topic alone is enough to know each manager's load.
  std::vector<Event> managers;
  kam::v1::ManagerLoad jane_load, max_load;
  ASSERT_TRUE(testing::WaitFor([&] {
    managers = EventsFor(brokers, "kam.managers.v1", {jane.id(), max.id()});
    int jane_loads = 0;
    for (const auto& event : managers) {
      if (!event.envelope.has_manager_load_changed()) continue;
      const auto& load = event.envelope.manager_load_changed().load();
      (load.manager_id() == jane.id() ? jane_load : max_load) = load;
      jane_loads += load.manager_id() == jane.id();
    }
    // Jane's last snapshot after beta closed, Max's after alpha arrived (several more snapshots
    // come along the way, e.g. when a share move republishes an account).
    return jane_loads >= 4 && jane_load.account_count() == 0 && max_load.account_count() == 1;
  }));
  EXPECT_EQ(TypesFor(managers, jane.id()).front(), "kam.v1.ManagerCreated");
  EXPECT_EQ(jane_load.account_count(), 0);
  EXPECT_DOUBLE_EQ(jane_load.load(), 0);
  ASSERT_EQ(max_load.account_count(), 1);
  EXPECT_DOUBLE_EQ(max_load.load(), 1.0);
  ASSERT_EQ(max_load.accounts_size(), 1);
  EXPECT_EQ(max_load.accounts(0).account_id(), alpha.id());
  int copies = 0;
  for (const auto& event : managers) copies += event.envelope.has_account_assigned();
  EXPECT_EQ(copies, 4) << "alpha to jane, beta to jane, alpha jane->max on both keys";

  // A graceful stop ends cleanly (under the sanitizers also without leaks or errors at exit).
  service.process->Signal(SIGTERM);
  EXPECT_EQ(service.process->Wait(std::chrono::seconds(30)), 0) << service.process->Stderr();
}

}  // namespace
}  // namespace kam
