#pragma once

// Opaque list cursors. A token carries the position after the last item returned plus a digest of
// the request's filters, signed with HMAC-SHA256 under a per-store secret, so a token the server
// never issued (or one reused with other filters) is refused with INVALID_ARGUMENT instead of
// silently listing the wrong thing. Positions are keys, not offsets: pages stay stable while
// items are added or removed.

#include <string>

#include "common/status.h"
#include "common/store.h"

namespace kam {

class PageTokens {
 public:
  explicit PageTokens(std::string secret) : secret_(std::move(secret)) {}
  // Loads the store's secret, creating it on first use.
  static absl::StatusOr<PageTokens> ForStore(Store* store);

  std::string Issue(const std::string& filter, const std::string& position) const;
  // The position inside `token`; INVALID_ARGUMENT naming page_token when it was not issued here or
  // was issued for another filter.
  absl::StatusOr<std::string> Parse(const std::string& token, const std::string& filter) const;

 private:
  std::string Sign(const std::string& payload) const;
  std::string secret_;
};

// page_size 0 means the default (50); above 1000 it is capped; negative is INVALID_ARGUMENT.
absl::StatusOr<int> ResolvePageSize(int page_size);

}  // namespace kam
