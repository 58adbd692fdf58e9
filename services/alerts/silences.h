#pragma once

// Silences: time-bound matchers that keep alerts from being notified during a planned situation
// (a reorganisation, a known outage). The alerts are still raised, recorded and streamed; a
// change made while a matching silence is active carries the silence's id (Alert.silenced_by)
// and notification_suppressed, so notifiers skip it (Alertmanager's silences, decided once per
// change and stored with it, so a replay or a moved task decides nothing anew).
//
// Task 0 holds every silence (column family `silences`): CreateSilence and ExpireSilence are
// commands to it (alert_commands.h). Every instance's SilenceBook follows that state through the
// changelog, like the alerts view, and every task asks its own instance's book -- a global table
// joined at the moment of the change.
//
// Logic only: no gRPC, no librdkafka.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
#include "common/status.h"
#include "kam/v1/alerts.pb.h"

namespace kam::alerts {

// The longest a silence may last, and how long an ended one is kept for ListSilences.
inline constexpr int64_t kMaxSilenceMillis = 90LL * 24 * 3600 * 1000;
inline constexpr int64_t kKeepEndedSilenceMillis = 7LL * 24 * 3600 * 1000;

// The silence a CreateSilence asks for, checked and completed at `now_millis` (start_time
// defaults to now; id and create_time are set). INVALID_ARGUMENT naming the field otherwise.
absl::StatusOr<kam::v1::Silence> NewSilence(const kam::v1::CreateSilenceRequest& request,
                                            int64_t now_millis);

// Whether `silence` is active at `at_millis` and every matcher it sets matches the alert. `tier`
// and `industry` are those of the alert's account (0 for manager alerts).
bool SilenceMatches(const kam::v1::Silence& silence, const kam::v1::Alert& alert, int tier,
                    int industry, int64_t at_millis);

class SilenceBook {
 public:
  // One changelog record (see AlertsView::Apply); records of other column families are ignored.
  void Apply(int32_t task, std::string_view key, std::optional<std::string_view> value);

  // Ids of the silences matching the alert at `at_millis`, sorted.
  std::vector<std::string> Matching(const kam::v1::Alert& alert, int tier, int industry,
                                    int64_t at_millis) const;
  // Active and pending silences at `now_millis` (all kept ones with include_expired), by start.
  kam::v1::ListSilencesResponse List(const kam::v1::ListSilencesRequest& request,
                                     int64_t now_millis) const;
  std::optional<kam::v1::Silence> Find(const std::string& id) const;
  // Waits up to `timeout` until the book holds `silence` as it is (same id and end); false when
  // it did not arrive in time.
  bool AwaitStored(const kam::v1::Silence& silence, std::chrono::milliseconds timeout) const;

 private:
  mutable Mutex mutex_;
  std::map<std::string, kam::v1::Silence> silences_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace kam::alerts
