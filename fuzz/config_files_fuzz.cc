// The files operators write -- kam-alerts' rules (--rules) and kam-accounts' policy (--policy) --
// load or are refused with a message; a typo never crashes a start.

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "services/accounts/policy.h"
#include "services/alerts/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/kam-config-fuzz-" + std::to_string(getpid()) + ".json";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto rules = kam::alerts::LoadRules(path);
  if (!rules.ok() && rules.status().message().empty()) std::abort();
  auto policy = kam::accounts::LoadPolicy(path);
  if (!policy.ok() && policy.status().message().empty()) std::abort();
  return 0;
}
