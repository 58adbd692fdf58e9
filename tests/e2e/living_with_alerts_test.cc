// Living with alerts on the real broker, two kam-alerts instances in one group: a silence created
// on one instance keeps the other's tasks from notifying; the alerts of an overloaded manager's
// accounts name the overload as their group and stay quiet; a snooze taken by either instance
// takes the alert out of the firing list and brings it back when it ends, each change published
// once on kam.alerts.v1 and streamed by WatchAlerts.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/kafka/kafka_common.h"
#include "common/time_util.h"
#include "kam/v1/alerts.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/testing/alert_stream.h"
#include "tests/testing/grpc_call.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace kam {
namespace {

using kam::v1::AlertsService;
using testing::Call;

std::vector<kam::v1::Alert> List(AlertsService::Stub* stub, const kam::v1::ListAlertsRequest& r) {
  kam::v1::ListAlertsResponse response;
  if (!Call(stub, &AlertsService::Stub::ListAlerts, r, &response).ok()) return {};
  return {response.alerts().begin(), response.alerts().end()};
}

std::optional<kam::v1::Alert> Get(AlertsService::Stub* stub, const std::string& id) {
  kam::v1::GetAlertRequest request;
  request.set_id(id);
  kam::v1::Alert alert;
  if (!Call(stub, &AlertsService::Stub::GetAlert, request, &alert).ok()) return std::nullopt;
  return alert;
}

TEST(LivingWithAlertsTest, SilencesGroupsAndSnoozesAcrossInstances) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  const std::string stamp = std::to_string(MillisFromTimestamp(NowTimestamp()));
  const std::string tag = "live" + stamp;
  const std::string manager = "mgr-" + tag;
  const std::string group = "kam-alerts-live-" + stamp;
  kafka::KafkaOptions options;
  options.brokers = brokers;
  ASSERT_TRUE(kafka::EnsureTopics(options, {"kam.accounts.v1", "kam.interactions.v1",
                                            "kam.managers.v1"},
                                  3, 30000)
                  .ok());
  auto start = [&](const std::string& name) {
    return testing::StartService(
        "kam-alerts", brokers, dir.Sub(name), dir.Sub(name + "-log"),
        {"--consumer-group", group, "--instance-id", name, "--idle-seconds", "1"});
  };
  auto a = start("a");
  ASSERT_TRUE(a.process) << a.address;
  auto b = start("b");
  ASSERT_TRUE(b.process) << b.address;
  auto running = [](const testing::RunningService& s) {
    return testing::ScrapeMetric(s.metrics_port, "kam_tasks{state=\"running\"}");
  };
  ASSERT_TRUE(testing::WaitFor([&] { return running(a) + running(b) == 3; }));
  auto stub_a = testing::StubFor<AlertsService>(a.address);
  auto stub_b = testing::StubFor<AlertsService>(b.address);

  // The manager is overloaded; both instances know it.
  ASSERT_TRUE(testing::ProduceRecords(brokers, "kam.managers.v1", 0,
                                      {{manager, testing::ManagerLoadEvent(manager, 4.5, 3, 4)}}));
  kam::v1::ListAlertsRequest overloads;
  overloads.set_rule(kam::v1::ALERT_RULE_MANAGER_OVERLOADED);
  overloads.set_manager_id(manager);
  std::string overload_id;
  ASSERT_TRUE(testing::WaitFor([&] {
    auto on_a = List(stub_a.get(), overloads);
    auto on_b = List(stub_b.get(), overloads);
    if (on_a.size() != 1 || on_b.size() != 1) return false;
    overload_id = on_a[0].id();
    return true;
  }));

