// Page tokens come from clients: any bytes must be refused or accepted without a crash, and a
// position always comes back from the token issued for it -- for its filter only.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/page_token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const kam::PageTokens tokens("fuzz-secret-0123456789abcdef");
  const std::string input(reinterpret_cast<const char*>(data), size);
  (void)tokens.Parse(input, "filter");

  const std::string token = tokens.Issue("filter", input);
  absl::StatusOr<std::string> back = tokens.Parse(token, "filter");
  if (!back.ok() || *back != input) std::abort();
  if (tokens.Parse(token, "another filter").ok()) std::abort();
  return 0;
}
