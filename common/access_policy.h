#pragma once

// Who may call what: the four roles, the role each RPC needs, and the table of bearer tokens a
// service accepts (the --auth-file). Plain logic: the gRPC side is common/grpc_auth.h.
//
// The auth file holds no secrets, only SHA-256 hashes of tokens, one caller per line:
//   # <sha256 of the token, 64 hex digits>  <caller name>  <role>[,<role>...]
//   5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8  crm-platform  writer,reader
// A token is made with `openssl rand -hex 32`, hashed with `printf %s "$TOKEN" | sha256sum`.
// Roles do not imply each other: a caller that writes and reads lists both.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace kam::auth {

enum class Role : uint8_t { kWriter = 1, kReader = 2, kAcknowledger = 4, kAdmin = 8 };

// A set of roles as bits of Role.
using RoleSet = uint8_t;

absl::string_view RoleName(Role role);
// "writer,reader" for a set, "none" for the empty set.
std::string RoleNames(RoleSet roles);

// What an RPC (its full path, "/kam.v1.AccountsService/CreateAccount") needs: a role, or nothing
// (health checks and reflection, for probes and tools). A method kam does not know needs kAdmin:
// a new RPC without an entry here is closed, not open.
struct Requirement {
  bool open = false;
  Role role = Role::kAdmin;
};
Requirement RequirementOf(absl::string_view method);
// Whether `method` is one of kam's RPCs (the others are counted under one label, so a client
// cannot make a metric series per made-up path).
bool IsKamMethod(absl::string_view method);

struct Caller {
  std::string name;  // from the auth file: what logs and metrics say, never the token
  RoleSet roles = 0;
};

// The callers of one auth file, by token hash.
class TokenTable {
 public:
  // Parses the file's text; INVALID_ARGUMENT naming the line for anything malformed (a bad hash,
  // an unknown role, a hash listed twice). An empty table is valid: every call is refused.
  static absl::StatusOr<TokenTable> Parse(absl::string_view text);

  // The caller a token belongs to (the token itself, not its hash), or nullptr.
  const Caller* Find(absl::string_view token) const;
  size_t size() const { return by_hash_.size(); }

 private:
  std::map<std::string, Caller, std::less<>> by_hash_;  // lowercase hex SHA-256 -> caller
};

// Lowercase hex SHA-256 of `text`.
std::string Sha256Hex(absl::string_view text);

enum class Verdict { kAllowed, kUnauthenticated, kPermissionDenied };

struct Decision {
  Verdict verdict = Verdict::kUnauthenticated;
  std::string caller;   // the caller's name; empty when unknown
  std::string message;  // for the refused caller: what was missing, never the token
};

// Decides one call: `authorization` is the value of its `authorization` header, if any
// ("Bearer <token>"). Open methods are allowed without looking at it.
Decision Decide(const TokenTable& tokens, absl::string_view method,
                std::optional<absl::string_view> authorization);

}  // namespace kam::auth