  // A silence for one account, created on b, in every instance's book before anything fires.
  kam::v1::CreateSilenceRequest create;
  create.set_request_id("silence-" + tag);
  create.mutable_silence()->set_account_id(tag + "-quiet");
  create.mutable_silence()->set_created_by("lead@example.com");
  create.mutable_silence()->set_comment("account in migration");
  *create.mutable_silence()->mutable_end_time() =
      TimestampFromMillis(MillisFromTimestamp(NowTimestamp()) + 3600 * 1000);
  kam::v1::Silence silence;
  ASSERT_TRUE(Call(stub_b.get(), &AlertsService::Stub::CreateSilence, create, &silence).ok());
  kam::v1::Silence again;
  ASSERT_TRUE(Call(stub_b.get(), &AlertsService::Stub::CreateSilence, create, &again).ok());
  EXPECT_EQ(again.id(), silence.id()) << "a retry returns the silence the first call made";
  ASSERT_TRUE(testing::WaitFor([&] {
    kam::v1::ListSilencesResponse listed;
    return Call(stub_a.get(), &AlertsService::Stub::ListSilences, kam::v1::ListSilencesRequest(),
                &listed)
               .ok() &&
           listed.silences_size() >= 1;
  }));
  kam::v1::CreateSilenceRequest everything = create;
  everything.clear_request_id();
  everything.mutable_silence()->clear_account_id();
  grpc::Status refused;
  kam::v1::Silence unused;
  refused = Call(stub_a.get(), &AlertsService::Stub::CreateSilence, everything, &unused);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.error_message().find("matcher"), std::string::npos);

  // Two of the manager's accounts slide, on two partitions; one of them is silenced.
  const int64_t week = 7LL * 24 * 3600 * 1000;
  const int64_t base = MillisFromTimestamp(NowTimestamp()) - 8 * week;
  const int answers[] = {9, 9, 8, 6, 4, 3};
  const std::vector<std::pair<int32_t, std::string>> sliding = {{1, tag + "-quiet"},
                                                                 {2, tag + "-loud"}};
  for (const auto& [partition, id] : sliding) {
    ASSERT_TRUE(testing::ProduceRecords(brokers, "kam.accounts.v1", partition,
                                        {{id, testing::AccountCreatedEvent(id, manager)}}));
    std::vector<std::pair<std::string, std::string>> surveys;
    for (int w = 0; w < 6; ++w) {
      surveys.emplace_back(
          id, testing::SurveyEvent(id, id + "-s" + std::to_string(w), base + w * week, answers[w]));
    }
    ASSERT_TRUE(testing::ProduceRecords(brokers, "kam.interactions.v1", partition, surveys));
  }
  kam::v1::ListAlertsRequest parts;
  parts.set_group_alert_id(overload_id);
  std::vector<kam::v1::Alert> grouped;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        grouped = List(stub_a.get(), parts);
        std::set<std::string> accounts;
        for (const auto& alert : grouped) accounts.insert(alert.account_id());
        return accounts.size() == 2;
      },
      std::chrono::seconds(60)))
      << "the sliding accounts' alerts name the overload as their group";
  for (const auto& alert : grouped) {
    EXPECT_TRUE(alert.notification_suppressed()) << alert.id();
    if (alert.account_id() == tag + "-quiet") {
      ASSERT_EQ(alert.silenced_by_size(), 1) << alert.id();
      EXPECT_EQ(alert.silenced_by(0), silence.id());
    } else {
      EXPECT_EQ(alert.silenced_by_size(), 0) << alert.id();
    }
  }

  // Snooze the overload on a for four seconds: out of the firing list on both, back when it ends.
  kam::v1::SnoozeAlertRequest snooze;
  snooze.set_id(overload_id);
  snooze.set_snoozed_by("lead@example.com");
  snooze.set_reason("reassignments planned for tomorrow");
  *snooze.mutable_end_time() = TimestampFromMillis(MillisFromTimestamp(NowTimestamp()) + 4000);
  kam::v1::Alert snoozed;
  grpc::Status status = Call(stub_a.get(), &AlertsService::Stub::SnoozeAlert, snooze, &snoozed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(snoozed.state(), kam::v1::ALERT_STATE_SNOOZED);
  EXPECT_EQ(Get(stub_a.get(), overload_id)->state(), kam::v1::ALERT_STATE_SNOOZED)
      << "read your write";
  kam::v1::Alert retried;
  ASSERT_TRUE(Call(stub_a.get(), &AlertsService::Stub::SnoozeAlert, snooze, &retried).ok());
  EXPECT_EQ(retried.etag(), snoozed.etag()) << "a retry changes nothing";
  kam::v1::ListAlertsRequest firing = overloads;
  firing.set_state(kam::v1::ALERT_STATE_FIRING);
  ASSERT_TRUE(testing::WaitFor([&] { return List(stub_b.get(), firing).empty(); }));
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto back = Get(stub_b.get(), overload_id);
        return back && back->state() == kam::v1::ALERT_STATE_FIRING;
      },
      std::chrono::seconds(60)))
      << "the snooze ended and the manager is still overloaded";

  // Each change once on kam.alerts.v1, as notifiers see it.
  std::map<std::string, int> published;
  std::map<std::string, bool> suppressed;
  ASSERT_TRUE(testing::WaitFor([&] {
    published.clear();
    for (const auto& record : testing::ReadTopic(brokers, "kam.alerts.v1")) {
      auto event = nlohmann::json::parse(record.value, nullptr, false);
      if (event.is_discarded() || event["data"]["id"] != overload_id) continue;
      const std::string type = event["type"];
      ++published[type];
      suppressed[type] = event["kamsuppressed"].get<bool>();
    }
    return published["dev.kam.alert.snooze_ended"] >= 1;
  }));
  EXPECT_EQ(published["dev.kam.alert.snoozed"], 1);
  EXPECT_EQ(published["dev.kam.alert.snooze_ended"], 1);
  EXPECT_TRUE(suppressed["dev.kam.alert.snoozed"]);
  EXPECT_FALSE(suppressed["dev.kam.alert.snooze_ended"]);

  // WatchAlerts on b streams both changes.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader = stub_b->WatchAlerts(&context, kam::v1::WatchAlertsRequest());
  kam::v1::AlertChange change;
  std::vector<kam::v1::AlertChangeKind> kinds;
  while (reader->Read(&change)) {
    if (change.alert().id() != overload_id) continue;
    kinds.push_back(change.kind());
    if (change.kind() == kam::v1::ALERT_CHANGE_KIND_SNOOZE_ENDED) break;
  }
  context.TryCancel();
  reader->Finish();
  EXPECT_EQ(kinds, (std::vector<kam::v1::AlertChangeKind>{kam::v1::ALERT_CHANGE_KIND_FIRED,
                                                          kam::v1::ALERT_CHANGE_KIND_SNOOZED,
                                                          kam::v1::ALERT_CHANGE_KIND_SNOOZE_ENDED}));

  // Expiring the silence on a: gone from the active list on both.
  kam::v1::ExpireSilenceRequest expire;
  expire.set_id(silence.id());
  kam::v1::Silence expired;
  ASSERT_TRUE(Call(stub_a.get(), &AlertsService::Stub::ExpireSilence, expire, &expired).ok());
  ASSERT_TRUE(testing::WaitFor([&] {
    kam::v1::ListSilencesResponse listed;
    if (!Call(stub_b.get(), &AlertsService::Stub::ListSilences, kam::v1::ListSilencesRequest(),
              &listed)
             .ok()) {
      return false;
    }
    for (const auto& active : listed.silences()) {
      if (active.id() == silence.id()) return false;
    }
    return true;
  }));
  expire.set_id("sil_unknown");
  EXPECT_EQ(Call(stub_a.get(), &AlertsService::Stub::ExpireSilence, expire, &expired).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace kam
