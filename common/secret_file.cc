#include "common/secret_file.h"

#include <fstream>

#include "absl/strings/str_cat.h"

namespace kam {

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, const char* flag) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read \"", path, "\""));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": \"", path, "\" has an empty first line"));
  }
  return line;
}

}  // namespace kam
