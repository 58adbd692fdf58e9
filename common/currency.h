#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kam {

// The number of minor-unit digits of an active ISO 4217 currency (2 for EUR, 0 for JPY, 3 for
// KWD), or nullopt when `code` is not one.
std::optional<int> CurrencyExponent(std::string_view code);

// "1234.50 EUR": an amount in minor units of `currency`, with the currency's digits (2 when it
// is not an ISO 4217 code).
std::string FormatAmount(int64_t amount_minor, std::string_view currency);

// Whether `code` is an ISO 3166-1 alpha-2 country code currently assigned.
bool IsCountryCode(std::string_view code);

}  // namespace kam
