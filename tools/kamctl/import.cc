// kamctl accounts import: a CRM export (CSV) into ImportAccounts, all or nothing.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fingerprint.h"
#include "tools/kamctl/commands.h"
#include "tools/kamctl/csv.h"
#include "tools/kamctl/progress.h"

namespace kam::ctl {
namespace {

// Rows per validation call (for a live progress bar), and per applying call: the server's limit,
// so a file of up to 10,000 rows is applied in one all-or-nothing call.
constexpr size_t kCheckRows = 1000;
constexpr size_t kApplyRows = 10000;

struct Row {
  int line = 0;
  kam::v1::CreateAccountRequest request;
};

}  // namespace

int ImportAccounts(Client& client, const std::string& csv_path, bool validate_only) {
  std::ifstream in(csv_path);
  if (!in) {
    std::fprintf(stderr, "kamctl: %s: cannot read\n", csv_path.c_str());
    return kUsage;
  }
  std::stringstream content;
  content << in.rdbuf();
  // A stable id for this file's rows, so a re-run is idempotent.
  const std::string file_id = Sha256Hex(content.str()).substr(0, 12);

  std::istringstream lines(content.str());
  std::string line;
  std::vector<std::string> header;
  std::map<std::string, size_t> column;
  std::vector<Row> rows;
  std::vector<std::string> errors;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.empty() || line == "\r") continue;
    std::vector<std::string> fields;
    if (!SplitCsvLine(line, &fields)) {
      errors.push_back(absl::StrCat("line ", number, ": unterminated quote"));
      continue;
    }
    if (header.empty()) {
      header = fields;
      for (size_t i = 0; i < header.size(); ++i)
        column[absl::AsciiStrToLower(absl::StripAsciiWhitespace(header[i]))] = i;
      for (const char* required : {"name", "industry", "revenue", "currency"}) {
        if (!column.count(required)) {
          std::fprintf(stderr,
                       "kamctl: %s: line 1: missing column \"%s\" (need name, industry, revenue, "
                       "currency)\n",
                       csv_path.c_str(), required);
          return kUsage;
        }
      }
      continue;
    }
    if (fields.size() != header.size()) {
      errors.push_back(absl::StrCat("line ", number, ": ", fields.size(), " fields, header has ",
                                    header.size()));
      continue;
    }
    auto get = [&](const char* name) -> std::string {
      auto it = column.find(name);
      return it == column.end() ? "" : std::string(absl::StripAsciiWhitespace(fields[it->second]));
    };
    Row row;
    row.line = number;
    auto* account = row.request.mutable_account();
    account->set_name(get("name"));
    kam::v1::Industry industry;
    std::string industry_text = absl::AsciiStrToUpper(get("industry"));
    if (!kam::v1::Industry_Parse("INDUSTRY_" + industry_text, &industry) &&
        !kam::v1::Industry_Parse(industry_text, &industry)) {
      errors.push_back(
          absl::StrCat("line ", number, ": industry: unknown value \"", get("industry"), "\""));
      continue;
    }
    account->set_industry(industry);
    double revenue = 0;
    if (!absl::SimpleAtod(get("revenue"), &revenue)) {
      errors.push_back(
          absl::StrCat("line ", number, ": revenue: not a number \"", get("revenue"), "\""));
      continue;
    }
    account->mutable_annual_revenue()->set_currency(absl::AsciiStrToUpper(get("currency")));
    account->mutable_annual_revenue()->set_amount_minor(
        static_cast<int64_t>(revenue * 100 + (revenue >= 0 ? 0.5 : -0.5)));
    for (auto region : absl::StrSplit(get("regions"), ';', absl::SkipWhitespace())) {
      account->add_regions(absl::AsciiStrToUpper(absl::StripAsciiWhitespace(region)));
    }
    account->set_owner_manager_id(get("owner_manager_id"));
    account->set_parent_account_id(get("parent_account_id"));
    std::string key = absl::AsciiStrToLower(get("key_account"));
    account->set_key_account(key == "true" || key == "yes" || key == "1");
    kam::v1::LifecyclePhase phase;
    if (!get("lifecycle_phase").empty()) {
      if (!kam::v1::LifecyclePhase_Parse(
              "LIFECYCLE_PHASE_" + absl::AsciiStrToUpper(get("lifecycle_phase")), &phase)) {
        errors.push_back(absl::StrCat("line ", number, ": lifecycle_phase: unknown value \"",
                                      get("lifecycle_phase"), "\""));
        continue;
      }
      account->set_lifecycle_phase(phase);
    }
    kam::v1::Complexity complexity;
    if (!get("complexity").empty()) {
      if (!kam::v1::Complexity_Parse("COMPLEXITY_" + absl::AsciiStrToUpper(get("complexity")),
                                     &complexity)) {
        errors.push_back(absl::StrCat("line ", number, ": complexity: unknown value \"",
                                      get("complexity"), "\""));
        continue;
      }
      account->set_complexity(complexity);
    }
    std::string external = get("external_id");
    row.request.set_request_id(external.empty() ? absl::StrCat("csv-", file_id, "-", number)
                                                : absl::StrCat("crm-", external));
    rows.push_back(std::move(row));
  }
  if (header.empty()) {
    std::fprintf(stderr, "kamctl: %s: empty file\n", csv_path.c_str());
    return kUsage;
  }

  // Pass 1: the server checks every row (validate_only) before anything is applied.
  Progress check("validating", rows.size());
  // Rows that parsed are checked by the server even when others did not: every error is reported.
  for (size_t start = 0; start < rows.size(); start += kCheckRows) {
    kam::v1::ImportAccountsRequest request;
    request.set_validate_only(true);
    size_t end = std::min(rows.size(), start + kCheckRows);
    for (size_t i = start; i < end; ++i) *request.add_rows() = rows[i].request;
    kam::v1::ImportAccountsResponse response;
    grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
      return client.accounts().ImportAccounts(context, request, &response);
    });
    if (!status.ok()) return Fail(status, "import (validate)");
    for (const auto& result : response.results()) {
      if (result.code() != 0) {
        errors.push_back(
            absl::StrCat("line ", rows[start + result.row()].line, ": ", result.error()));
      }
    }
    check.Advance(end - start);
  }
  check.Done();
  if (!errors.empty()) {
    auto line_of = [](const std::string& error) { return std::atoi(error.c_str() + 5); };
    std::stable_sort(errors.begin(), errors.end(),
                     [&](const auto& a, const auto& b) { return line_of(a) < line_of(b); });
    for (const auto& error : errors) {
      std::fprintf(stderr, "%s: %s\n", csv_path.c_str(), error.c_str());
    }
    std::fprintf(stderr, "kamctl: %zu row(s) rejected; nothing imported\n", errors.size());
    return kRejected;
  }
  if (validate_only) {
    std::cout << rows.size() << " rows valid; nothing imported (--validate-only)\n";
    return kOk;
  }
  // Pass 2: apply. Up to 10,000 rows go in one all-or-nothing call; larger files go in chunks of
  // that size, each all or nothing, and every row has a stable request_id, so re-running the same
  // file after an interruption completes it without doubles.
  Progress apply("importing", rows.size());
  int created = 0;
  for (size_t start = 0; start < rows.size(); start += kApplyRows) {
    kam::v1::ImportAccountsRequest request;
    size_t end = std::min(rows.size(), start + kApplyRows);
    for (size_t i = start; i < end; ++i) *request.add_rows() = rows[i].request;
    kam::v1::ImportAccountsResponse response;
    grpc::Status status = client.Retry(true, [&](grpc::ClientContext* context) {
      return client.accounts().ImportAccounts(context, request, &response);
    });
    if (!status.ok() || !response.applied()) {
      apply.Done();
      std::fprintf(stderr,
                   "kamctl: import stopped at line %d; run the same command again to finish it\n",
                   rows[start].line);
      return status.ok() ? kRejected : Fail(status, "import");
    }
    created += response.created();
    apply.Advance(end - start);
  }
  apply.Done();
  if (client.options().json) {
    std::cout << "{\"rows\":" << rows.size() << ",\"created\":" << created << "}\n";
  } else {
    std::cout << rows.size() << " rows imported (" << created << " new, " << rows.size() - created
              << " already there)\n";
  }
  return kOk;
}

}  // namespace kam::ctl
