#include "services/accounts/validation.h"

#include <gtest/gtest.h>

namespace kam::accounts {
namespace {

using kam::v1::Account;

Account Valid() {
  Account account;
  account.set_name("Acme Group");
  account.set_industry(kam::v1::INDUSTRY_TRADITIONAL_B2B);
  account.add_regions("DE");
  account.mutable_annual_revenue()->set_amount_minor(100);
  account.mutable_annual_revenue()->set_currency("EUR");
  return account;
}

// The error for `account`, expected INVALID_ARGUMENT and naming `field`.
void ExpectRejected(const Account& account, const std::string& field) {
  absl::Status status = ValidateAccountFields(account, "account", AccountsPolicy());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(status.message().rfind(field + ":", 0), 0u) << status.message();
}

TEST(AccountValidationTest, AcceptsAValidAccount) {
  EXPECT_TRUE(ValidateAccountFields(Valid(), "account", AccountsPolicy()).ok());
}

TEST(AccountValidationTest, NamesTheFieldOfEveryBadValue) {
  Account a = Valid();
  a.set_name("");
  ExpectRejected(a, "account.name");
  a.set_name("   ");
  ExpectRejected(a, "account.name");
  a.set_name(std::string(201, 'x'));
  ExpectRejected(a, "account.name");
  a.set_name("bad\x01name");
  ExpectRejected(a, "account.name");
  a.set_name("\xff\xfe");
  ExpectRejected(a, "account.name");

  a = Valid();
  a.set_industry(static_cast<kam::v1::Industry>(99));
  ExpectRejected(a, "account.industry");
  a.set_industry(kam::v1::INDUSTRY_UNSPECIFIED);
  ExpectRejected(a, "account.industry");

  a = Valid();
  a.mutable_annual_revenue()->set_amount_minor(-1);
  ExpectRejected(a, "account.annual_revenue.amount_minor");
  a = Valid();
  a.mutable_annual_revenue()->set_currency("EURO");
  ExpectRejected(a, "account.annual_revenue.currency");
  a.mutable_annual_revenue()->set_currency("XYZ");
  ExpectRejected(a, "account.annual_revenue.currency");
  a.mutable_annual_revenue()->set_currency("eur");
  ExpectRejected(a, "account.annual_revenue.currency");
  a.mutable_annual_revenue()->set_currency("KWD");  // real ISO code, but no configured rate
  ExpectRejected(a, "account.annual_revenue.currency");
  a = Valid();
  a.clear_annual_revenue();
  ExpectRejected(a, "account.annual_revenue");

  a = Valid();
  a.add_regions("XX");
  ExpectRejected(a, "account.regions[1]");
  a = Valid();
  a.add_regions("DE");
  ExpectRejected(a, "account.regions[1]");

  a = Valid();
  a.set_lifecycle_phase(static_cast<kam::v1::LifecyclePhase>(42));
  ExpectRejected(a, "account.lifecycle_phase");
  a.set_lifecycle_phase(kam::v1::LIFECYCLE_PHASE_CHURNED);
  ExpectRejected(a, "account.lifecycle_phase");
  a = Valid();
  a.set_complexity(static_cast<kam::v1::Complexity>(-3));
  ExpectRejected(a, "account.complexity");
  a = Valid();
  a.set_growth_potential(static_cast<kam::v1::GrowthPotential>(7));
  ExpectRejected(a, "account.growth_potential");

  a = Valid();
  a.add_contacts()->set_name("Ann");
  auto* bad = a.add_contacts();
  bad->set_name("Bob");
  bad->set_email("not-an-address");
  ExpectRejected(a, "account.contacts[1].email");
  a = Valid();
  a.add_contacts()->set_role("CFO");
  ExpectRejected(a, "account.contacts[0].name");
}

TEST(ManagerValidationTest, NamesTheFieldOfEveryBadValue) {
  kam::v1::Manager m;
  m.set_name("Jane");
  m.set_email("jane@example.com");
  EXPECT_TRUE(ValidateManagerFields(m, "manager").ok());
  auto rejected = [](const kam::v1::Manager& manager, const std::string& field) {
    absl::Status status = ValidateManagerFields(manager, "manager");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message().rfind(field + ":", 0), 0u) << status.message();
  };
  kam::v1::Manager x = m;
  x.set_email("jane@");
  rejected(x, "manager.email");
  x.set_email("");
  rejected(x, "manager.email");
  x = m;
  x.set_capacity(-1);
  rejected(x, "manager.capacity");
  x = m;
  x.set_industry_focus(static_cast<kam::v1::Industry>(12));
  rejected(x, "manager.industry_focus");
  x = m;
  x.set_name(std::string(300, 'n'));
  rejected(x, "manager.name");
}

TEST(MaskTest, UnknownAndReadOnlyPathsAreRefused) {
  google::protobuf::FieldMask mask;
  mask.add_paths("tier");
  auto resolved = ResolveAccountMask(mask, Valid());
  EXPECT_EQ(resolved.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(resolved.status().message().find("update_mask"), std::string::npos);
  mask.Clear();
  mask.add_paths("*");
  EXPECT_EQ(ResolveAccountMask(mask, Valid())->size(), 11u);
  mask.Clear();
  auto implied = ResolveAccountMask(mask, Valid());
  ASSERT_TRUE(implied.ok());
  EXPECT_EQ(*implied, (std::vector<std::string>{"name", "industry", "regions", "annual_revenue"}));
}

}  // namespace
}  // namespace kam::accounts
