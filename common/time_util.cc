#include "common/time_util.h"

#include <chrono>

namespace kam {

google::protobuf::Timestamp NowTimestamp() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  google::protobuf::Timestamp ts;
  ts.set_seconds(micros / 1000000);
  ts.set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
  return ts;
}

google::protobuf::Timestamp TimestampFromMillis(int64_t millis) {
  google::protobuf::Timestamp ts;
  int64_t seconds = millis / 1000;
  int64_t rest = millis % 1000;
  if (rest < 0) {
    rest += 1000;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(rest * 1000000));
  return ts;
}

int64_t MillisFromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return timestamp.seconds() * 1000 + timestamp.nanos() / 1000000;
}

}  // namespace kam
