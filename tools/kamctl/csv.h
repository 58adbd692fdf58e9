#pragma once

// The CSV of `kamctl accounts import` (a CRM export): one record per line, RFC 4180 quoting.

#include <string>
#include <vector>

namespace kam::ctl {

// Splits one line into its fields ("a,b" and "" inside quotes; a \r outside quotes is dropped).
// False on an unterminated quote.
bool SplitCsvLine(const std::string& line, std::vector<std::string>* fields);

}  // namespace kam::ctl
