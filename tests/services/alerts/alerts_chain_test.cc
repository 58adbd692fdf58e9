// The three services as processes on the real Kafka broker, driven only through gRPC: an
// overloaded manager and a customer whose satisfaction slides raise alerts that arrive as
// CloudEvents on kam.alerts.v1 and on WatchAlerts, are acknowledged, and resolve.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/time_util.h"
#include "kam/v1/accounts.grpc.pb.h"
#include "kam/v1/alerts.grpc.pb.h"
#include "kam/v1/interactions.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/testing/grpc_call.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace kam {
namespace {

using testing::Call;

TEST(AlertsChainTest, OverloadAndSlidingSatisfactionRaiseExplainedAlertsEndToEnd) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  const testing::RunningPlatform platform = testing::StartPlatform(brokers, dir.path());
  ASSERT_EQ(platform.failure, "");
  // References, not a structured binding: clang 14 cannot capture bindings in lambdas.
  const testing::RunningService& accounts = platform.accounts;
  const testing::RunningService& interactions = platform.interactions;
  const testing::RunningService& alerts = platform.alerts;
  auto accounts_stub = kam::v1::AccountsService::NewStub(
      grpc::CreateChannel(accounts.address, grpc::InsecureChannelCredentials()));
  auto interactions_stub = kam::v1::InteractionsService::NewStub(
      grpc::CreateChannel(interactions.address, grpc::InsecureChannelCredentials()));
  auto alerts_stub = kam::v1::AlertsService::NewStub(
      grpc::CreateChannel(alerts.address, grpc::InsecureChannelCredentials()));

  // Watch from the beginning of the change log, in the background.
  grpc::ClientContext watch_context;
  kam::v1::WatchAlertsRequest watch_request;
  auto watch = alerts_stub->WatchAlerts(&watch_context, watch_request);

  kam::v1::CreateManagerRequest create_manager;
  create_manager.mutable_manager()->set_name("Busy Bea");
  create_manager.mutable_manager()->set_email("bea@example.com");
  create_manager.mutable_manager()->set_capacity(3);
  kam::v1::Manager busy, spare;
  ASSERT_TRUE(Call(accounts_stub.get(), &kam::v1::AccountsService::Stub::CreateManager,
                   create_manager, &busy)
                  .ok());
  create_manager.mutable_manager()->set_name("Spare Sam");
  create_manager.mutable_manager()->set_email("sam@example.com");
  create_manager.mutable_manager()->set_capacity(10);
  ASSERT_TRUE(Call(accounts_stub.get(), &kam::v1::AccountsService::Stub::CreateManager,
                   create_manager, &spare)
                  .ok());
  std::vector<kam::v1::Account> owned;
  for (int i = 0; i < 4; ++i) {
    kam::v1::CreateAccountRequest create;
    create.mutable_account()->set_name("Plain " + std::to_string(i));
    create.mutable_account()->set_industry(kam::v1::INDUSTRY_SERVICES);
    create.mutable_account()->mutable_annual_revenue()->set_amount_minor(1000000);
    create.mutable_account()->mutable_annual_revenue()->set_currency("EUR");
    create.mutable_account()->set_owner_manager_id(busy.id());
    kam::v1::Account account;
    ASSERT_TRUE(
        Call(accounts_stub.get(), &kam::v1::AccountsService::Stub::CreateAccount, create, &account)
            .ok());
    owned.push_back(account);
  }

  // The overload arrives on WatchAlerts...
  kam::v1::AlertChange change;
  std::string overload_id;
  while (overload_id.empty() && watch->Read(&change)) {
    if (change.alert().rule() == kam::v1::ALERT_RULE_MANAGER_OVERLOADED &&
        change.alert().manager_id() == busy.id() &&
        change.kind() == kam::v1::ALERT_CHANGE_KIND_FIRED) {
      overload_id = change.alert().id();
      EXPECT_EQ(change.alert().severity(), kam::v1::SEVERITY_CRITICAL);  // 3.75 / 3 = 125 %
      EXPECT_NE(change.alert().summary().find("Busy Bea"), std::string::npos);
    }
  }
  ASSERT_FALSE(overload_id.empty());

