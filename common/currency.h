#pragma once

#include <optional>
#include <string_view>

namespace kam {

// The number of minor-unit digits of an active ISO 4217 currency (2 for EUR, 0 for JPY, 3 for
// KWD), or nullopt when `code` is not one.
std::optional<int> CurrencyExponent(std::string_view code);

// Whether `code` is an ISO 3166-1 alpha-2 country code currently assigned.
bool IsCountryCode(std::string_view code);

}  // namespace kam
