#include "services/alerts/alerts_view.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/error_details.h"
#include "common/store.h"
#include "services/alerts/alert_listing.h"
#include "services/alerts/alert_store.h"

namespace kam::alerts {
namespace {

constexpr char kTokenPrefix[] = "v1:";

absl::Status NotOurToken() {
  return absl::InvalidArgumentError("resume_token: not a token this service issued");
}

absl::StatusOr<std::map<int32_t, uint64_t>> DecodeToken(const std::string& token) {
  std::map<int32_t, uint64_t> delivered;
  if (token.rfind(kTokenPrefix, 0) != 0) return NotOurToken();
  const std::string body = token.substr(sizeof(kTokenPrefix) - 1);
  if (body.empty()) return delivered;
  const std::vector<std::string> parts = absl::StrSplit(body, ',');
  for (const std::string& part : parts) {
    std::vector<std::string> pair = absl::StrSplit(part, '=');
    int32_t task = 0;
    uint64_t sequence = 0;
    if (pair.size() != 2 || !absl::SimpleAtoi(pair[0], &task) ||
        !absl::SimpleAtoi(pair[1], &sequence) || task < 0) {
      return NotOurToken();
    }
    delivered[task] = sequence;
  }
  return delivered;
}

absl::Status HistoryGone() {
  return errors::FailedPrecondition(
      "RESUME_TOKEN_EXPIRED", "RESUME_TOKEN", "resume_token",
      "resume_token: changes after it are no longer kept; re-read the alerts with ListAlerts "
      "and watch with live_only");
}

}  // namespace

AlertsView::AlertsView(PageTokens tokens, size_t change_history)
    : tokens_(std::move(tokens)), change_history_(std::max<size_t>(change_history, 1)) {}

std::string AlertsView::EncodeToken(const std::map<int32_t, uint64_t>& delivered) {
  std::string token = kTokenPrefix;
  for (const auto& [task, sequence] : delivered) {
    if (token.size() > sizeof(kTokenPrefix) - 1) token.push_back(',');
    absl::StrAppend(&token, task, "=", sequence);
  }
  return token;
}

void AlertsView::Apply(int32_t task, std::string_view key, std::optional<std::string_view> value) {
  const size_t separator = key.find('\0');
  if (separator == std::string_view::npos) return;
  const std::string_view cf = key.substr(0, separator);
  const std::string_view store_key = key.substr(separator + 1);
  if (store_key.size() < 4) return;
  bool appended = false;
  {
    MutexLock lock(&mutex_);
    if (cf == kAlertsCf) {
      const std::string id(store_key.substr(4));
      kam::v1::Alert alert;
      if (!value) {
        auto gone = alerts_.find(id);
        if (gone != alerts_.end()) {
          auto open = open_by_fingerprint_.find(gone->second.alert.fingerprint());
          if (open != open_by_fingerprint_.end() && open->second == id) {
            open_by_fingerprint_.erase(open);
          }
          alerts_.erase(gone);
        }
      } else if (alert.ParseFromArray(value->data(), static_cast<int>(value->size()))) {
        // Only an open alert that notifies can stand for its parts (grouped alerts go quiet).
        if (IsOpen(alert) && alert.state() != kam::v1::ALERT_STATE_SNOOZED &&
            !alert.notification_suppressed()) {
          open_by_fingerprint_[alert.fingerprint()] = id;
        } else {
          auto open = open_by_fingerprint_.find(alert.fingerprint());
          if (open != open_by_fingerprint_.end() && open->second == id) {
            open_by_fingerprint_.erase(open);
          }
        }
        alerts_[id] = {task, std::move(alert)};
      }
    } else if (cf == kCommandResultsCf && store_key.size() > 12) {
      kam::internal::v1::AlertCommandResult result;
      if (!value) {
        results_.erase(std::string(store_key.substr(12)));
      } else if (result.ParseFromArray(value->data(), static_cast<int>(value->size()))) {
        results_[result.command_id()] = std::move(result);
      }
    } else if (cf == kChangesCf && store_key.size() == 12 && value) {
      const uint64_t sequence = DecodeUint64(store_key.substr(4));
      uint64_t& last = last_sequence_[task];
      kam::v1::AlertChange change;
      // A restore or a replay of the changelog may hand over what the view already has.
      if (sequence > last &&
          change.ParseFromArray(value->data(), static_cast<int>(value->size()))) {
        last = sequence;
        changes_.push_back({task, sequence, std::move(change)});
        appended = true;
        while (changes_.size() > change_history_) {
          uint64_t& dropped = dropped_upto_[changes_.front().task];
          dropped = std::max(dropped, changes_.front().sequence);
          changes_.pop_front();
          ++first_position_;
        }
      }
    }
  }
  if (appended) {
    MutexLock lock(&watchers_mutex_);
    for (const auto& [id, notify] : watchers_) notify();
  }
}

absl::StatusOr<kam::v1::ListAlertsResponse> AlertsView::List(
    const kam::v1::ListAlertsRequest& request) const {
  KAM_RETURN_IF_ERROR(CheckListRequest(request));
  std::vector<kam::v1::Alert> matching;
  {
    MutexLock lock(&mutex_);
    for (const auto& [id, known] : alerts_) {
      if (Matches(request, known.alert)) matching.push_back(known.alert);
    }
  }
  return PageOf(std::move(matching), request, tokens_);
}

absl::StatusOr<kam::v1::Alert> AlertsView::Get(const kam::v1::GetAlertRequest& request) const {
  if (request.id().empty()) return absl::InvalidArgumentError("id: required");
  auto found = Find(request.id());
  if (!found) return NoSuchAlert(request.id());
  return std::move(found->second);
}

bool AlertsView::AwaitEtag(const std::string& id, const std::string& etag,
                           std::chrono::milliseconds timeout) const {
  uint64_t wanted = 0;
  if (!absl::SimpleAtoi(etag, &wanted)) return false;
  // Waiters wake when a writer releases the lock and their condition holds.
  MutexLock lock(&mutex_);
  auto reached = [&] {
    mutex_.AssertHeld();
    auto it = alerts_.find(id);
    uint64_t held = 0;
    return it != alerts_.end() && absl::SimpleAtoi(it->second.alert.etag(), &held) &&
           held >= wanted;
  };
  return mutex_.AwaitWithTimeout(reached, absl::FromChrono(timeout));
}

std::optional<kam::internal::v1::AlertCommandResult> AlertsView::AwaitResult(
    const std::string& command_id, std::chrono::milliseconds timeout) const {
  MutexLock lock(&mutex_);
  auto answered = [&] {
    mutex_.AssertHeld();
    return results_.contains(command_id);
  };
  if (!mutex_.AwaitWithTimeout(answered, absl::FromChrono(timeout))) {
    return std::nullopt;
  }
  return results_.at(command_id);
}

std::optional<std::pair<int32_t, kam::v1::Alert>> AlertsView::Find(const std::string& id) const {
  MutexLock lock(&mutex_);
  auto it = alerts_.find(id);
  if (it == alerts_.end()) return std::nullopt;
  return std::make_pair(it->second.task, it->second.alert);
}

absl::StatusOr<AlertsView::Cursor> AlertsView::After(const std::string& resume_token) const {
  MutexLock lock(&mutex_);
  Cursor cursor;
  cursor.position = first_position_;
  if (resume_token.empty()) {
    cursor.delivered = dropped_upto_;  // from the oldest change kept
    return cursor;
  }
  KAM_ASSIGN_OR_RETURN(cursor.delivered, DecodeToken(resume_token));
  for (const auto& [task, dropped] : dropped_upto_) {
    auto it = cursor.delivered.find(task);
    if ((it == cursor.delivered.end() ? 0 : it->second) < dropped) return HistoryGone();
  }
  return cursor;
}

AlertsView::Cursor AlertsView::Latest() const {
  MutexLock lock(&mutex_);
  return {first_position_ + changes_.size(), last_sequence_};
}

absl::StatusOr<std::vector<kam::v1::AlertChange>> AlertsView::Read(Cursor* cursor,
                                                                   size_t limit) const {
  std::vector<kam::v1::AlertChange> read;
  MutexLock lock(&mutex_);
  if (cursor->position < first_position_) {
    for (const auto& [task, dropped] : dropped_upto_) {
      auto it = cursor->delivered.find(task);
      if ((it == cursor->delivered.end() ? 0 : it->second) < dropped) return HistoryGone();
    }
    cursor->position = first_position_;
  }
  while (read.size() < limit && cursor->position < first_position_ + changes_.size()) {
    const Entry& entry = changes_[cursor->position - first_position_];
    ++cursor->position;
    uint64_t& delivered = cursor->delivered[entry.task];
    if (entry.sequence <= delivered) continue;
    delivered = entry.sequence;
    read.push_back(entry.change);
    read.back().set_resume_token(EncodeToken(cursor->delivered));
  }
  return read;
}

int AlertsView::Subscribe(std::function<void()> notify) {
  MutexLock lock(&watchers_mutex_);
  watchers_[next_watcher_] = std::move(notify);
  return next_watcher_++;
}

void AlertsView::Unsubscribe(int id) {
  MutexLock lock(&watchers_mutex_);
  watchers_.erase(id);
}

size_t AlertsView::alerts_count() const {
  MutexLock lock(&mutex_);
  return alerts_.size();
}

uint64_t AlertsView::changes_total() const {
  MutexLock lock(&mutex_);
  return first_position_ + changes_.size();
}

std::string AlertsView::OpenAlertId(const std::string& fingerprint) const {
  MutexLock lock(&mutex_);
  auto it = open_by_fingerprint_.find(fingerprint);
  return it == open_by_fingerprint_.end() ? std::string() : it->second;
}

}  // namespace kam::alerts
