#include "services/alerts/alert_listing.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/time_util.h"

namespace kam::alerts {

using kam::v1::Alert;

absl::Status CheckListRequest(const kam::v1::ListAlertsRequest& request) {
  KAM_RETURN_IF_ERROR(ResolvePageSize(request.page_size()).status());
  if (!kam::v1::AlertState_IsValid(request.state())) {
    return absl::InvalidArgumentError("state: unknown value");
  }
  if (!kam::v1::AlertRule_IsValid(request.rule())) {
    return absl::InvalidArgumentError("rule: unknown value");
  }
  if (!kam::v1::Severity_IsValid(request.min_severity())) {
    return absl::InvalidArgumentError("min_severity: unknown value");
  }
  return absl::OkStatus();
}

bool Matches(const kam::v1::ListAlertsRequest& request, const Alert& alert) {
  return (request.state() == 0 || alert.state() == request.state()) &&
         (request.rule() == 0 || alert.rule() == request.rule()) &&
         alert.severity() >= request.min_severity() &&
         (request.account_id().empty() || alert.account_id() == request.account_id()) &&
         (request.manager_id().empty() || alert.manager_id() == request.manager_id()) &&
         (request.group_alert_id().empty() || alert.group_alert_id() == request.group_alert_id());
}

absl::StatusOr<kam::v1::ListAlertsResponse> PageOf(std::vector<Alert> matching,
                                                   const kam::v1::ListAlertsRequest& request,
                                                   const PageTokens& tokens) {
  KAM_RETURN_IF_ERROR(CheckListRequest(request));
  KAM_ASSIGN_OR_RETURN(int page_size, ResolvePageSize(request.page_size()));
  const std::string filter =
      absl::StrCat("alerts|", request.state(), "|", request.rule(), "|", request.min_severity(),
                   "|", request.account_id(), "|", request.manager_id(),
                   // Added later: tokens issued without it stay valid.
                   request.group_alert_id().empty() ? "" : "|g=", request.group_alert_id());
  std::string after;
  if (!request.page_token().empty()) {
    KAM_ASSIGN_OR_RETURN(after, tokens.Parse(request.page_token(), filter));
  }
  // Newest first; the position (start time, id) keeps pages stable while alerts come and go.
  auto position = [](const Alert& alert) {
    return EncodeUint64(~static_cast<uint64_t>(MillisFromTimestamp(alert.start_time()))) +
           alert.id();
  };
  std::sort(matching.begin(), matching.end(),
            [&](const Alert& a, const Alert& b) { return position(a) < position(b); });
  kam::v1::ListAlertsResponse response;
  for (auto& alert : matching) {
    if (!after.empty() && position(alert) <= after) continue;
    if (response.alerts_size() == page_size) {
      response.set_next_page_token(tokens.Issue(filter, position(*response.alerts().rbegin())));
      break;
    }
    *response.add_alerts() = std::move(alert);
  }
  return response;
}

}  // namespace kam::alerts
