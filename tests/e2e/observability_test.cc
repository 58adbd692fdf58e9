// What an operations team plugs kam into, against the real programs: every service's /metrics
// passes `promtool check metrics`; a real Prometheus scrapes a running stack while it plays the
// demo, loads kam's alerting rules without evaluation errors, and every query of every panel of
// every dashboard in deploy/grafana returns data.

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/testing/process.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"

namespace kam {
namespace {

struct PanelQuery {
  std::string dashboard;
  std::string panel;
  std::string expr;
};

// Every target of every panel, with the dashboard variables replaced as Grafana would for "All".
std::vector<PanelQuery> DashboardQueries() {
  std::vector<PanelQuery> queries;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(KAM_SOURCE_DIR) +
                                                               "/deploy/grafana/dashboards")) {
    std::ifstream in(entry.path());
    nlohmann::json board = nlohmann::json::parse(in);
    for (const auto& panel : board["panels"]) {
      if (!panel.contains("targets")) continue;
      for (const auto& target : panel["targets"]) {
        std::string expr = target["expr"];
        expr = std::regex_replace(expr, std::regex(R"(\$__rate_interval)"), "30s");
        expr = std::regex_replace(expr, std::regex(R"(\$instance)"), ".*");
        queries.push_back({entry.path().filename().string(), panel["title"], expr});
      }
    }
  }
  return queries;
}

// The number of series an instant query returns (-1: the query failed).
int SeriesCount(httplib::Client& prometheus, const std::string& expr) {
  auto response = prometheus.Get("/api/v1/query", httplib::Params{{"query", expr}}, {});
  if (!response || response->status != 200) return -1;
  auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (body.is_discarded() || body["status"] != "success") return -1;
  return static_cast<int>(body["data"]["result"].size());
}

