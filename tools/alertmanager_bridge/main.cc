// kam-alertmanager-bridge: follows kam.alerts.v1 and keeps a real Alertmanager's view of kam's
// alerts current through its v2 API (POST /api/v2/alerts), so operations teams route, group,
// silence and page with the tool they already run.
//
// Why a consumer of kam.alerts.v1 and not part of kam-alerts: the stream is the product's contract
// with operations, and the bridge shows it is enough -- it needs nothing else, can be restarted,
// scaled or replaced without touching kam-alerts, and an unreachable Alertmanager never slows the
// alerts engine. State: none of its own. At start it reads the topic from the beginning (kept for
// --alerts-retention-days) and posts only once it has caught up, so a restart neither loses a
// firing alert nor re-opens a resolved one.

#include <httplib.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <mutex>
#include <thread>

#include "common/kafka/changelog_follower.h"
#include "common/kafka_topics.h"
#include "common/logging.h"
#include "common/time_util.h"
#include "tools/alertmanager_bridge/alertmanager_feed.h"

namespace {

std::atomic<bool> stopping{false};

void OnSignal(int) { stopping.store(true); }

}  // namespace

int main(int argc, char** argv) {
  std::string brokers = "127.0.0.1:9092";
  std::string topic = kam::kafka_topics::kAlerts;
  std::string alertmanager = "http://127.0.0.1:9093";
  int resend_seconds = 30;
  int resolved_keep_minutes = 15;
  CLI::App app{"kam-alertmanager-bridge: kam.alerts.v1 into Alertmanager's v2 API"};
  app.option_defaults()->always_capture_default();
  app.add_option("--kafka-brokers", brokers)->envname("KAM_KAFKA_BROKERS");
  app.add_option("--topic", topic, "the alert stream")->envname("KAM_ALERTS_TOPIC");
  app.add_option("--alertmanager-url", alertmanager, "base URL of Alertmanager")
      ->envname("KAM_ALERTMANAGER_URL");
  app.add_option("--resend-seconds", resend_seconds,
                 "how often firing alerts are sent again (Alertmanager expires what is not)")
      ->check(CLI::Range(1, 3600))
      ->envname("KAM_RESEND_SECONDS");
  app.add_option("--resolved-keep-minutes", resolved_keep_minutes,
                 "how long a resolution is sent again after it happened")
      ->check(CLI::Range(1, 1440))
      ->envname("KAM_RESOLVED_KEEP_MINUTES");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  kam::log::SetServiceName("kam-alertmanager-bridge");

  kam::bridge::AlertmanagerFeed feed({.resend_millis = int64_t{resend_seconds} * 1000,
                                      .resolved_keep_millis =
                                          int64_t{resolved_keep_minutes} * 60 * 1000});
  std::mutex feed_mutex;
  std::atomic<bool> changed{false};
  kam::kafka::KafkaOptions options;
  options.brokers = brokers;
  options.client_id = "kam-alertmanager-bridge";
  auto follower = kam::kafka::ChangelogFollower::Create(
      options, topic,
      [&](int32_t, std::string_view, std::optional<std::string_view> value) {
        if (!value) return;
        std::lock_guard<std::mutex> lock(feed_mutex);
        if (feed.Apply(std::string(*value))) changed.store(true);
      });
  if (!follower.ok()) {
    kam::log::Error("start failed", {{"error", follower.status().ToString()}});
    return 1;
  }
  absl::Status started = (*follower)->Start([] { kam::log::Info("caught up with the stream", {}); });
  if (!started.ok()) {
    kam::log::Error("start failed", {{"error", started.ToString()}});
    return 1;
  }
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  httplib::Client client(alertmanager);
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(5));
  auto next_send = std::chrono::steady_clock::now();
  int failures = 0;
  kam::log::Info("serving", {{"alertmanager", alertmanager}, {"topic", topic}});
  while (!stopping.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // Nothing before the replay is done: a resolved alert must not fire again on the way.
    if (!(*follower)->CaughtUp()) continue;
    const auto now = std::chrono::steady_clock::now();
    if (now < next_send && !changed.load()) continue;
    std::string body;
    size_t alerts = 0;
    {
      std::lock_guard<std::mutex> lock(feed_mutex);
      changed.store(false);
      nlohmann::json payload = feed.Payload(kam::MillisFromTimestamp(kam::NowTimestamp()));
      alerts = payload.size();
      body = payload.dump();
    }
    auto response = client.Post("/api/v2/alerts", body, "application/json");
    if (response && response->status == 200) {
      if (failures > 0) kam::log::Info("alertmanager reachable again", {});
      failures = 0;
      next_send = now + std::chrono::seconds(resend_seconds);
      kam::log::Debug("sent", {{"alerts", std::to_string(alerts)}});
      continue;
    }
    // Unreachable or refusing: the stream keeps being read; what Alertmanager should hold is sent
    // as a whole on the next try, so nothing is lost by waiting (backoff up to a resend period).
    ++failures;
    kam::log::Warn("alertmanager did not take the alerts",
                   {{"status", response ? std::to_string(response->status)
                                        : httplib::to_string(response.error())},
                    {"failures", std::to_string(failures)}});
    changed.store(true);
    next_send = now + std::min(std::chrono::milliseconds(500) * (1 << std::min(failures, 6)),
                               std::chrono::milliseconds(int64_t{resend_seconds} * 1000));
    // Wait out the backoff (changed stays set, so the loop's check must use next_send alone).
    while (!stopping.load() && std::chrono::steady_clock::now() < next_send) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  kam::log::Info("stopped", {});
  return 0;
}
