#include "common/event_envelope.h"

#include "common/ids.h"
#include "common/time_util.h"
#include "common/trace_context.h"

namespace kam {

OutboundEvent EnvelopeEvent(std::string topic, std::string key, const std::string& source,
                            kam::v1::EventEnvelope envelope, std::string subject,
                            std::optional<google::protobuf::Timestamp> time) {
  envelope.set_event_id(NewUuid());
  envelope.set_source(source);
  envelope.set_subject(subject.empty() ? key : std::move(subject));
  *envelope.mutable_time() = time ? *time : NowTimestamp();
  const auto* payload = envelope.GetReflection()->GetOneofFieldDescriptor(
      envelope, envelope.GetDescriptor()->FindOneofByName("payload"));
  if (payload != nullptr) envelope.set_type(payload->message_type()->full_name());
  OutboundEvent event;
  event.topic = std::move(topic);
  event.key = std::move(key);
  event.event_id = envelope.event_id();
  event.traceparent = trace::CurrentTraceparent();
  event.envelope = std::move(envelope);
  return event;
}

const kam::v1::Account* AccountOf(const kam::v1::EventEnvelope& envelope) {
  switch (envelope.payload_case()) {
    case kam::v1::EventEnvelope::kAccountCreated:
      return &envelope.account_created().account();
    case kam::v1::EventEnvelope::kAccountUpdated:
      return &envelope.account_updated().account();
    case kam::v1::EventEnvelope::kAccountClosed:
      return &envelope.account_closed().account();
    case kam::v1::EventEnvelope::kAccountAssigned:
      return &envelope.account_assigned().account();
    default:
      return nullptr;
  }
}

}  // namespace kam
