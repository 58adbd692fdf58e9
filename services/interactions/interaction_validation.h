#pragma once

// The boundary checks of an interaction as a platform sends it (RecordInteraction and each item
// of BatchRecordInteractions): every bad field is named, not only the first (one BadRequest,
// common/error_details.h). Checks that need the stored state (the account, the request a
// resolution names) are the book's.

#include <cstddef>
#include <cstdint>

#include "common/status.h"
#include "kam/v1/interactions.pb.h"

namespace kam::interactions {

inline constexpr size_t kMaxIdChars = 128;
inline constexpr size_t kMaxTextChars = 200;
inline constexpr size_t kMaxCommentChars = 1000;

struct InteractionLimits {
  int64_t max_future_skew_millis;  // event times further ahead of the server clock are refused
  size_t max_note_bytes;
};

// OK, or INVALID_ARGUMENT listing every bad field of `interaction` (judged at `now_millis`).
absl::Status ValidateInteraction(const kam::v1::Interaction& interaction, int64_t now_millis,
                                 const InteractionLimits& limits);

}  // namespace kam::interactions
