#include "common/page_token.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace kam {
namespace {
constexpr std::string_view kSecretKey = "page_token.secret";
constexpr size_t kMacBytes = 16;
}  // namespace

absl::StatusOr<PageTokens> PageTokens::ForStore(Store* store) {
  KAM_ASSIGN_OR_RETURN(std::optional<std::string> secret, store->Get(kMetaCf, kSecretKey));
  if (secret) return PageTokens(*secret);
  std::string fresh(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(fresh.data()), 32) != 1) {
    return absl::InternalError("page token secret: RAND_bytes failed");
  }
  rocksdb::WriteBatch batch;
  KAM_RETURN_IF_ERROR(FromRocks(batch.Put(store->Cf(kMetaCf), kSecretKey, fresh), "put secret"));
  KAM_RETURN_IF_ERROR(store->Write(&batch));
  return PageTokens(fresh);
}

std::string PageTokens::Sign(const std::string& payload) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &length);
  return std::string(reinterpret_cast<char*>(mac), std::min<size_t>(length, kMacBytes));
}

std::string PageTokens::Issue(const std::string& filter, const std::string& position) const {
  std::string signed_part = absl::StrCat(filter.size(), ":", filter, position);
  std::string raw = absl::StrCat(Sign(signed_part), position);
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::string> PageTokens::Parse(const std::string& token,
                                              const std::string& filter) const {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() < kMacBytes) {
    return absl::InvalidArgumentError("page_token: not a token this server issued");
  }
  std::string position = raw.substr(kMacBytes);
  std::string expected = Sign(absl::StrCat(filter.size(), ":", filter, position));
  if (CRYPTO_memcmp(expected.data(), raw.data(), kMacBytes) != 0) {
    return absl::InvalidArgumentError(
        "page_token: not issued by this server, or issued for different filters");
  }
  return position;
}

absl::StatusOr<int> ResolvePageSize(int page_size) {
  if (page_size < 0) {
    return absl::InvalidArgumentError(absl::StrCat("page_size: must be >= 0, got ", page_size));
  }
  if (page_size == 0) return 50;
  return std::min(page_size, 1000);
}

}  // namespace kam
