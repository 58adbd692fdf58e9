#include "tests/testing/temp_dir.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace kam::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "kam-test-XXXXXX").string();
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  // KAM_TEST_KEEP_DIRS=1 keeps data dirs and service logs for a post-mortem.
  if (std::getenv("KAM_TEST_KEEP_DIRS") != nullptr) {
    std::fprintf(stderr, "kept %s\n", path_.c_str());
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

std::string RealKafkaBootstrap() {
  if (const char* direct = std::getenv("KAM_TEST_KAFKA_BOOTSTRAP")) return direct;
  const char* file = std::getenv("KAM_TEST_KAFKA_BOOTSTRAP_FILE");
  if (file == nullptr) file = KAM_DEFAULT_KAFKA_BOOTSTRAP_FILE;
  std::ifstream in(file);
  std::string bootstrap;
  std::getline(in, bootstrap);
  return bootstrap;
}

}  // namespace kam::testing
