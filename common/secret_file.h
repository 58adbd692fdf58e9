#pragma once

// Secrets (a Kafka password, a bearer token, a PagerDuty routing key) are read from files, never
// taken as flag values, which every user of the host sees in the process list.

#include <string>

#include "common/status.h"

namespace kam {

// The first line of the file at `path`, without a Windows line end (spaces are kept: they may
// belong to the secret). INVALID_ARGUMENT naming `flag` and the path, never the contents, when
// the file cannot be read or its first line is empty.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path, const char* flag);

}  // namespace kam
