#include "services/alerts/silences.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/field_checks.h"
#include "common/fingerprint.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "kam/v1/accounts.pb.h"
#include "kam/v1/common.pb.h"
#include "services/alerts/alert_store.h"

namespace kam::alerts {

using kam::v1::Silence;

absl::StatusOr<Silence> NewSilence(const kam::v1::CreateSilenceRequest& request,
                                   int64_t now_millis) {
  if (!request.has_silence()) return absl::InvalidArgumentError("silence: required");
  Silence silence = request.silence();
  if (!kam::v1::AlertRule_IsValid(silence.rule())) {
    return absl::InvalidArgumentError(absl::StrCat("silence.rule: unknown value ", silence.rule()));
  }
  if (!kam::v1::Tier_IsValid(silence.tier())) {
    return absl::InvalidArgumentError(absl::StrCat("silence.tier: unknown value ", silence.tier()));
  }
  if (!kam::v1::Industry_IsValid(silence.industry())) {
    return absl::InvalidArgumentError(
        absl::StrCat("silence.industry: unknown value ", silence.industry()));
  }
  if (silence.rule() == kam::v1::ALERT_RULE_UNSPECIFIED && silence.account_id().empty() &&
      silence.manager_id().empty() && silence.tier() == kam::v1::TIER_UNSPECIFIED &&
      silence.industry() == kam::v1::INDUSTRY_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        "silence: set at least one matcher (rule, account_id, manager_id, tier, industry); a "
        "silence of everything would hide every alert");
  }
  if (silence.account_id().size() > 128 || silence.manager_id().size() > 128) {
    return absl::InvalidArgumentError("silence.account_id, silence.manager_id: at most 128 chars");
  }
  if (silence.created_by().empty() || silence.created_by().size() > 200) {
    return absl::InvalidArgumentError("silence.created_by: required, at most 200 characters");
  }
  if (silence.comment().empty() || silence.comment().size() > 1000) {
    return absl::InvalidArgumentError(
        "silence.comment: required (say why), at most 1000 characters");
  }
  if (request.request_id().size() > 128) {
    return absl::InvalidArgumentError("request_id: at most 128 characters");
  }
  if (!silence.has_start_time()) *silence.mutable_start_time() = TimestampFromMillis(now_millis);
  KAM_RETURN_IF_ERROR(ValidateTimestamp(silence.start_time(), "silence.start_time"));
  if (!silence.has_end_time()) return absl::InvalidArgumentError("silence.end_time: required");
  KAM_RETURN_IF_ERROR(ValidateTimestamp(silence.end_time(), "silence.end_time"));
  const int64_t start = MillisFromTimestamp(silence.start_time());
  const int64_t end = MillisFromTimestamp(silence.end_time());
  if (end <= start || end <= now_millis) {
    return absl::InvalidArgumentError(
        "silence.end_time: must be after start_time and in the future");
  }
  if (start - now_millis > kMaxSilenceMillis) {
    return absl::InvalidArgumentError("silence.start_time: at most 90 days ahead");
  }
  if (end - start > kMaxSilenceMillis) {
    return absl::InvalidArgumentError("silence.end_time: a silence lasts at most 90 days");
  }
  silence.set_id(request.request_id().empty()
                     ? absl::StrCat("sil_", NewUuid())
                     : absl::StrCat("sil_", Sha256Hex(absl::StrCat(silence.created_by(), "\n",
                                                                   request.request_id()))
                                                .substr(0, 32)));
  *silence.mutable_create_time() = TimestampFromMillis(now_millis);
  return silence;
}

bool SilenceMatches(const Silence& silence, const kam::v1::Alert& alert, int tier, int industry,
                    int64_t at_millis) {
  if (at_millis < MillisFromTimestamp(silence.start_time()) ||
      at_millis >= MillisFromTimestamp(silence.end_time())) {
    return false;
  }
  return (silence.rule() == kam::v1::ALERT_RULE_UNSPECIFIED || silence.rule() == alert.rule()) &&
         (silence.account_id().empty() || silence.account_id() == alert.account_id()) &&
         (silence.manager_id().empty() || silence.manager_id() == alert.manager_id()) &&
         (silence.tier() == kam::v1::TIER_UNSPECIFIED || silence.tier() == tier) &&
         (silence.industry() == kam::v1::INDUSTRY_UNSPECIFIED || silence.industry() == industry);
}

void SilenceBook::Apply(int32_t, std::string_view key, std::optional<std::string_view> value) {
  const size_t separator = key.find('\0');
  if (separator == std::string_view::npos || key.substr(0, separator) != kSilencesCf) return;
  const std::string_view store_key = key.substr(separator + 1);
  if (store_key.size() <= 4) return;
  const std::string id(store_key.substr(4));
  MutexLock lock(&mutex_);
  Silence silence;
  if (!value) {
    silences_.erase(id);
  } else if (silence.ParseFromArray(value->data(), static_cast<int>(value->size()))) {
    silences_[id] = std::move(silence);
  }
}

bool SilenceBook::AwaitStored(const Silence& silence, std::chrono::milliseconds timeout) const {
  MutexLock lock(&mutex_);
  auto stored = [&] {
    mutex_.AssertHeld();
    auto it = silences_.find(silence.id());
    return it != silences_.end() &&
           MillisFromTimestamp(it->second.end_time()) == MillisFromTimestamp(silence.end_time());
  };
  return mutex_.AwaitWithTimeout(stored, absl::FromChrono(timeout));
}

std::vector<std::string> SilenceBook::Matching(const kam::v1::Alert& alert, int tier, int industry,
                                               int64_t at_millis) const {
  std::vector<std::string> ids;
  MutexLock lock(&mutex_);
  for (const auto& [id, silence] : silences_) {
    if (SilenceMatches(silence, alert, tier, industry, at_millis)) ids.push_back(id);
  }
  return ids;
}

kam::v1::ListSilencesResponse SilenceBook::List(const kam::v1::ListSilencesRequest& request,
                                                int64_t now_millis) const {
  std::vector<Silence> listed;
  {
    MutexLock lock(&mutex_);
    for (const auto& [id, silence] : silences_) {
      if (request.include_expired() || MillisFromTimestamp(silence.end_time()) > now_millis) {
        listed.push_back(silence);
      }
    }
  }
  std::sort(listed.begin(), listed.end(), [](const Silence& a, const Silence& b) {
    const int64_t a_start = MillisFromTimestamp(a.start_time());
    const int64_t b_start = MillisFromTimestamp(b.start_time());
    return a_start != b_start ? a_start < b_start : a.id() < b.id();
  });
  kam::v1::ListSilencesResponse response;
  for (auto& silence : listed) *response.add_silences() = std::move(silence);
  return response;
}

std::optional<Silence> SilenceBook::Find(const std::string& id) const {
  MutexLock lock(&mutex_);
  auto it = silences_.find(id);
  if (it == silences_.end()) return std::nullopt;
  return it->second;
}

}  // namespace kam::alerts
