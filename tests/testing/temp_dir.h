#pragma once

// Test helpers: a temporary directory removed at scope end, and polling with a deadline (tests
// never sleep a fixed time).

#include <chrono>
#include <functional>
#include <string>

namespace kam::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Polls `condition` every few milliseconds until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The real Kafka broker's bootstrap address: KAM_TEST_KAFKA_BOOTSTRAP, else the first line of the
// file the CTest fixture writes (KAM_TEST_KAFKA_BOOTSTRAP_FILE overrides its path). Empty when
// there is none.
std::string RealKafkaBootstrap();

}  // namespace kam::testing