  // ... and can be acknowledged.
  kam::v1::AcknowledgeAlertRequest ack;
  ack.set_id(overload_id);
  ack.set_acknowledged_by("head-of-sales@example.com");
  kam::v1::Alert acknowledged;
  ASSERT_TRUE(
      Call(alerts_stub.get(), &kam::v1::AlertsService::Stub::AcknowledgeAlert, ack, &acknowledged)
          .ok());
  EXPECT_EQ(acknowledged.state(), kam::v1::ALERT_STATE_ACKNOWLEDGED);

  // Reassigning one account away resolves it, live on the same stream.
  kam::v1::ReassignAccountRequest move;
  move.set_account_id(owned[0].id());
  move.set_new_manager_id(spare.id());
  move.set_reason("balance the portfolio");
  kam::v1::Account moved;
  ASSERT_TRUE(
      Call(accounts_stub.get(), &kam::v1::AccountsService::Stub::ReassignAccount, move, &moved)
          .ok());
  bool resolved = false;
  while (!resolved && watch->Read(&change)) {
    resolved =
        change.alert().id() == overload_id && change.kind() == kam::v1::ALERT_CHANGE_KIND_RESOLVED;
  }
  EXPECT_TRUE(resolved);

  // A customer whose answers slide, one a week.
  const int64_t now = MillisFromTimestamp(NowTimestamp());
  const int64_t week = 7LL * 24 * 3600 * 1000;
  int answers[] = {9, 9, 8, 6, 4, 3};
  for (int i = 0; i < 6; ++i) {
    kam::v1::RecordInteractionRequest survey;
    survey.mutable_interaction()->set_account_id(owned[1].id());
    survey.mutable_interaction()->set_type(kam::v1::INTERACTION_TYPE_SURVEY);
    survey.mutable_interaction()->mutable_survey()->set_nps(answers[i]);
    *survey.mutable_interaction()->mutable_occur_time() = TimestampFromMillis(now - (6 - i) * week);
    kam::v1::Interaction recorded;
    grpc::Status status =
        Call(interactions_stub.get(), &kam::v1::InteractionsService::Stub::RecordInteraction,
             survey, &recorded);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  std::string falling_id;
  while (falling_id.empty() && watch->Read(&change)) {
    if (change.alert().rule() == kam::v1::ALERT_RULE_SATISFACTION_FALLING &&
        change.alert().account_id() == owned[1].id()) {
      falling_id = change.alert().id();
      EXPECT_EQ(change.alert().manager_id(), busy.id());
    }
  }
  ASSERT_FALSE(falling_id.empty());
  watch_context.TryCancel();

  // Operations see the same changes on kam.alerts.v1, as CloudEvents keyed by fingerprint.
  std::vector<std::string> overload_types;
  bool falling_seen = false;
  ASSERT_TRUE(testing::WaitFor([&] {
    overload_types.clear();
    falling_seen = false;
    for (const auto& record : testing::ReadTopic(brokers, "kam.alerts.v1")) {
      // Other tests' kam-alerts applications read the same input topics and may publish the
      // same alert (same fingerprint): only this one's records count.
      auto producer = record.headers.find("kam-producer");
      if (producer == record.headers.end() || producer->second != alerts.producer) continue;
      auto event = nlohmann::json::parse(record.value, nullptr, false);
      EXPECT_FALSE(event.is_discarded());
      if (event.is_discarded()) continue;
      EXPECT_EQ(record.key, event["subject"].get<std::string>());
      if (event["data"].value("id", "") == overload_id) overload_types.push_back(event["type"]);
      falling_seen |= event["data"].value("id", "") == falling_id;
    }
    return overload_types.size() >= 3 && falling_seen;
  }));
  EXPECT_EQ(overload_types,
            (std::vector<std::string>{"dev.kam.alert.fired", "dev.kam.alert.acknowledged",
                                      "dev.kam.alert.resolved"}));

  kam::v1::ListAlertsRequest list;
  list.set_account_id(owned[1].id());
  list.set_state(kam::v1::ALERT_STATE_FIRING);
  kam::v1::ListAlertsResponse firing;
  ASSERT_TRUE(
      Call(alerts_stub.get(), &kam::v1::AlertsService::Stub::ListAlerts, list, &firing).ok());
  EXPECT_GE(firing.alerts_size(), 1);
}

}  // namespace
}  // namespace kam
