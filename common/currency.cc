#include "common/currency.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace kam {
namespace {

// Active ISO 4217 codes (list of 2024). Kept as data here: no Debian package ships the table in a
// form a C++ program can read without pulling in ICU.
constexpr std::array<std::string_view, 155> kCurrencies = {
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWL"};
constexpr std::array<std::string_view, 16> kZeroDigit = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY",
                                                         "KMF", "KRW", "PYG", "RWF", "UGX", "VND",
                                                         "VUV", "XAF", "XOF", "XPF"};
constexpr std::array<std::string_view, 7> kThreeDigit = {"BHD", "IQD", "JOD", "KWD",
                                                         "LYD", "OMR", "TND"};

// ISO 3166-1 alpha-2, officially assigned codes.
constexpr std::string_view kCountries =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR "
    "BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ "
    "EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW "
    "GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY "
    "KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV "
    "MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY "
    "QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG "
    "TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM "
    "ZW";

template <size_t N>
bool Contains(const std::array<std::string_view, N>& list, std::string_view code) {
  return std::find(list.begin(), list.end(), code) != list.end();
}

}  // namespace

std::optional<int> CurrencyExponent(std::string_view code) {
  if (code.size() != 3 || !Contains(kCurrencies, code)) return std::nullopt;
  if (Contains(kZeroDigit, code)) return 0;
  if (Contains(kThreeDigit, code)) return 3;
  return 2;
}

bool IsCountryCode(std::string_view code) {
  if (code.size() != 2) return false;
  for (size_t i = 0; i + 1 < kCountries.size(); i += 3) {
    if (kCountries.substr(i, 2) == code) return true;
  }
  return false;
}

std::string FormatAmount(int64_t amount_minor, std::string_view currency) {
  const int exponent = CurrencyExponent(currency).value_or(2);
  double value = static_cast<double>(amount_minor);
  for (int i = 0; i < exponent; ++i) value /= 10;
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f %.*s", exponent, value,
                static_cast<int>(currency.size()), currency.data());
  return buffer;
}

}  // namespace kam
