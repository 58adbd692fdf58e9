#pragma once

// A kam service binary running as a child process against a broker, ready for gRPC.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/testing/process.h"

namespace kam::testing {

struct RunningService {
  std::unique_ptr<Process> process;
  std::string address;  // host:port of its gRPC server
  int metrics_port = 0;
  std::string producer;  // its kam-producer header value
  std::string group;     // its consumer group
};

// Starts `binary` (e.g. "kam-accounts") with port 0 for gRPC and metrics, waits until it logs
// that it serves and that its health is SERVING (its stream tasks run), and returns its addresses.
// `process` is null when it did not come up; the test then fails with the log in `address`. Every
// service gets its own consumer group (named after its data dir), so tests sharing one broker do
// not split partitions between them -- unless `extra_args` names one (instances that share the
// work).
RunningService StartService(const std::string& binary, const std::string& brokers,
                            const std::string& data_dir, const std::string& log_prefix,
                            std::vector<std::string> extra_args = {});

// The three services of one platform on `brokers`, each with its data under `dir` (a/, i/, x/)
// and its logs beside them. `failure` says which did not come up (empty when all three did).
struct RunningPlatform {
  RunningService accounts;
  RunningService interactions;
  RunningService alerts;
  std::string failure;
  // KAM_ACCOUNTS_ADDR, KAM_INTERACTIONS_ADDR and KAM_ALERTS_ADDR, as kamctl and the clients
  // take them.
  std::map<std::string, std::string> AddressEnvironment() const;
};
RunningPlatform StartPlatform(const std::string& brokers, const std::string& dir);

// The sum of every series of `name` on the service's /metrics on `port` (-1 when none is there
// or the page is unreadable).
double ScrapeMetric(int port, const std::string& name);

}  // namespace kam::testing
