#pragma once

// Idempotency helpers: a stable digest of a request body, and the stored record of what a
// request_id created. A retry with the same request_id and body returns the first result; the
// same request_id with another body is ALREADY_EXISTS, never a silent overwrite.

#include <optional>
#include <string>

#include "common/status.h"
#include "common/store.h"
#include "google/protobuf/message.h"

namespace kam {

// Hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);
// Hex SHA-256 of the message's deterministic encoding.
std::string Fingerprint(const google::protobuf::Message& message);

// The resource id stored under `key` in `cf`, or nullopt; ALREADY_EXISTS naming `field` when the
// stored fingerprint differs.
absl::StatusOr<std::optional<std::string>> LookupIdempotent(const Store& store, std::string_view cf,
                                                            const std::string& key,
                                                            const std::string& fingerprint,
                                                            const std::string& field);

// Adds the record for `key` to `batch`.
absl::Status PutIdempotent(Store* store, rocksdb::WriteBatch* batch, std::string_view cf,
                           const std::string& key, const std::string& fingerprint,
                           const std::string& resource_id);

}  // namespace kam
