// kam-alerts as several instances behind one address list: any instance answers ListAlerts,
// GetAlert and WatchAlerts for every alert of the application (each keeps a view fed by all tasks'
// changelogs), a WatchAlerts resume token from one instance continues on another, and either
// instance takes AcknowledgeAlert (it travels to the task that owns the alert).

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/kafka/kafka_common.h"
#include "common/time_util.h"
#include "kam/v1/alerts.grpc.pb.h"
#include "tests/testing/alert_stream.h"
#include "tests/testing/grpc_call.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace kam {
namespace {

using kam::v1::AlertsService;
using testing::Call;

// Every alert of the accounts tagged `tag` that `stub` lists, by id.
std::map<std::string, kam::v1::Alert> ListTagged(AlertsService::Stub* stub,
                                                 const std::string& tag) {
  std::map<std::string, kam::v1::Alert> alerts;
  kam::v1::ListAlertsRequest request;
  request.set_page_size(1000);
  while (true) {
    kam::v1::ListAlertsResponse page;
    if (!Call(stub, &AlertsService::Stub::ListAlerts, request, &page).ok()) return {};
    for (const auto& alert : page.alerts()) {
      if (alert.account_id().rfind(tag, 0) == 0) alerts[alert.id()] = alert;
    }
    if (page.next_page_token().empty()) return alerts;
    request.set_page_token(page.next_page_token());
  }
}

// Reads WatchAlerts from `token` until `enough` says so (or 60 s pass); the changes it got.
std::vector<kam::v1::AlertChange> Watch(
    AlertsService::Stub* stub, const std::string& token,
    const std::function<bool(const std::vector<kam::v1::AlertChange>&)>& enough) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  kam::v1::WatchAlertsRequest request;
  request.set_resume_token(token);
  auto reader = stub->WatchAlerts(&context, request);
  std::vector<kam::v1::AlertChange> changes;
  kam::v1::AlertChange change;
  while (!enough(changes) && reader->Read(&change)) changes.push_back(change);
  context.TryCancel();
  reader->Finish();
  return changes;
}

std::string Key(const kam::v1::AlertChange& change) {
  return change.alert().id() + "/" + change.alert().etag();
}