TEST(ObservabilityTest, MetricsAreCleanAndEveryDashboardPanelHasData) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  std::vector<std::pair<std::string, testing::RunningService>> services;
  services.emplace_back("kam-accounts", testing::StartService("kam-accounts", brokers, dir.Sub("a"),
                                                              dir.Sub("a-log")));
  services.emplace_back("kam-interactions", testing::StartService("kam-interactions", brokers,
                                                                  dir.Sub("i"), dir.Sub("i-log")));
  services.emplace_back("kam-alerts",
                        testing::StartService("kam-alerts", brokers, dir.Sub("x"), dir.Sub("x-log"),
                                              {"--idle-seconds", "2"}));
  for (const auto& [name, service] : services) {
    ASSERT_TRUE(service.process) << name << ": " << service.address;
  }

  const int port = testing::FreeLoopbackPort();
  ASSERT_GT(port, 0);
  {
    std::ofstream config(dir.Sub("prometheus.yml"));
    config << "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
           << "rule_files: [" << KAM_SOURCE_DIR << "/deploy/prometheus/kam-rules.yml]\n"
           << "scrape_configs:\n";
    for (const auto& [name, service] : services) {
      config << "  - job_name: " << name
             << "\n    static_configs: [{targets: [\"127.0.0.1:" << service.metrics_port
             << "\"]}]\n";
    }
  }
  ASSERT_EQ(testing::Shell("promtool check config " + dir.Sub("prometheus.yml") +
                           " >/dev/null 2>&1; echo $?"),
            "0");
  testing::Process prometheus({"/usr/bin/prometheus", "--config.file=" + dir.Sub("prometheus.yml"),
                               "--storage.tsdb.path=" + dir.Sub("tsdb"),
                               "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                              dir.Sub("prometheus"));
  httplib::Client client("127.0.0.1", port);
  ASSERT_TRUE(testing::WaitFor([&] {
    auto ready = client.Get("/-/ready");
    return ready && ready->status == 200;
  })) << prometheus.Stderr();
  ASSERT_TRUE(testing::WaitFor([&] {
    return SeriesCount(client, "up{job=~\"kam-.*\"} == 1") == 3;
  })) << "Prometheus does not scrape all three services";
  const auto started = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();

  // Traffic for every panel: calls of several methods, events, alert changes.
  testing::Process demo(
      {testing::BinDir() + "/kamctl", "demo", "--seed", "5", "--accounts", "40", "--months", "2"},
      dir.Sub("demo"),
      {{"KAM_ACCOUNTS_ADDR", services[0].second.address},
       {"KAM_INTERACTIONS_ADDR", services[1].second.address},
       {"KAM_ALERTS_ADDR", services[2].second.address}});
  ASSERT_EQ(demo.Wait(std::chrono::seconds(180)), 0) << demo.Stdout() << demo.Stderr();
  // Prometheus still takes every service's page after the traffic: one bad series (a label that
  // is not UTF-8, a duplicate) fails the whole scrape, and the dashboards go blank.
  const auto demo_ended = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  EXPECT_TRUE(testing::WaitFor([&] {
    return SeriesCount(client, "up{job=~\"kam-.*\"} == 1 and timestamp(up) > " +
                                   std::to_string(demo_ended)) == 3;
  })) << "a scrape after the demo failed: "
      << client.Get("/api/v1/targets")->body;

  for (const auto& [name, service] : services) {
    httplib::Client scrape("127.0.0.1", service.metrics_port);
    auto page = scrape.Get("/metrics");
    ASSERT_TRUE(page && page->status == 200) << name;
    const std::string path = dir.Sub(name + ".metrics");
    std::ofstream(path) << page->body;
    EXPECT_EQ(testing::Shell("promtool check metrics < " + path + " 2>&1; echo \"exit $?\""),
              "exit 0")
        << name << "'s /metrics has lint problems";
    for (const char* family : {"process_cpu_seconds_total", "kam_grpc_requests_total",
                               "kam_consumer_lag_records", "kam_tasks"}) {
      EXPECT_NE(page->body.find(std::string("\n") + family), std::string::npos)
          << name << " exports no " << family;
    }
  }

  // Every panel's query, polled: rates need a few scrapes.
  std::vector<PanelQuery> queries = DashboardQueries();
  ASSERT_GE(queries.size(), 40u);
  std::vector<PanelQuery> empty = queries;
  testing::WaitFor(
      [&] {
        std::vector<PanelQuery> still;
        for (const auto& query : empty) {
          if (SeriesCount(client, query.expr) <= 0) still.push_back(query);
        }
        empty = std::move(still);
        return empty.empty();
      },
      std::chrono::seconds(60));
  for (const auto& query : empty) {
    ADD_FAILURE() << query.dashboard << " / " << query.panel << ": no data for " << query.expr;
  }
  // kam's alerting rules load and evaluate without errors against real series.
  auto rules = client.Get("/api/v1/rules");
  ASSERT_TRUE(rules && rules->status == 200);
  auto body = nlohmann::json::parse(rules->body);
  int evaluated = 0;
  ASSERT_TRUE(testing::WaitFor([&] {
    auto answer = client.Get("/api/v1/rules");
    if (!answer || answer->status != 200) return false;
    body = nlohmann::json::parse(answer->body);
    evaluated = 0;
    for (const auto& group : body["data"]["groups"]) {
      for (const auto& rule : group["rules"]) {
        if (!rule["lastEvaluation"].get<std::string>().starts_with("0001")) ++evaluated;
      }
    }
    return evaluated == 7;
  })) << rules->body;
  for (const auto& group : body["data"]["groups"]) {
    for (const auto& rule : group["rules"]) {
      EXPECT_EQ(rule["health"], "ok") << rule.dump();
      // Other tests feed the shared broker's topics records kam dead-letters on purpose.
      if (rule["name"] == "KamDeadLetters") continue;
      EXPECT_NE(rule["state"], "firing") << "a healthy stack pages nobody: " << rule.dump();
    }
  }

  // How the README's dashboard pictures are made (not part of a normal run): with
  // KAM_DASHBOARD_PICTURES=<dir>, demos with new seeds keep the stack busy for
  // KAM_DASHBOARD_SECONDS (default 120), then deploy/grafana/render.py draws every dashboard from
  // this Prometheus into <dir>. KAM_PYTHON names a Python that has matplotlib.
  if (const char* pictures = std::getenv("KAM_DASHBOARD_PICTURES")) {
    const char* seconds = std::getenv("KAM_DASHBOARD_SECONDS");
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::seconds(seconds ? std::atoi(seconds) : 120);
    for (int seed = 6; std::chrono::steady_clock::now() < until; ++seed) {
      testing::Process more({testing::BinDir() + "/kamctl", "demo", "--seed", std::to_string(seed),
                             "--accounts", "40", "--months", "2"},
                            dir.Sub("demo-" + std::to_string(seed)),
                            {{"KAM_ACCOUNTS_ADDR", services[0].second.address},
                             {"KAM_INTERACTIONS_ADDR", services[1].second.address},
                             {"KAM_ALERTS_ADDR", services[2].second.address}});
      ASSERT_EQ(more.Wait(std::chrono::seconds(180)), 0) << more.Stderr();
    }
    const char* python = std::getenv("KAM_PYTHON");
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const std::string rendered = testing::Shell(
        std::string(python ? python : "python3") + " " + KAM_SOURCE_DIR +
        "/deploy/grafana/render.py --prometheus http://127.0.0.1:" + std::to_string(port) +
        " --start " + std::to_string(started) + " --end " + std::to_string(now) + " --out " +
        pictures + " " + KAM_SOURCE_DIR + "/deploy/grafana/dashboards/*.json 2>&1; echo $?");
    EXPECT_TRUE(rendered.ends_with("0")) << rendered;
  }
}

}  // namespace
}  // namespace kam
