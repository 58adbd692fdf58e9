// kam-alertmanager-bridge: follows kam.alerts.v1 and keeps a real Alertmanager's view of kam's
// alerts current through its v2 API (POST /api/v2/alerts), and/or delivers them to PagerDuty's
// Events API v2 (or any receiver of those events), so operations teams route, group, silence and
// page with the tools they already run.
//
// Why a consumer of kam.alerts.v1 and not part of kam-alerts: the stream is the product's contract
// with operations, and the bridge shows it is enough -- it needs nothing else, can be restarted,
// scaled or replaced without touching kam-alerts, and an unreachable Alertmanager never slows the
// alerts engine. State: none of its own. At start it reads the topic from the beginning (kept for
// --alerts-retention-days) and posts only once it has caught up, so a restart neither loses a
// firing alert nor re-opens a resolved one.

#ifndef CPPHTTPLIB_OPENSSL_SUPPORT  // Debian's pkg-config flags define it already
#define CPPHTTPLIB_OPENSSL_SUPPORT  // PagerDuty and most webhooks are https
#endif
#include <httplib.h>
#include <librdkafka/rdkafka.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include "common/mutex.h"
#include "common/kafka/changelog_follower.h"
#include "common/kafka_security.h"
#include "common/kafka_topics.h"
#include "common/logging.h"
#include "common/secret_file.h"
#include "common/time_util.h"
#include "tools/alertmanager_bridge/alertmanager_feed.h"
#include "tools/alertmanager_bridge/pagerduty_feed.h"

namespace {

std::atomic<bool> stopping{false};

void OnSignal(int) { stopping.store(true); }

// "https://events.pagerduty.com/v2/enqueue" -> client base "https://events.pagerduty.com" and
// path "/v2/enqueue".
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos) return {url, "/"};
  return {url.substr(0, path), url.substr(path)};
}

// Retries with backoff without holding up the stream: a sink that failed waits until `next`.
struct Backoff {
  int failures = 0;
  std::chrono::steady_clock::time_point next = std::chrono::steady_clock::now();
  void Failed(std::chrono::milliseconds cap) {
    ++failures;
    next = std::chrono::steady_clock::now() +
           std::min(std::chrono::milliseconds(500) * (1 << std::min(failures, 6)), cap);
  }
  void Succeeded() { failures = 0; }
  bool Ready() const { return std::chrono::steady_clock::now() >= next; }
};

}  // namespace

