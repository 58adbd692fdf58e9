#include "services/interactions/interaction_validation.h"

#include "absl/strings/str_cat.h"
#include "common/error_details.h"
#include "common/field_checks.h"
#include "common/time_util.h"

namespace kam::interactions {
namespace {

void ValidateSurvey(const kam::v1::Interaction& in, errors::FieldViolations* violations) {
  const bool survey = in.type() == kam::v1::INTERACTION_TYPE_SURVEY;
  if (!survey) {
    if (in.has_survey()) {
      violations->Add(
          InvalidField("interaction.survey", "only SURVEY interactions carry a survey"));
    }
    return;
  }
  if (!in.has_survey() || in.survey().score_case() == kam::v1::Survey::SCORE_NOT_SET) {
    violations->Add(
        InvalidField("interaction.survey", "a SURVEY needs a score (nps 0..10 or csat 1..5)"));
    return;
  }
  if (in.survey().has_nps() && (in.survey().nps() < 0 || in.survey().nps() > 10)) {
    violations->Add(InvalidField("interaction.survey.nps",
                                 absl::StrCat("must be 0..10, got ", in.survey().nps())));
  }
  if (in.survey().has_csat() && (in.survey().csat() < 1 || in.survey().csat() > 5)) {
    violations->Add(InvalidField("interaction.survey.csat",
                                 absl::StrCat("must be 1..5, got ", in.survey().csat())));
  }
  violations->Add(
      ValidateText(in.survey().comment(), "interaction.survey.comment", kMaxCommentChars, false));
}

}  // namespace

absl::Status ValidateInteraction(const kam::v1::Interaction& in, int64_t now_millis,
                                 const InteractionLimits& limits) {
  errors::FieldViolations violations;
  violations.Add(ValidateText(in.id(), "interaction.id", kMaxIdChars, false));
  if (in.account_id().empty()) {
    violations.Add(InvalidField("interaction.account_id", "required"));
  } else {
    violations.Add(ValidateText(in.account_id(), "interaction.account_id", kMaxIdChars, true));
  }
  violations.Add(
      ValidateEnumValue(in.type(), kam::v1::InteractionType_IsValid, "interaction.type", true));
  violations.Add(
      ValidateEnumValue(in.channel(), kam::v1::Channel_IsValid, "interaction.channel", false));
  violations.Add(ValidateText(in.manager_id(), "interaction.manager_id", kMaxIdChars, false));
  violations.Add(ValidateText(in.contact_name(), "interaction.contact_name", kMaxTextChars, false));
  violations.Add(
      ValidateText(in.source_system(), "interaction.source_system", kMaxTextChars, false));
  if (in.note().size() > limits.max_note_bytes) {
    violations.Add(InvalidField(
        "interaction.note",
        absl::StrCat("at most ", limits.max_note_bytes, " bytes, got ", in.note().size())));
  } else {
    violations.Add(ValidateText(in.note(), "interaction.note", limits.max_note_bytes, false));
  }
  if (in.has_amount()) violations.Add(ValidateMoney(in.amount(), "interaction.amount"));
  if (in.has_occur_time() &&
      violations.Add(ValidateTimestamp(in.occur_time(), "interaction.occur_time"))) {
    const int64_t ahead = MillisFromTimestamp(in.occur_time()) - now_millis;
    if (ahead > limits.max_future_skew_millis) {
      violations.Add(
          InvalidField("interaction.occur_time",
                       absl::StrCat("lies ", ahead / 1000, " s in the future; at most ",
                                    limits.max_future_skew_millis / 1000, " s allowed")));
    }
  }
  ValidateSurvey(in, &violations);
  const bool resolves = in.type() == kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED;
  if (resolves && in.resolves_interaction_id().empty()) {
    violations.Add(InvalidField("interaction.resolves_interaction_id",
                                "required: name the complaint or support request this resolves"));
  }
  if (!resolves && !in.resolves_interaction_id().empty()) {
    violations.Add(InvalidField("interaction.resolves_interaction_id",
                                "only REQUEST_RESOLVED interactions resolve a request"));
  }
  return violations.status();
}

}  // namespace kam::interactions
