// kam-alertmanager-bridge against a real Alertmanager (Debian's prometheus-alertmanager), a local
// receiver of PagerDuty Events v2, and the real broker: kam's alert changes, rendered by
// kam-alerts' own CloudEvent code, appear in Alertmanager with routing labels; a suppressed one
// does not; a resolution ends its alert; a bridge killed with -9 and restarted neither loses a
// firing alert nor re-opens a resolved one. PagerDuty gets trigger, acknowledge and resolve in
// order, through an outage of the receiver.

#include <httplib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>
#include <string>

#include "common/kafka/kafka_common.h"
#include "common/time_util.h"
#include "nlohmann/json.hpp"
#include "services/alerts/cloud_event.h"
#include "tests/testing/process.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace kam {
namespace {

std::string Change(const std::string& fingerprint, kam::v1::AlertRule rule,
                   kam::v1::AlertChangeKind kind, bool suppressed, int64_t start_millis,
                   int64_t resolve_millis = 0, bool acknowledged = false) {
  kam::v1::AlertChange change;
  change.set_kind(kind);
  auto* alert = change.mutable_alert();
  alert->set_id(fingerprint + "-1");
  alert->set_fingerprint(fingerprint);
  alert->set_rule(rule);
  alert->set_severity(kam::v1::SEVERITY_CRITICAL);
  alert->set_state(resolve_millis > 0 ? kam::v1::ALERT_STATE_RESOLVED
                   : acknowledged      ? kam::v1::ALERT_STATE_ACKNOWLEDGED
                                       : kam::v1::ALERT_STATE_FIRING);
  alert->set_manager_id("mgr_north");
  if (rule != kam::v1::ALERT_RULE_MANAGER_OVERLOADED) alert->set_account_id("acc_kestrel");
  alert->set_summary("summary of " + fingerprint);
  auto* evidence = alert->add_evidence();
  evidence->set_name("utilisation");
  evidence->set_value("1.32");
  *alert->mutable_start_time() = TimestampFromMillis(start_millis);
  *alert->mutable_update_time() = TimestampFromMillis(resolve_millis > 0 ? resolve_millis
                                                                         : start_millis);
  if (resolve_millis > 0) *alert->mutable_resolve_time() = TimestampFromMillis(resolve_millis);
  alert->set_notification_suppressed(suppressed);
  alert->set_etag(resolve_millis > 0 ? "2" : "1");
  return alerts::RenderCloudEvent(change, 0, 1);
}

// Alertmanager's active alerts by fingerprint label.
std::map<std::string, nlohmann::json> Active(httplib::Client& client) {
  std::map<std::string, nlohmann::json> active;
  auto response = client.Get("/api/v2/alerts?active=true&silenced=true&inhibited=true");
  if (!response || response->status != 200) return active;
  auto alerts = nlohmann::json::parse(response->body, nullptr, false);
  if (!alerts.is_array()) return active;
  for (const auto& alert : alerts) {
    if (alert["status"]["state"] == "active") {
      active[alert["labels"]["fingerprint"].get<std::string>()] = alert;
    }
  }
  return active;
}

TEST(AlertmanagerBridgeTest, FiringAlertsAppearWithLabelsResolutionsEndThemRestartsChangeNothing) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  {
    std::ofstream config(dir.Sub("alertmanager.yml"));
    config << "route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n";
  }
  const int port = testing::FreeLoopbackPort();
  ASSERT_GT(port, 0);
  testing::Process alertmanager(
      {"/usr/bin/prometheus-alertmanager", "--config.file=" + dir.Sub("alertmanager.yml"),
       "--storage.path=" + dir.Sub("am-data"),
       "--web.listen-address=127.0.0.1:" + std::to_string(port), "--cluster.listen-address="},
      dir.Sub("alertmanager"));
  httplib::Client client("127.0.0.1", port);
  ASSERT_TRUE(testing::WaitFor([&] {
    auto ready = client.Get("/-/ready");
    return ready && ready->status == 200;
  })) << alertmanager.Stderr();

