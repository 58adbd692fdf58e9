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

// The resource id in an idempotency record read from `key` (nullopt when there was none);
// ALREADY_EXISTS naming `field` when the stored fingerprint differs.
absl::StatusOr<std::optional<std::string>> CheckIdempotent(const std::optional<std::string>& stored,
                                                           const std::string& key,
                                                           const std::string& fingerprint,
                                                           const std::string& field);

// The resource id stored under `key` in `cf`, or nullopt, as CheckIdempotent says. `reader` is a
// Store or a StagedBatch.
template <typename Reader>
absl::StatusOr<std::optional<std::string>> LookupIdempotent(Reader& reader, std::string_view cf,
                                                            const std::string& key,
                                                            const std::string& fingerprint,
                                                            const std::string& field) {
  KAM_ASSIGN_OR_RETURN(std::optional<std::string> stored, reader.Get(cf, key));
  return CheckIdempotent(stored, key, fingerprint, field);
}

// The stored form of "`key` created `resource_id` from a request with `fingerprint`".
std::string IdempotencyValue(const std::string& fingerprint, const std::string& resource_id);

// Adds the record for `key` to `batch`.
absl::Status PutIdempotent(Store* store, rocksdb::WriteBatch* batch, std::string_view cf,
                           const std::string& key, const std::string& fingerprint,
                           const std::string& resource_id);

}  // namespace kam
