#pragma once

// What kinds of interaction mean, in one place for every service: which are company touchpoints,
// which open a request, and how a survey answer maps onto one 0..100 satisfaction scale.

#include "kam/v1/interactions.pb.h"

namespace kam {

// Complaints and support requests are open until a REQUEST_RESOLVED names them.
inline bool IsRequest(kam::v1::InteractionType type) {
  return type == kam::v1::INTERACTION_TYPE_COMPLAINT ||
         type == kam::v1::INTERACTION_TYPE_SUPPORT_REQUEST;
}

// An interaction in which the company reached the customer (meetings, calls, mails, reviews,
// follow-ups, deals, renewals, answers to requests). Complaints, surveys and churn notices come
// from the customer and do not count as contact.
inline bool IsContact(kam::v1::InteractionType type) {
  switch (type) {
    case kam::v1::INTERACTION_TYPE_MEETING:
    case kam::v1::INTERACTION_TYPE_CALL:
    case kam::v1::INTERACTION_TYPE_EMAIL:
    case kam::v1::INTERACTION_TYPE_ANNUAL_REVIEW:
    case kam::v1::INTERACTION_TYPE_FOLLOW_UP:
    case kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED:
    case kam::v1::INTERACTION_TYPE_UPSELL:
    case kam::v1::INTERACTION_TYPE_CROSS_SELL:
    case kam::v1::INTERACTION_TYPE_RENEWAL:
      return true;
    default:
      return false;
  }
}

// 0..100: NPS x 10, CSAT (x-1) x 25.
inline double NormalisedScore(const kam::v1::Survey& survey) {
  if (survey.has_nps()) return survey.nps() * 10.0;
  if (survey.has_csat()) return (survey.csat() - 1) * 25.0;
  return 0;
}

// NPS 0..6 or CSAT 1..2.
inline bool IsDetractor(const kam::v1::Survey& survey) {
  return survey.has_nps() ? survey.nps() <= 6 : survey.has_csat() && survey.csat() <= 2;
}

}  // namespace kam
