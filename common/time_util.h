#pragma once

#include <cstdint>

#include "google/protobuf/timestamp.pb.h"

namespace kam {

google::protobuf::Timestamp NowTimestamp();
google::protobuf::Timestamp TimestampFromMillis(int64_t millis);
int64_t MillisFromTimestamp(const google::protobuf::Timestamp& timestamp);

}  // namespace kam
