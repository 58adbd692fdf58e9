#include "common/access_policy.h"

#include <openssl/sha.h>

#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kam::auth {
namespace {

constexpr std::array<std::pair<Role, absl::string_view>, 4> kRoleNames = {{
    {Role::kWriter, "writer"},
    {Role::kReader, "reader"},
    {Role::kAcknowledger, "acknowledger"},
    {Role::kAdmin, "admin"},
}};

// Every kam.v1 RPC and the role it needs. docs/SECURITY.md lists the same table for people; a
// unit test checks that every method of every kam service is here.
constexpr std::pair<absl::string_view, Role> kMethodRoles[] = {
    // Managers are people with a capacity: creating, changing and deactivating them is admin.
    {"/kam.v1.AccountsService/CreateManager", Role::kAdmin},
    {"/kam.v1.AccountsService/UpdateManager", Role::kAdmin},
    {"/kam.v1.AccountsService/GetManager", Role::kReader},
    {"/kam.v1.AccountsService/ListManagers", Role::kReader},
    {"/kam.v1.AccountsService/CreateAccount", Role::kWriter},
    {"/kam.v1.AccountsService/GetAccount", Role::kReader},
    {"/kam.v1.AccountsService/ListAccounts", Role::kReader},
    {"/kam.v1.AccountsService/UpdateAccount", Role::kWriter},
    {"/kam.v1.AccountsService/CloseAccount", Role::kWriter},
    {"/kam.v1.AccountsService/AssignAccount", Role::kWriter},
    {"/kam.v1.AccountsService/ReassignAccount", Role::kWriter},
    {"/kam.v1.AccountsService/GetManagerLoad", Role::kReader},
    {"/kam.v1.AccountsService/ListManagerLoads", Role::kReader},
    {"/kam.v1.AccountsService/ImportAccounts", Role::kWriter},
    {"/kam.v1.AccountsService/SuggestReassignments", Role::kReader},
    {"/kam.v1.InteractionsService/RecordInteraction", Role::kWriter},
    {"/kam.v1.InteractionsService/BatchRecordInteractions", Role::kWriter},
    {"/kam.v1.InteractionsService/GetInteraction", Role::kReader},
    {"/kam.v1.InteractionsService/ListInteractions", Role::kReader},
    {"/kam.v1.InteractionsService/GetAccountHealth", Role::kReader},
    {"/kam.v1.AlertsService/ListAlerts", Role::kReader},
    {"/kam.v1.AlertsService/GetAlert", Role::kReader},
    {"/kam.v1.AlertsService/WatchAlerts", Role::kReader},
    {"/kam.v1.AlertsService/AcknowledgeAlert", Role::kAcknowledger},
    {"/kam.v1.AlertsService/SnoozeAlert", Role::kAcknowledger},
    {"/kam.v1.AlertsService/CreateSilence", Role::kAcknowledger},
    {"/kam.v1.AlertsService/ListSilences", Role::kReader},
    {"/kam.v1.AlertsService/ExpireSilence", Role::kAcknowledger},
    {"/kam.v1.KpiService/GetKpis", Role::kReader},
};

// Reachable without credentials: Kubernetes probes and grpc_health_probe, and the reflection
// that grpcurl and ghz use to find the methods (it says what exists, not what is stored).
constexpr std::array<absl::string_view, 3> kOpenPrefixes = {
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
};

std::optional<Role> ParseRole(absl::string_view name) {
  for (const auto& [role, text] : kRoleNames) {
    if (name == text) return role;
  }
  return std::nullopt;
}

bool IsHex64(absl::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsCallerName(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != '@') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::string_view RoleName(Role role) {
  for (const auto& [r, text] : kRoleNames) {
    if (r == role) return text;
  }
  return "unknown";
}

std::string RoleNames(RoleSet roles) {
  std::vector<absl::string_view> names;
  for (const auto& [role, text] : kRoleNames) {
    if (roles & static_cast<RoleSet>(role)) names.push_back(text);
  }
  return names.empty() ? "none" : absl::StrJoin(names, ",");
}

Requirement RequirementOf(absl::string_view method) {
  for (absl::string_view prefix : kOpenPrefixes) {
    if (absl::StartsWith(method, prefix)) return Requirement{true, Role::kAdmin};
  }
  if (method.empty()) return Requirement{};
  for (const auto& [path, role] : kMethodRoles) {
    if (path == method) return Requirement{false, role};
  }
  return Requirement{};
}

bool IsKamMethod(absl::string_view method) {
  for (const auto& entry : kMethodRoles) {
    if (entry.first == method) return true;
  }
  return false;
}

std::string Sha256Hex(absl::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * SHA256_DIGEST_LENGTH, '0');
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return hex;
}

absl::StatusOr<TokenTable> TokenTable::Parse(absl::string_view text) {
  TokenTable table;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto error = [number](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat("auth file line ", number, ": ", what));
    };
    if (fields.size() != 3) {
      return error("expected \"<sha256 hex> <caller name> <role>[,<role>...]\"");
    }
    if (!IsHex64(fields[0])) {
      return error("the token hash must be 64 hex digits (printf %s \"$TOKEN\" | sha256sum)");
    }
    if (!IsCallerName(fields[1])) {
      return error("the caller name must be 1-128 letters, digits, '-', '_', '.' or '@'");
    }
    Caller caller{std::string(fields[1]), 0};
    for (absl::string_view name : absl::StrSplit(fields[2], ',')) {
      std::optional<Role> role = ParseRole(name);
      if (!role) {
        return error(absl::StrCat("unknown role \"", std::string(name),
                                  "\" (writer, reader, acknowledger or admin)"));
      }
      caller.roles |= static_cast<RoleSet>(*role);
    }
    std::string hash = absl::AsciiStrToLower(fields[0]);
    if (!table.by_hash_.emplace(std::move(hash), std::move(caller)).second) {
      return error("this token hash is already listed on an earlier line");
    }
  }
  return table;
}

const Caller* TokenTable::Find(absl::string_view token) const {
  // Hashing first makes the lookup's timing depend on the hash, which says nothing about the
  // tokens in the table.
  auto found = by_hash_.find(Sha256Hex(token));
  return found == by_hash_.end() ? nullptr : &found->second;
}

Decision Decide(const TokenTable& tokens, absl::string_view method,
                std::optional<absl::string_view> authorization) {
  const Requirement requirement = RequirementOf(method);
  if (requirement.open) return Decision{Verdict::kAllowed, "", ""};
  if (!authorization) {
    return Decision{Verdict::kUnauthenticated, "",
                    "authorization: missing; send \"authorization: Bearer <token>\""};
  }
  absl::string_view value = absl::StripAsciiWhitespace(*authorization);
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return Decision{Verdict::kUnauthenticated, "", "authorization: expected \"Bearer <token>\""};
  }
  const Caller* caller =
      tokens.Find(absl::StripLeadingAsciiWhitespace(value.substr(kScheme.size())));
  if (caller == nullptr) {
    return Decision{Verdict::kUnauthenticated, "",
                    "authorization: the token is not known here (revoked, mistyped, or for "
                    "another deployment)"};
  }
  if ((caller->roles & static_cast<RoleSet>(requirement.role)) == 0) {
    return Decision{
        Verdict::kPermissionDenied, caller->name,
        absl::StrCat("caller ", caller->name, " has the roles ", RoleNames(caller->roles), "; ",
                     method, " needs the role ", RoleName(requirement.role))};
  }
  return Decision{Verdict::kAllowed, caller->name, ""};
}

}  // namespace kam::auth
