#pragma once

// How the rules write figures into summaries and evidence: one format for every rule, so
// consumers can pick values out of evidence alike.

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/time/time.h"

namespace kam::alerts {

inline std::string Fixed(double value, int digits = 1) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, value);
  return buf;
}

inline std::string Days(int64_t millis) { return Fixed(millis / 86400000.0, 1) + " days"; }

inline std::string Percent(double share) { return Fixed(share * 100, 1) + "%"; }

inline std::string Date(int64_t millis) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixMillis(millis), absl::UTCTimeZone());
}

}  // namespace kam::alerts
