// The alert writes at kam-alerts' boundary: any AcknowledgeAlert or SnoozeAlert request a client
// can send is answered with OK or INVALID_ARGUMENT before it becomes a command, never a crash.

#include <cstdint>
#include <cstdlib>

#include "fuzz/fuzz_checks.h"
#include "kam/v1/alerts.pb.h"
#include "services/alerts/alert_commands.h"

using kam::fuzz::RequireOkOrInvalid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int length = static_cast<int>(size - 1);
  if (data[0] % 2 == 0) {
    kam::v1::AcknowledgeAlertRequest request;
    if (!request.ParseFromArray(data + 1, length)) return 0;
    RequireOkOrInvalid(kam::alerts::CheckAcknowledgeRequest(request));
  } else {
    kam::v1::SnoozeAlertRequest request;
    if (!request.ParseFromArray(data + 1, length)) return 0;
    RequireOkOrInvalid(kam::alerts::CheckSnoozeRequest(request, 1800000000000));
  }
  return 0;
}
