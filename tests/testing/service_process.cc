#include "tests/testing/service_process.h"

#include <httplib.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace kam::testing {

RunningService StartService(const std::string& binary, const std::string& brokers,
                            const std::string& data_dir, const std::string& log_prefix,
                            std::vector<std::string> extra_args) {
  RunningService service;
  std::vector<std::string> args{BinDir() + "/" + binary,
                                "--listen",
                                "127.0.0.1:0",
                                "--metrics-listen",
                                "127.0.0.1:0",
                                "--kafka-brokers",
                                brokers,
                                "--data-dir",
                                data_dir};
  auto named = std::find(extra_args.begin(), extra_args.end(), "--consumer-group");
  if (named == extra_args.end()) {
    service.group = binary + "-" + std::to_string(std::hash<std::string>()(data_dir));
    args.push_back("--consumer-group");
    args.push_back(service.group);
  } else if (named + 1 != extra_args.end()) {
    service.group = *(named + 1);
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  service.process = std::make_unique<Process>(std::move(args), log_prefix);
  std::string serving = service.process->WaitForLogLine("\"msg\":\"serving\"");
  if (serving.empty()) {
    service.address = service.process->Stderr();
    service.process.reset();
    return service;
  }
  // Up is not ready: a consuming service reports SERVING once its tasks run.
  if (service.process->WaitForLogLine("\"status\":\"SERVING\"").empty()) {
    service.address = service.process->Stderr();
    service.process.reset();
    return service;
  }
  service.address = JsonField(serving, "grpc");
  service.metrics_port = std::stoi(JsonField(serving, "metrics"));
  service.producer = JsonField(serving, "producer");
  return service;
}

RunningPlatform StartPlatform(const std::string& brokers, const std::string& dir) {
  RunningPlatform platform;
  platform.accounts = StartService("kam-accounts", brokers, dir + "/a", dir + "/a-log");
  platform.interactions = StartService("kam-interactions", brokers, dir + "/i", dir + "/i-log");
  platform.alerts = StartService("kam-alerts", brokers, dir + "/x", dir + "/x-log");
  for (const RunningService* service :
       {&platform.accounts, &platform.interactions, &platform.alerts}) {
    if (!service->process) platform.failure += service->address + "\n";
  }
  return platform;
}

std::map<std::string, std::string> RunningPlatform::AddressEnvironment() const {
  return {{"KAM_ACCOUNTS_ADDR", accounts.address},
          {"KAM_INTERACTIONS_ADDR", interactions.address},
          {"KAM_ALERTS_ADDR", alerts.address}};
}

double ScrapeMetric(int port, const std::string& name) {
  httplib::Client http("127.0.0.1", port);
  auto response = http.Get("/metrics");
  if (!response || response->status != 200) return -1;
  double total = 0;
  bool found = false;
  for (absl::string_view line : absl::StrSplit(response->body, '\n')) {
    if (!absl::StartsWith(line, name)) continue;
    absl::string_view rest = line.substr(name.size());
    if (rest.empty() || (rest[0] != ' ' && rest[0] != '{')) continue;  // a longer name
    double value = 0;
    if (!absl::SimpleAtod(rest.substr(rest.rfind(' ') + 1), &value)) continue;
    total += value;
    found = true;
  }
  return found ? total : -1;
}

}  // namespace kam::testing