  const std::string topic = "kam.alerts.bridge." + std::to_string(getpid());
  kafka::KafkaOptions options;
  options.brokers = brokers;
  ASSERT_TRUE(kafka::EnsureTopics(options, {topic}, 1, 30000).ok());
  const int64_t now = MillisFromTimestamp(NowTimestamp());
  ASSERT_TRUE(testing::ProduceRecords(
      brokers, topic, 0,
      {{"overload", Change("overload", kam::v1::ALERT_RULE_MANAGER_OVERLOADED,
                           kam::v1::ALERT_CHANGE_KIND_FIRED, false, now - 60000)},
       {"low", Change("low", kam::v1::ALERT_RULE_SATISFACTION_LOW, kam::v1::ALERT_CHANGE_KIND_FIRED,
                      false, now - 50000)},
       {"quiet", Change("quiet", kam::v1::ALERT_RULE_RESPONSE_OVERDUE,
                        kam::v1::ALERT_CHANGE_KIND_FIRED, true, now - 40000)}}));
  auto start_bridge = [&](const std::string& name) {
    return std::make_unique<testing::Process>(
        std::vector<std::string>{testing::BinDir() + "/kam-alertmanager-bridge", "--kafka-brokers",
                                 brokers, "--topic", topic, "--alertmanager-url",
                                 "http://127.0.0.1:" + std::to_string(port), "--resend-seconds",
                                 "1"},
        dir.Sub(name));
  };
  auto bridge = start_bridge("bridge-1");

  std::map<std::string, nlohmann::json> active;
  ASSERT_TRUE(testing::WaitFor([&] {
    active = Active(client);
    return active.count("overload") && active.count("low");
  })) << bridge->Stderr();
  EXPECT_EQ(active.count("quiet"), 0u) << "suppressed in kam: not notified";
  const auto& overload = active["overload"]["labels"];
  EXPECT_EQ(overload["alertname"], "MANAGER_OVERLOADED");
  EXPECT_EQ(overload["severity"], "critical");
  EXPECT_EQ(overload["manager_id"], "mgr_north") << "routing by owner without parsing summaries";
  EXPECT_EQ(active["low"]["labels"]["account_id"], "acc_kestrel");
  EXPECT_EQ(active["overload"]["annotations"]["summary"], "summary of overload");
  EXPECT_EQ(active["overload"]["annotations"]["evidence"], "utilisation: 1.32");

  // The overload resolves: Alertmanager ends it.
  ASSERT_TRUE(testing::ProduceRecords(
      brokers, topic, 0,
      {{"overload", Change("overload", kam::v1::ALERT_RULE_MANAGER_OVERLOADED,
                           kam::v1::ALERT_CHANGE_KIND_RESOLVED, false, now - 60000,
                           MillisFromTimestamp(NowTimestamp()))}}));
  ASSERT_TRUE(testing::WaitFor([&] {
    active = Active(client);
    return !active.count("overload") && active.count("low");
  })) << bridge->Stderr();

  // Killed and restarted: it reads the stream again and ends where it was.
  bridge->Signal(SIGKILL);
  bridge->Wait(std::chrono::seconds(10));
  bridge = start_bridge("bridge-2");
  ASSERT_TRUE(testing::ProduceRecords(
      brokers, topic, 0,
      {{"later", Change("later", kam::v1::ALERT_RULE_NO_CONTACT, kam::v1::ALERT_CHANGE_KIND_FIRED,
                        false, now)}}));
  ASSERT_TRUE(testing::WaitFor([&] {
    active = Active(client);
    return active.count("later") > 0;
  })) << bridge->Stderr();
  EXPECT_EQ(active.count("low"), 1u) << "a firing alert is not lost";
  EXPECT_EQ(active.count("overload"), 0u) << "a resolved alert is not re-opened";
  EXPECT_EQ(active.count("quiet"), 0u);
  bridge->Signal(SIGTERM);
  EXPECT_EQ(bridge->Wait(std::chrono::seconds(30)).value_or(-1), 0);
}

