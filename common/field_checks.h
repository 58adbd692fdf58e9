#pragma once

// Boundary checks shared by the services. Each failure is INVALID_ARGUMENT with a message that
// starts with the field's name as the client wrote it ("account.contacts[2].email: ...").

#include <cstddef>
#include <string_view>

#include "common/status.h"
#include "google/protobuf/timestamp.pb.h"
#include "kam/v1/common.pb.h"

namespace kam {

absl::Status InvalidField(std::string_view field, std::string_view problem);

// UTF-8 text without control characters, at most `max_chars` code points; `required` refuses an
// empty or blank value.
absl::Status ValidateText(std::string_view value, std::string_view field, size_t max_chars,
                          bool required);

// A plausible e-mail address (one '@', a dot in the domain, no spaces).
absl::Status ValidateEmail(std::string_view value, std::string_view field, bool required);

// Money: amount_minor >= 0 and an ISO 4217 currency.
absl::Status ValidateMoney(const kam::v1::Money& money, std::string_view field);

// A protobuf Timestamp within its documented range.
absl::Status ValidateTimestamp(const google::protobuf::Timestamp& time, std::string_view field);

// Whether `value` is a defined value of an enum (proto3 keeps unknown numbers).
template <typename IsValid>
absl::Status ValidateEnumValue(int value, IsValid is_valid, std::string_view field, bool required) {
  if (!is_valid(value)) return InvalidField(field, "unknown value " + std::to_string(value));
  if (required && value == 0) return InvalidField(field, "required; must not be UNSPECIFIED");
  return absl::OkStatus();
}

}  // namespace kam
