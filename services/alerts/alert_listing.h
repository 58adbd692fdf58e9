#pragma once

// ListAlerts' rules, shared by every place that answers it: which requests are valid, which
// alerts match, and how a page is cut (newest first, stable while alerts come and go).

#include <vector>

#include "common/page_token.h"
#include "common/status.h"
#include "kam/v1/alerts.pb.h"

namespace kam::alerts {

// INVALID_ARGUMENT naming the field when an enum filter holds an unknown value.
absl::Status CheckListRequest(const kam::v1::ListAlertsRequest& request);

// Whether `alert` passes every filter of `request`.
bool Matches(const kam::v1::ListAlertsRequest& request, const kam::v1::Alert& alert);

// The page of `matching` (alerts that passed Matches, any order) that `request` asks for.
absl::StatusOr<kam::v1::ListAlertsResponse> PageOf(std::vector<kam::v1::Alert> matching,
                                                   const kam::v1::ListAlertsRequest& request,
                                                   const PageTokens& tokens);

}  // namespace kam::alerts
