#pragma once

// Field checks that need no stored state. Each error is INVALID_ARGUMENT and names the field the
// way a client wrote it (e.g. "account.contacts[2].email"), so the caller knows what to fix.

#include <string>
#include <string_view>

#include "common/field_checks.h"
#include "common/status.h"
#include "google/protobuf/field_mask.pb.h"
#include "kam/v1/accounts.pb.h"
#include "services/accounts/policy.h"

namespace kam::accounts {

inline constexpr size_t kMaxNameChars = 200;
inline constexpr size_t kMaxRoleChars = 100;
inline constexpr size_t kMaxReasonChars = 500;
inline constexpr size_t kMaxRequestIdChars = 128;
inline constexpr int kMaxContacts = 50;
inline constexpr int kMaxRegions = 100;
inline constexpr int kMaxCapacity = 1000;
inline constexpr int kMaxImportRows = 10000;

absl::Status ValidateName(std::string_view value, std::string_view field);
absl::Status ValidateRequestId(std::string_view value);
// INVALID_ARGUMENT naming `field` when `id` is empty.
absl::Status RequireId(std::string_view id, std::string_view field);
absl::Status ValidateReason(std::string_view value, std::string_view field);

// The manager's own fields (create, or the fields named by an update).
absl::Status ValidateManagerFields(const kam::v1::Manager& manager, std::string_view prefix);
// The account's own fields; references (parent, owner) are checked against the store later.
absl::Status ValidateAccountFields(const kam::v1::Account& account, std::string_view prefix,
                                   const AccountsPolicy& policy);

// The updatable paths of each resource; "*" expands to all of them. INVALID_ARGUMENT names an
// unknown or read-only path. An empty mask means: every updatable field set in `resource`.
absl::StatusOr<std::vector<std::string>> ResolveManagerMask(const google::protobuf::FieldMask& mask,
                                                            const kam::v1::Manager& resource);
absl::StatusOr<std::vector<std::string>> ResolveAccountMask(const google::protobuf::FieldMask& mask,
                                                            const kam::v1::Account& resource);

// Copies the fields named in `paths` from `from` to `to`.
void ApplyManagerMask(const std::vector<std::string>& paths, const kam::v1::Manager& from,
                      kam::v1::Manager* to);
void ApplyAccountMask(const std::vector<std::string>& paths, const kam::v1::Account& from,
                      kam::v1::Account* to);

}  // namespace kam::accounts
