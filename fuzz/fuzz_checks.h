#pragma once

// What every request-validation fuzz target demands of the code under test.

#include <cstdlib>

#include "common/status.h"

namespace kam::fuzz {

// A request is accepted or refused as INVALID_ARGUMENT; any other answer is a finding.
inline void RequireOkOrInvalid(const absl::Status& status) {
  if (!status.ok() && status.code() != absl::StatusCode::kInvalidArgument) std::abort();
}

}  // namespace kam::fuzz