TEST(AnyInstanceTest, EitherInstanceAnswersForEveryAlertAndWatchesResumeAcrossThem) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  const std::string stamp = std::to_string(MillisFromTimestamp(NowTimestamp()));
  const std::string tag = "any" + stamp;
  const std::string group = "kam-alerts-any-" + stamp;
  kafka::KafkaOptions options;
  options.brokers = brokers;
  ASSERT_TRUE(kafka::EnsureTopics(options, {"kam.accounts.v1", "kam.interactions.v1"}, 3, 30000)
                  .ok());
  auto start = [&](const std::string& name) {
    return testing::StartService("kam-alerts", brokers, dir.Sub(name), dir.Sub(name + "-log"),
                                 {"--consumer-group", group, "--instance-id", name});
  };
  auto a = start("a");
  ASSERT_TRUE(a.process) << a.address;
  auto b = start("b");
  ASSERT_TRUE(b.process) << b.address;
  auto running = [](const testing::RunningService& s) {
    return testing::ScrapeMetric(s.metrics_port, "kam_tasks{state=\"running\"}");
  };
  ASSERT_TRUE(testing::WaitFor([&] { return running(a) + running(b) == 3; }))
      << "the group spreads the three tasks over both instances";
  ASSERT_GE(running(a), 1);
  ASSERT_GE(running(b), 1);

  // Thirty accounts over all partitions, every other one sliding: alerts in every task.
  const int64_t week = 7LL * 24 * 3600 * 1000;
  const int64_t base = MillisFromTimestamp(NowTimestamp()) - 8 * week;
  const int answers[] = {9, 9, 8, 6, 4, 3};
  std::map<int32_t, std::vector<std::pair<std::string, std::string>>> accounts, surveys;
  for (int n = 0; n < 30; ++n) {
    const std::string id = tag + "-acc-" + std::to_string(n);
    accounts[n % 3].emplace_back(id, testing::AccountCreatedEvent(id, "mgr-" + tag));
    for (int w = 0; w < 6; ++w) {
      surveys[n % 3].emplace_back(id, testing::SurveyEvent(id, id + "-s" + std::to_string(w),
                                                           base + w * week,
                                                           n % 2 ? answers[w] : 9));
    }
  }
  for (int32_t p = 0; p < 3; ++p) {
    ASSERT_TRUE(testing::ProduceRecords(brokers, "kam.accounts.v1", p, accounts[p]));
    ASSERT_TRUE(testing::ProduceRecords(brokers, "kam.interactions.v1", p, surveys[p]));
  }

  // Both instances list the same alerts, of every task.
  auto stub_a = testing::StubFor<AlertsService>(a.address);
  auto stub_b = testing::StubFor<AlertsService>(b.address);
  std::map<std::string, kam::v1::Alert> from_a, from_b;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        from_a = ListTagged(stub_a.get(), tag);
        from_b = ListTagged(stub_b.get(), tag);
        std::set<std::string> with_alerts;
        for (const auto& [id, alert] : from_a) with_alerts.insert(alert.account_id());
        return with_alerts.size() == 15 && from_a.size() == from_b.size();
      },
      std::chrono::seconds(120)))
      << "a lists " << from_a.size() << ", b " << from_b.size();
  for (const auto& [id, alert] : from_a) {
    kam::v1::GetAlertRequest get;
    get.set_id(id);
    kam::v1::Alert got;
    ASSERT_TRUE(Call(stub_b.get(), &AlertsService::Stub::GetAlert, get, &got).ok()) << id;
    EXPECT_EQ(got.etag(), alert.etag()) << id;
  }

  // Either instance takes an acknowledgement: it travels to the alert's task, wherever that runs.
  // Six alerts, acknowledged through a and b in turn; each caller reads its own write.
  int acknowledged_count = 0;
  bool through_a = true;
  for (const auto& [id, alert] : from_a) {
    if (alert.state() != kam::v1::ALERT_STATE_FIRING) continue;
    auto* caller = through_a ? stub_a.get() : stub_b.get();
    auto* other = through_a ? stub_b.get() : stub_a.get();
    through_a = !through_a;
    kam::v1::AcknowledgeAlertRequest ack;
    ack.set_id(id);
    ack.set_acknowledged_by("lead@example.com");
    ack.set_etag(alert.etag());
    kam::v1::Alert acknowledged;
    grpc::Status status =
        Call(caller, &AlertsService::Stub::AcknowledgeAlert, ack, &acknowledged);
    ASSERT_TRUE(status.ok()) << id << ": " << status.error_message();
    EXPECT_EQ(acknowledged.state(), kam::v1::ALERT_STATE_ACKNOWLEDGED);
    kam::v1::GetAlertRequest get;
    get.set_id(id);
    kam::v1::Alert seen;
    ASSERT_TRUE(Call(caller, &AlertsService::Stub::GetAlert, get, &seen).ok());
    EXPECT_EQ(seen.state(), kam::v1::ALERT_STATE_ACKNOWLEDGED) << "read your own write";
    EXPECT_TRUE(testing::WaitFor([&] {
      return Call(other, &AlertsService::Stub::GetAlert, get, &seen).ok() &&
             seen.state() == kam::v1::ALERT_STATE_ACKNOWLEDGED;
    }));
    // The same acknowledgement again on the other instance, with the etag read before -- a retry
    // after a lost answer: it gets the acknowledged alert, unchanged, not ABORTED.
    kam::v1::Alert again;
    ASSERT_TRUE(Call(other, &AlertsService::Stub::AcknowledgeAlert, ack, &again).ok());
    EXPECT_EQ(again.etag(), acknowledged.etag());
    EXPECT_EQ(again.state(), kam::v1::ALERT_STATE_ACKNOWLEDGED);
    if (++acknowledged_count == 6) break;
  }
  EXPECT_EQ(acknowledged_count, 6);
  kam::v1::AcknowledgeAlertRequest unknown;
  unknown.set_id("no-such-alert");
  unknown.set_acknowledged_by("lead@example.com");
  kam::v1::Alert ignored;
  EXPECT_EQ(Call(stub_b.get(), &AlertsService::Stub::AcknowledgeAlert, unknown, &ignored)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);

  // A watch on a, resumed on b from the token of its tenth change: nothing twice, nothing lost.
  auto first = Watch(stub_a.get(), "", [](const auto& changes) { return changes.size() >= 20; });
  ASSERT_GE(first.size(), 20u);
  std::set<std::string> before;
  for (size_t i = 0; i < 10; ++i) before.insert(Key(first[i]));
  std::set<std::string> wanted;
  for (size_t i = 10; i < 20; ++i) wanted.insert(Key(first[i]));
  std::set<std::string> resumed_keys;
  auto resumed = Watch(stub_b.get(), first[9].resume_token(), [&](const auto& changes) {
    if (!changes.empty()) resumed_keys.insert(Key(changes.back()));
    for (const auto& key : wanted) {
      if (!resumed_keys.count(key)) return false;
    }
    return true;
  });
  for (const auto& change : resumed) {
    EXPECT_FALSE(before.count(Key(change))) << Key(change) << " delivered again on b";
  }
  for (const auto& key : wanted) EXPECT_TRUE(resumed_keys.count(key)) << key << " lost on b";
  // A token this service never issued, and one for changes no longer kept, are refused clearly.
  auto refused_watch = [&](const std::string& token) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    kam::v1::WatchAlertsRequest request;
    request.set_resume_token(token);
    auto reader = stub_b->WatchAlerts(&context, request);
    kam::v1::AlertChange change;
    while (reader->Read(&change)) {
    }
    return reader->Finish().error_code();
  };
  EXPECT_EQ(refused_watch("17"), grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace kam
