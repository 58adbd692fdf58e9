// What a program reads from a kam error: the google.rpc.Status that goes into
// grpc-status-details-bin, with a stable ErrorInfo reason on every error, each bad field of a
// request named in one BadRequest, and the precondition, resource and retry details.

#include "common/error_details.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/field_checks.h"

namespace kam::errors {
namespace {

template <typename Detail>
std::vector<Detail> Details(const google::rpc::Status& rpc) {
  std::vector<Detail> found;
  for (const auto& any : rpc.details()) {
    Detail detail;
    if (any.UnpackTo(&detail)) found.push_back(detail);
  }
  return found;
}

google::rpc::ErrorInfo Info(const absl::Status& status) {
  auto infos = Details<google::rpc::ErrorInfo>(ToRpcStatus(status));
  EXPECT_EQ(infos.size(), 1u) << "exactly one ErrorInfo";
  return infos.empty() ? google::rpc::ErrorInfo() : infos[0];
}

TEST(ErrorDetailsTest, AnInvalidFieldNamesTheFieldForPeopleAndPrograms) {
  const absl::Status status =
      kam::InvalidField("account.annual_revenue.amount_minor", "must be >= 0, got -1");
  const google::rpc::Status rpc = ToRpcStatus(status);
  EXPECT_EQ(rpc.code(), 3);
  EXPECT_EQ(rpc.message(), "account.annual_revenue.amount_minor: must be >= 0, got -1");
  EXPECT_EQ(Info(status).reason(), "INVALID_FIELD");
  EXPECT_EQ(Info(status).domain(), "kam.v1");
  auto requests = Details<google::rpc::BadRequest>(rpc);
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_EQ(requests[0].field_violations_size(), 1);
  EXPECT_EQ(requests[0].field_violations(0).field(), "account.annual_revenue.amount_minor");
  EXPECT_EQ(requests[0].field_violations(0).description(), "must be >= 0, got -1");
}

TEST(ErrorDetailsTest, EveryBadFieldIsListedNotOnlyTheFirst) {
  FieldViolations violations;
  EXPECT_TRUE(violations.Add(absl::OkStatus()));
  EXPECT_TRUE(violations.empty());
  EXPECT_FALSE(violations.Add(kam::InvalidField("account.name", "required; must not be empty")));
  EXPECT_FALSE(violations.Add(kam::InvalidField("account.regions[1]", "\"XX\" is not a country")));
  const absl::Status status = violations.status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "account.name: required; must not be empty; account.regions[1]: \"XX\" is not a "
            "country");
  auto requests = Details<google::rpc::BadRequest>(ToRpcStatus(status));
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_EQ(requests[0].field_violations_size(), 2);
  EXPECT_EQ(requests[0].field_violations(0).field(), "account.name");
  EXPECT_EQ(requests[0].field_violations(1).field(), "account.regions[1]");
  EXPECT_EQ(Info(status).reason(), "INVALID_FIELD");
}

TEST(ErrorDetailsTest, ThousandsOfBadFieldsStillFitInATrailer) {
  FieldViolations violations;
  for (int i = 0; i < 3000; ++i) {
    violations.Add(kam::InvalidField(absl::StrCat("account.regions[", i, "]"),
                                     std::string(10000, 'x') + " is not a country"));
  }
  violations.Add(absl::InvalidArgumentError("page_size: must be >= 0, got -1"));
  const absl::Status status = violations.status();
  const google::rpc::Status rpc = ToRpcStatus(status);
  EXPECT_LT(rpc.ByteSizeLong(), 6000u) << "below the 8 KiB clients accept in a trailer";
  auto requests = Details<google::rpc::BadRequest>(rpc);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].field_violations_size(), 20);
  EXPECT_EQ(Info(status).metadata().at("violations"), "3001");
  EXPECT_NE(status.message().find("; and 2998 more"), std::string::npos) << status.message();
  EXPECT_EQ(status.message().rfind("account.regions[0]: xxx", 0), 0u);
}

TEST(ErrorDetailsTest, AnUndetailedInvalidArgumentAmongViolationsKeepsItsField) {
  FieldViolations violations;
  violations.Add(absl::InvalidArgumentError("page_size: must be >= 0, got -1"));
  auto requests = Details<google::rpc::BadRequest>(ToRpcStatus(violations.status()));
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].field_violations(0).field(), "page_size");
  EXPECT_EQ(violations.status().message(), "page_size: must be >= 0, got -1");
}

TEST(ErrorDetailsTest, AStorageErrorAmongViolationsIsNotMistakenForBadInput) {
  FieldViolations violations;
  violations.Add(kam::InvalidField("account.name", "required; must not be empty"));
  violations.Add(absl::DataLossError("store: corrupt block"));
  EXPECT_EQ(violations.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Info(violations.status()).reason(), "DATA_LOSS");
}