int main(int argc, char** argv) {
  std::string brokers = "127.0.0.1:9092";
  std::string topic = kam::kafka_topics::kAlerts;
  std::string alertmanager = "http://127.0.0.1:9093";
  int resend_seconds = 30;
  int resolved_keep_minutes = 15;
  std::string pagerduty_url;
  std::string pagerduty_key_file;
  CLI::App app{"kam-alertmanager-bridge: kam.alerts.v1 into Alertmanager's v2 API"};
  app.option_defaults()->always_capture_default();
  app.add_option("--kafka-brokers", brokers)->envname("KAM_KAFKA_BROKERS");
  kam::KafkaSecurity kafka_security;
  kam::AddKafkaSecurityOptions(app, &kafka_security);
  app.add_option("--topic", topic, "the alert stream")->envname("KAM_ALERTS_TOPIC");
  app.add_option("--alertmanager-url", alertmanager, "base URL of Alertmanager (empty: none)")
      ->envname("KAM_ALERTMANAGER_URL");
  app.add_option("--pagerduty-url", pagerduty_url,
                 "PagerDuty Events API v2 endpoint, e.g. https://events.pagerduty.com/v2/enqueue, "
                 "or any receiver of those events (empty: none)")
      ->envname("KAM_PAGERDUTY_URL");
  app.add_option("--pagerduty-routing-key-file", pagerduty_key_file,
                 "file holding the integration's routing key (a secret: never on the command line)")
      ->envname("KAM_PAGERDUTY_ROUTING_KEY_FILE");
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
  std::string routing_key;
  if (!pagerduty_url.empty()) {
    auto key = kam::ReadSecretFile(pagerduty_key_file, "--pagerduty-routing-key-file");
    if (!key.ok()) {
      std::fprintf(stderr, "kam-alertmanager-bridge: %s\n",
                   std::string(key.status().message()).c_str());
      return 2;
    }
    routing_key = *std::move(key);
  }
  if (alertmanager.empty() && pagerduty_url.empty()) {
    std::fprintf(stderr,
                 "kam-alertmanager-bridge: give --alertmanager-url, --pagerduty-url or both\n");
    return 2;
  }

  kam::bridge::AlertmanagerFeed feed(
      {.resend_millis = int64_t{resend_seconds} * 1000,
       .resolved_keep_millis = int64_t{resolved_keep_minutes} * 60 * 1000});
  kam::Mutex feed_mutex;
  std::atomic<bool> changed{false};
  kam::kafka::KafkaOptions options;
  options.brokers = brokers;
  options.client_id = "kam-alertmanager-bridge";
  auto security = kam::LibrdkafkaSecurityProperties(kafka_security);
  if (!security.ok()) {
    std::fprintf(stderr, "kam-alertmanager-bridge: %s\n",
                 std::string(security.status().message()).c_str());
    return 2;
  }
  options.extra = *std::move(security);
  if (std::string note = kam::ScramCompatibilityNote(kafka_security, rd_kafka_version());
      !note.empty()) {
    kam::log::Warn(note, {{"flag", "--kafka-sasl-mechanism"}});
  }
  auto follower = kam::kafka::ChangelogFollower::Create(
      options, topic, [&](int32_t, std::string_view, std::optional<std::string_view> value) {
        if (!value) return;
        kam::MutexLock lock(&feed_mutex);
        if (feed.Apply(std::string(*value))) changed.store(true);
      });
  if (!follower.ok()) {
    kam::log::Error("start failed", {{"error", follower.status().ToString()}});
    return 1;
  }
  absl::Status started =
      (*follower)->Start([] { kam::log::Info("caught up with the stream", {}); });
  if (!started.ok()) {
    kam::log::Error("start failed", {{"error", started.ToString()}});
    return 1;
  }
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);

  const std::chrono::milliseconds resend(int64_t{resend_seconds} * 1000);
  std::unique_ptr<httplib::Client> am_client;
  if (!alertmanager.empty()) {
    am_client = std::make_unique<httplib::Client>(alertmanager);
    am_client->set_connection_timeout(std::chrono::seconds(2));
    am_client->set_read_timeout(std::chrono::seconds(5));
  }
  const auto [pd_base, pd_path] = SplitUrl(pagerduty_url);
  std::unique_ptr<httplib::Client> pd_client;
  kam::bridge::PagerDutyFeed pagerduty(routing_key, int64_t{resolved_keep_minutes} * 60 * 1000);
  if (!pagerduty_url.empty()) {
    pd_client = std::make_unique<httplib::Client>(pd_base);
    pd_client->set_connection_timeout(std::chrono::seconds(2));
    pd_client->set_read_timeout(std::chrono::seconds(5));
  }
  auto next_send = std::chrono::steady_clock::now();
  Backoff am_backoff, pd_backoff;
  bool pd_changed = true;
  kam::log::Info("serving",
                 {{"alertmanager", alertmanager}, {"pagerduty", pagerduty_url}, {"topic", topic}});
  while (!stopping.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // Nothing before the replay is done: a resolved alert must not fire again on the way.
    if (!(*follower)->CaughtUp()) continue;
    const auto now = std::chrono::steady_clock::now();
    const bool stream_changed = changed.exchange(false);
    pd_changed = pd_changed || stream_changed;
    const int64_t wall = kam::MillisFromTimestamp(kam::NowTimestamp());
    if (am_client && am_backoff.Ready() &&
        (now >= next_send || stream_changed || am_backoff.failures > 0)) {
      std::string body;
      {
        kam::MutexLock lock(&feed_mutex);
        // Invalid UTF-8 (a summary cut mid-character upstream) is replaced, never thrown.
        body = feed.Payload(wall).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
      auto response = am_client->Post("/api/v2/alerts", body, "application/json");
      if (response && response->status == 200) {
        if (am_backoff.failures > 0) kam::log::Info("alertmanager reachable again", {});
        am_backoff.Succeeded();
        next_send = now + resend;
      } else {
        // The stream keeps being read; the whole current set goes on the next try.
        am_backoff.Failed(resend);
        kam::log::Warn("alertmanager did not take the alerts",
                       {{"status", response ? std::to_string(response->status)
                                            : httplib::to_string(response.error())},
                        {"failures", std::to_string(am_backoff.failures)}});
      }
    }
    if (pd_client && pd_changed && pd_backoff.Ready()) {
      std::vector<kam::bridge::PagerDutyEvent> events;
      {
        kam::MutexLock lock(&feed_mutex);
        events = pagerduty.Pending(feed.latest(), wall);
      }
      pd_changed = false;
      // A time budget per round: a long backlog (after a restart, or against PagerDuty's rate
      // limit) must not hold up Alertmanager's resend, or its alerts would expire there.
      const auto budget_end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      for (const auto& event : events) {
        if (stopping.load()) break;
        if (std::chrono::steady_clock::now() > budget_end) {
          pd_changed = true;  // the rest in the next round
          break;
        }
        auto response = pd_client->Post(
            pd_path, event.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
            "application/json");
        const int status = response ? response->status : 0;
        if (status >= 200 && status < 300) {
          pagerduty.Delivered(event);
          pd_backoff.Succeeded();
          continue;
        }
        if (status == 400) {
          // The receiver says the event itself is wrong: retrying cannot fix it.
          kam::log::Error("pagerduty refused an event", {{"dedup_key", event.fingerprint},
                                                         {"action", event.action},
                                                         {"body", response->body.substr(0, 500)}});
          pagerduty.Delivered(event);
          continue;
        }
        // 429, 5xx or unreachable: later, from this event on (order per fingerprint is kept).
        pd_backoff.Failed(resend);
        pd_changed = true;
        kam::log::Warn(
            "pagerduty did not take an event",
            {{"status", response ? std::to_string(status) : httplib::to_string(response.error())},
             {"failures", std::to_string(pd_backoff.failures)}});
        break;
      }
    }
  }
  kam::log::Info("stopped", {});
  return 0;
}
