#include "common/fingerprint.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/error_details.h"
#include "common/logging.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "kam/internal/v1/storage.pb.h"

namespace kam {

std::string Fingerprint(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return Sha256Hex(bytes);
}

std::string Sha256Hex(std::string_view bytes) {
  // OpenSSL 3's SHA256() looks the algorithm up in its provider registry on every call (a lock and
  // a property query: 6 % of kam-alerts' time in a profile); fetched once, the digest is the hash
  // alone.
  static EVP_MD* const sha256 = [] {
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (md == nullptr) log::Fatal("OpenSSL has no SHA-256", {});
    return md;
  }();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  if (EVP_Digest(bytes.data(), bytes.size(), digest, nullptr, sha256, nullptr) != 1) {
    log::Fatal("SHA-256 failed", {});
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), SHA256_DIGEST_LENGTH));
}

absl::StatusOr<std::optional<std::string>> CheckIdempotent(const std::optional<std::string>& stored,
                                                           const std::string& key,
                                                           const std::string& fingerprint,
                                                           const std::string& field) {
  if (!stored) return std::optional<std::string>();
  kam::internal::v1::IdempotencyRecord record;
  if (!record.ParseFromString(*stored)) {
    return absl::DataLossError(absl::StrCat("idempotency record ", key, " does not parse"));
  }
  if (record.request_fingerprint() != fingerprint) {
    return errors::WithReason(
        absl::AlreadyExistsError(absl::StrCat(
            field, ": already used for a different request (resource ", record.resource_id(), ")")),
        "REQUEST_ID_REUSED", {{"resource_id", record.resource_id()}});
  }
  return std::optional<std::string>(record.resource_id());
}

absl::Status PutIdempotent(Store* store, rocksdb::WriteBatch* batch, std::string_view cf,
                           const std::string& key, const std::string& fingerprint,
                           const std::string& resource_id) {
  return FromRocks(batch->Put(store->Cf(cf), key, IdempotencyValue(fingerprint, resource_id)),
                   "put idempotency");
}

std::string IdempotencyValue(const std::string& fingerprint, const std::string& resource_id) {
  kam::internal::v1::IdempotencyRecord record;
  record.set_request_fingerprint(fingerprint);
  record.set_resource_id(resource_id);
  return record.SerializeAsString();
}

}  // namespace kam