TEST(ErrorDetailsTest, NotFoundNamesTheResource) {
  const absl::Status status = NotFound("AccountManager", "m-42", "manager \"m-42\" not found");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Info(status).reason(), "ACCOUNT_MANAGER_NOT_FOUND");
  auto resources = Details<google::rpc::ResourceInfo>(ToRpcStatus(status));
  ASSERT_EQ(resources.size(), 1u);
  EXPECT_EQ(resources[0].resource_type(), "kam.v1.AccountManager");
  EXPECT_EQ(resources[0].resource_name(), "m-42");
}

TEST(ErrorDetailsTest, AStaleEtagIsAPreconditionFailureOfTypeEtag) {
  const absl::Status status = EtagMismatch("accounts/a-1", "etag: account changed since read");
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Info(status).reason(), "ETAG_MISMATCH");
  auto failures = Details<google::rpc::PreconditionFailure>(ToRpcStatus(status));
  ASSERT_EQ(failures.size(), 1u);
  ASSERT_EQ(failures[0].violations_size(), 1);
  EXPECT_EQ(failures[0].violations(0).type(), "ETAG");
  EXPECT_EQ(failures[0].violations(0).subject(), "accounts/a-1");

  const absl::Status closed =
      FailedPrecondition("ACCOUNT_CLOSED", "ACCOUNT_STATE", "accounts/a-1", "account is closed");
  EXPECT_EQ(closed.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Info(closed).reason(), "ACCOUNT_CLOSED");
}

TEST(ErrorDetailsTest, UnavailableTellsTheCallerWhenToRetry) {
  auto retries = Details<google::rpc::RetryInfo>(ToRpcStatus(absl::UnavailableError("moving")));
  ASSERT_EQ(retries.size(), 1u);
  EXPECT_EQ(retries[0].retry_delay().seconds(), 1);
  auto slower = Details<google::rpc::RetryInfo>(
      ToRpcStatus(WithRetryDelay(absl::ResourceExhaustedError("busy"), absl::Milliseconds(2500))));
  ASSERT_EQ(slower.size(), 1u) << "an attached delay replaces the default";
  EXPECT_EQ(slower[0].retry_delay().seconds(), 2);
  EXPECT_EQ(slower[0].retry_delay().nanos(), 500000000);
  EXPECT_TRUE(Details<google::rpc::RetryInfo>(ToRpcStatus(absl::InternalError("x"))).empty());
}

TEST(ErrorDetailsTest, AnInvalidArgumentMadeWithoutInvalidFieldStillNamesItsField) {
  const google::rpc::Status rpc =
      ToRpcStatus(absl::InvalidArgumentError("page_size: must be >= 0, got -1"));
  auto requests = Details<google::rpc::BadRequest>(rpc);
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_EQ(requests[0].field_violations_size(), 1);
  EXPECT_EQ(requests[0].field_violations(0).field(), "page_size");
  EXPECT_EQ(requests[0].field_violations(0).description(), "must be >= 0, got -1");
  EXPECT_EQ(Details<google::rpc::ErrorInfo>(rpc)[0].reason(), "INVALID_FIELD");
  // Prose before the colon is not a field.
  EXPECT_TRUE(Details<google::rpc::BadRequest>(
                  ToRpcStatus(absl::InvalidArgumentError("Bad thing: happened")))
                  .empty());
}

TEST(ErrorDetailsTest, DetailsSurviveATripThroughAnotherInstance) {
  const absl::Status original = EtagMismatch("alerts/al-1", "etag: the alert changed");
  const google::rpc::Status sent = ToRpcStatus(original);
  google::rpc::Status stored;
  ASSERT_TRUE(stored.ParseFromString(sent.SerializeAsString()));
  const absl::Status again = FromRpcStatus(stored);
  EXPECT_EQ(again.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(again.message(), "etag: the alert changed");
  EXPECT_EQ(ToRpcStatus(again).SerializeAsString(), sent.SerializeAsString());
  EXPECT_EQ(ReasonOf(again), "ETAG_MISMATCH");
}

TEST(ErrorDetailsTest, AnErrorWithoutDetailsStillCarriesItsCodeAsReason) {
  const absl::Status status = absl::AlreadyExistsError("request_id reused");
  EXPECT_EQ(Info(status).reason(), "ALREADY_EXISTS");
  EXPECT_EQ(ToRpcStatus(absl::OkStatus()).details_size(), 0);
}

}  // namespace
}  // namespace kam::errors
