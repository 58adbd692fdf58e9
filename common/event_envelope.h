#pragma once

// Builds the outbox event for an EventEnvelope whose payload is set: fills the event id, the type
// (the payload message's full name), source, subject and time, in one place for every service.

#include <optional>
#include <string>

#include "common/outbox.h"
#include "google/protobuf/timestamp.pb.h"
#include "kam/v1/events.pb.h"

namespace kam {

// `subject` defaults to `key`, `time` to now.
OutboundEvent EnvelopeEvent(std::string topic, std::string key, const std::string& source,
                            kam::v1::EventEnvelope envelope, std::string subject = "",
                            std::optional<google::protobuf::Timestamp> time = std::nullopt);

// The account an account event (created, updated, closed, assigned) carries; null for any other
// payload.
const kam::v1::Account* AccountOf(const kam::v1::EventEnvelope& envelope);

}  // namespace kam
