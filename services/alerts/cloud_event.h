#pragma once

// The JSON CloudEvent (CloudEvents 1.0, structured content mode) that carries one alert state
// change on kam.alerts.v1. Schema: docs/ALERTS.md.

#include <string>

#include "kam/v1/alerts.pb.h"

namespace kam::alerts {

// "dev.kam.alert.fired", ".severity_changed", ".acknowledged", ".resolved".
std::string CloudEventType(kam::v1::AlertChangeKind kind);
// The CloudEvent id of the change that left `alert` as it is: "<alert id>/<etag>".
std::string CloudEventId(const kam::v1::Alert& alert);

// `task` and `sequence`: the change's place in its task's change log (extension attributes
// kamtask and kamsequence: a consumer orders one task's changes by them). A non-empty
// `traceparent` is the distributed tracing extension's attribute: the trace of the interaction
// (or call) that caused the change.
std::string RenderCloudEvent(const kam::v1::AlertChange& change, int32_t task, uint64_t sequence,
                             const std::string& traceparent = "");

}  // namespace kam::alerts