TEST(AlertmanagerBridgeTest, PagerDutyGetsTriggerAcknowledgeResolveInOrderThroughAnOutage) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  // The receiver: the first three requests fail (an outage), then it takes everything.
  std::mutex mutex;
  std::vector<nlohmann::json> received;
  int refused = 0;
  httplib::Server receiver;
  receiver.Post("/v2/enqueue", [&](const httplib::Request& request, httplib::Response& response) {
    std::lock_guard<std::mutex> lock(mutex);
    if (refused < 3) {
      ++refused;
      response.status = 503;
      return;
    }
    received.push_back(nlohmann::json::parse(request.body));
    response.status = 202;
    response.set_content(R"({"status":"success"})", "application/json");
  });
  const int port = receiver.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { receiver.listen_after_bind(); });
  {
    std::ofstream key(dir.Sub("routing-key"));
    key << "R0UT1NGKEY\n";
  }
  const std::string topic = "kam.alerts.pd." + std::to_string(getpid());
  kafka::KafkaOptions options;
  options.brokers = brokers;
  ASSERT_TRUE(kafka::EnsureTopics(options, {topic}, 1, 30000).ok());
  const int64_t now = MillisFromTimestamp(NowTimestamp());
  using kam::v1::ALERT_RULE_MANAGER_OVERLOADED;
  ASSERT_TRUE(testing::ProduceRecords(
      brokers, topic, 0,
      {{"a", Change("a", ALERT_RULE_MANAGER_OVERLOADED, kam::v1::ALERT_CHANGE_KIND_FIRED, false,
                    now - 60000)},
       {"quiet", Change("quiet", ALERT_RULE_MANAGER_OVERLOADED, kam::v1::ALERT_CHANGE_KIND_FIRED,
                        true, now - 60000)}}));
  auto start_bridge = [&](const std::string& name) {
    return std::make_unique<testing::Process>(
        std::vector<std::string>{testing::BinDir() + "/kam-alertmanager-bridge", "--kafka-brokers",
                                 brokers, "--topic", topic, "--alertmanager-url", "",
                                 "--pagerduty-url",
                                 "http://127.0.0.1:" + std::to_string(port) + "/v2/enqueue",
                                 "--pagerduty-routing-key-file", dir.Sub("routing-key"),
                                 "--resend-seconds", "1"},
        dir.Sub(name));
  };
  auto bridge = start_bridge("bridge-1");
  auto actions = [&](const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<std::string> seen;
    for (const auto& event : received) {
      if (event["dedup_key"] == key) seen.push_back(event["event_action"]);
    }
    return seen;
  };
  ASSERT_TRUE(testing::WaitFor([&] { return actions("a").size() == 1; })) << bridge->Stderr();
  ASSERT_TRUE(testing::ProduceRecords(
      brokers, topic, 0,
      {{"a", Change("a", ALERT_RULE_MANAGER_OVERLOADED, kam::v1::ALERT_CHANGE_KIND_ACKNOWLEDGED,
                    false, now - 60000, 0, true)},
       {"a", Change("a", ALERT_RULE_MANAGER_OVERLOADED, kam::v1::ALERT_CHANGE_KIND_RESOLVED, false,
                    now - 60000, MillisFromTimestamp(NowTimestamp()))}}));
  ASSERT_TRUE(testing::WaitFor([&] { return actions("a").size() >= 2; })) << bridge->Stderr();
  {
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_EQ(refused, 3) << "the outage was ridden out";
    EXPECT_EQ(received[0]["routing_key"], "R0UT1NGKEY");
    EXPECT_EQ(received[0]["payload"]["severity"], "critical");
    EXPECT_EQ(received[0]["payload"]["group"], "mgr_north");
  }
  // The acknowledgement and resolution may arrive before the bridge looks again: then only the
  // resolution is owed. Either way trigger comes first and resolve last.
  auto seen = actions("a");
  EXPECT_EQ(seen.front(), "trigger");
  EXPECT_EQ(seen.back(), "resolve");
  EXPECT_TRUE(actions("quiet").empty()) << "suppressed in kam: not paged";

  // Restarted: the resolution may be delivered once more (harmless), nothing is triggered again.
  bridge->Signal(SIGKILL);
  bridge->Wait(std::chrono::seconds(10));
  bridge = start_bridge("bridge-2");
  ASSERT_TRUE(testing::ProduceRecords(
      brokers, topic, 0,
      {{"b", Change("b", ALERT_RULE_MANAGER_OVERLOADED, kam::v1::ALERT_CHANGE_KIND_FIRED, false,
                    now)}}));
  ASSERT_TRUE(testing::WaitFor([&] { return actions("b").size() == 1; })) << bridge->Stderr();
  seen = actions("a");
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "trigger"), 1) << "no incident opened twice";
  bridge->Signal(SIGTERM);
  EXPECT_EQ(bridge->Wait(std::chrono::seconds(30)).value_or(-1), 0);
  receiver.stop();
  serving.join();
}

}  // namespace
}  // namespace kam
