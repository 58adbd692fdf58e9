// Every alert change kam-alerts can hold renders as a CloudEvent that is valid JSON with the
// required attributes: operations teams' consumers parse it, and one bad event would stop them.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "kam/v1/alerts.pb.h"
#include "nlohmann/json.hpp"
#include "services/alerts/cloud_event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kam::v1::AlertChange change;
  if (!change.ParseFromArray(data, static_cast<int>(size))) return 0;
  const std::string event = kam::alerts::RenderCloudEvent(change, 7, 42, "");
  const nlohmann::json json = nlohmann::json::parse(event, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) std::abort();
  for (const char* attribute : {"specversion", "id", "source", "type"}) {
    if (!json.contains(attribute) || !json[attribute].is_string()) std::abort();
  }
  return 0;
}
