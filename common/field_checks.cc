#include "common/field_checks.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/currency.h"
#include "common/error_details.h"

namespace kam {
namespace {

// Counts UTF-8 code points; false when the bytes are not valid UTF-8 or hold control characters.
bool CountChars(std::string_view text, size_t* count) {
  *count = 0;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    if (len == 0 || i + len > text.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return false;
    }
    if (len == 1 && (c < 0x20 || c == 0x7f) && c != '\n' && c != '\t') return false;
    i += len;
    ++*count;
  }
  return true;
}

}  // namespace

absl::Status InvalidField(std::string_view field, std::string_view problem) {
  return errors::InvalidField(field, problem);
}

absl::Status ValidateText(std::string_view value, std::string_view field, size_t max_chars,
                          bool required) {
  size_t chars = 0;
  if (!CountChars(value, &chars)) {
    return InvalidField(field, "must be UTF-8 text without control characters");
  }
  bool blank = std::all_of(value.begin(), value.end(), [](char c) { return c == ' '; });
  if (required && blank) return InvalidField(field, "required; must not be empty");
  if (chars > max_chars) {
    return InvalidField(field, absl::StrCat("at most ", max_chars, " characters, got ", chars));
  }
  return absl::OkStatus();
}

absl::Status ValidateEmail(std::string_view value, std::string_view field, bool required) {
  if (value.empty()) {
    return required ? InvalidField(field, "required; must not be empty") : absl::OkStatus();
  }
  KAM_RETURN_IF_ERROR(ValidateText(value, field, 254, true));
  size_t at = value.find('@');
  if (at == std::string_view::npos || at == 0 || at != value.rfind('@') ||
      value.find('.', at) == std::string_view::npos || value.back() == '.' ||
      value.find(' ') != std::string_view::npos) {
    return InvalidField(field,
                        absl::StrCat("\"", std::string(value), "\" is not an e-mail address"));
  }
  return absl::OkStatus();
}

absl::Status ValidateMoney(const kam::v1::Money& money, std::string_view field) {
  if (money.amount_minor() < 0) {
    return InvalidField(absl::StrCat(std::string(field), ".amount_minor"),
                        absl::StrCat("must be >= 0, got ", money.amount_minor()));
  }
  if (!CurrencyExponent(money.currency())) {
    return InvalidField(
        absl::StrCat(std::string(field), ".currency"),
        absl::StrCat("\"", money.currency(), "\" is not an ISO 4217 currency code"));
  }
  return absl::OkStatus();
}

absl::Status ValidateTimestamp(const google::protobuf::Timestamp& time, std::string_view field) {
  // 0001-01-01 .. 9999-12-31, as google/protobuf/timestamp.proto defines.
  if (time.seconds() < -62135596800LL || time.seconds() > 253402300799LL || time.nanos() < 0 ||
      time.nanos() > 999999999) {
    return InvalidField(field, "not a valid timestamp");
  }
  return absl::OkStatus();
}

}  // namespace kam
