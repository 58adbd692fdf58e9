// `kamctl accounts import` reads CRM exports: any line splits or is refused, and fields written
// back with RFC 4180 quoting split into the same fields again.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "tools/kamctl/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string line(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> fields;
  if (!kam::ctl::SplitCsvLine(line, &fields)) return 0;
  if (fields.empty()) std::abort();
  std::string quoted;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) quoted += ',';
    quoted += '"';
    for (char c : fields[i]) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted += '"';
  }
  std::vector<std::string> again;
  if (!kam::ctl::SplitCsvLine(quoted, &again) || again != fields) std::abort();
  return 0;
}
