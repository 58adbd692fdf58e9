// Roles from bearer tokens: the auth file's format and its errors, what each role may call, and
// that every RPC of every kam service has a role (a new RPC without one is closed to all).

#include "common/access_policy.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/ascii.h"
#include "kam/v1/accounts.pb.h"
#include "kam/v1/alerts.pb.h"
#include "kam/v1/interactions.pb.h"
#include "kam/v1/kpis.pb.h"

namespace kam::auth {
namespace {

const std::string kWriterToken = "writer-token-0123456789";
const std::string kReaderToken = "reader-token-0123456789";

TokenTable Table() {
  auto table = TokenTable::Parse("# callers\n" + Sha256Hex(kWriterToken) +
                                 "  crm-platform  writer,reader\n\n" + Sha256Hex(kReaderToken) +
                                 "\tdashboard\treader\n");
  EXPECT_TRUE(table.ok()) << table.status();
  return *std::move(table);
}

TEST(AccessPolicyTest, Sha256HexMatchesTheCommandLineTools) {
  // printf %s abc | sha256sum
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AccessPolicyTest, AKnownTokenWithTheMethodsRoleIsAllowed) {
  TokenTable table = Table();
  Decision d = Decide(table, "/kam.v1.AccountsService/CreateAccount", "Bearer " + kWriterToken);
  EXPECT_EQ(d.verdict, Verdict::kAllowed);
  EXPECT_EQ(d.caller, "crm-platform");
  EXPECT_EQ(
      Decide(table, "/kam.v1.AccountsService/ListAccounts", "bearer  " + kReaderToken).verdict,
      Verdict::kAllowed)
      << "the scheme is case-insensitive";
}

TEST(AccessPolicyTest, AKnownCallerWithoutTheRoleIsDeniedAndToldWhichRoleIsMissing) {
  TokenTable table = Table();
  Decision d = Decide(table, "/kam.v1.AccountsService/CreateAccount", "Bearer " + kReaderToken);
  EXPECT_EQ(d.verdict, Verdict::kPermissionDenied);
  EXPECT_EQ(d.caller, "dashboard");
  EXPECT_EQ(d.message,
            "caller dashboard has the roles reader; /kam.v1.AccountsService/CreateAccount needs "
            "the role writer");
  EXPECT_EQ(
      Decide(table, "/kam.v1.AlertsService/AcknowledgeAlert", "Bearer " + kWriterToken).verdict,
      Verdict::kPermissionDenied)
      << "roles do not imply each other";
  EXPECT_EQ(
      Decide(table, "/kam.v1.AccountsService/UpdateManager", "Bearer " + kWriterToken).verdict,
      Verdict::kPermissionDenied)
      << "a manager's capacity and deactivation are admin";
}

TEST(AccessPolicyTest, NoMalformedOrUnknownTokenIsUnauthenticatedAndNeverEchoed) {
  TokenTable table = Table();
  const std::string method = "/kam.v1.AccountsService/GetAccount";
  EXPECT_EQ(Decide(table, method, std::nullopt).verdict, Verdict::kUnauthenticated);
  EXPECT_EQ(Decide(table, method, "Basic dXNlcjpwYXNz").verdict, Verdict::kUnauthenticated);
  EXPECT_EQ(Decide(table, method, "Bearer ").verdict, Verdict::kUnauthenticated);
  Decision unknown = Decide(table, method, "Bearer guessed-token-42");
  EXPECT_EQ(unknown.verdict, Verdict::kUnauthenticated);
  EXPECT_EQ(unknown.message.find("guessed-token-42"), std::string::npos) << unknown.message;
  EXPECT_EQ(Decide(table, method, "Bearer " + Sha256Hex(kWriterToken)).verdict,
            Verdict::kUnauthenticated)
      << "the hash from the file is not a token";
}

TEST(AccessPolicyTest, HealthAndReflectionAreOpenAndUnknownMethodsAreClosed) {
  TokenTable table = Table();
  EXPECT_EQ(Decide(table, "/grpc.health.v1.Health/Check", std::nullopt).verdict, Verdict::kAllowed);
  EXPECT_EQ(
      Decide(table, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", std::nullopt)
          .verdict,
      Verdict::kAllowed);
  EXPECT_EQ(
      Decide(table, "/kam.v1.AccountsService/DropEverything", "Bearer " + kWriterToken).verdict,
      Verdict::kPermissionDenied);
  EXPECT_EQ(Decide(table, "", "Bearer " + kWriterToken).verdict, Verdict::kPermissionDenied);
}

TEST(AccessPolicyTest, EveryRpcOfEveryKamServiceHasARole) {
  // Linking the messages registers their files' descriptors.
  (void)kam::v1::Account::descriptor();
  (void)kam::v1::Alert::descriptor();
  (void)kam::v1::Interaction::descriptor();
  (void)kam::v1::GetKpisRequest::descriptor();
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  int methods = 0;
  for (const char* name : {"kam.v1.AccountsService", "kam.v1.InteractionsService",
                           "kam.v1.AlertsService", "kam.v1.KpiService"}) {
    const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string path = "/" + std::string(name) + "/" + service->method(i)->name();
      EXPECT_TRUE(IsKamMethod(path)) << path << " has no role in common/access_policy.cc";
      EXPECT_FALSE(RequirementOf(path).open) << path;
      ++methods;
    }
  }
  EXPECT_EQ(methods, 29);
}

TEST(AccessPolicyTest, TheAuthFileIsCheckedLineByLine) {
  const std::string hash = Sha256Hex("t");
  auto error = [](const std::string& text) {
    auto table = TokenTable::Parse(text);
    return table.ok() ? std::string("ok") : std::string(table.status().message());
  };
  EXPECT_EQ(error("# none\n"), "ok");
  EXPECT_EQ(error("\n" + hash + " crm\n"),
            "auth file line 2: expected \"<sha256 hex> <caller name> <role>[,<role>...]\"");
  EXPECT_EQ(error("abc crm writer\n"),
            "auth file line 1: the token hash must be 64 hex digits (printf %s \"$TOKEN\" | "
            "sha256sum)");
  EXPECT_EQ(error(hash + " crm writer,owner\n"),
            "auth file line 1: unknown role \"owner\" (writer, reader, acknowledger or admin)");
  EXPECT_EQ(error(hash + " crm writer\n" + hash + " other reader\n"),
            "auth file line 2: this token hash is already listed on an earlier line");
  EXPECT_EQ(error(hash + " cr/m writer\n"),
            "auth file line 1: the caller name must be 1-128 letters, digits, '-', '_', '.' or "
            "'@'");
  auto upper = TokenTable::Parse(absl::AsciiStrToUpper(hash) + " crm admin");
  ASSERT_TRUE(upper.ok());
  ASSERT_NE(upper->Find("t"), nullptr) << "uppercase hex is the same hash";
  EXPECT_EQ(RoleNames(upper->Find("t")->roles), "admin");
}

}  // namespace
}  // namespace kam::auth
