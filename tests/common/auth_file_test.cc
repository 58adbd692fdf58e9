// The --auth-file is re-read when it changes: a token added works and a token removed stops
// working without a restart, and a change that does not parse leaves the tokens in force.

#include "common/auth_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "common/metrics.h"
#include "tests/testing/temp_dir.h"

namespace kam::auth {
namespace {

void WriteFile(const std::string& path, const std::string& text) {
  // Written beside and renamed over, as Kubernetes swaps a Secret: a reader never sees half.
  const std::string next = path + ".next";
  std::ofstream(next) << text;
  ASSERT_EQ(std::rename(next.c_str(), path.c_str()), 0);
}

std::string Line(const std::string& token, const std::string& caller, const std::string& roles) {
  return Sha256Hex(token) + " " + caller + " " + roles + "\n";
}

TEST(AuthFileTest, AMissingOrMalformedFileStopsTheStartNamingTheFlag) {
  testing::TempDir dir;
  auto missing = AuthFile::Open(dir.Sub("none"), nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("--auth-file " + dir.Sub("none")), std::string::npos)
      << missing.status();
  WriteFile(dir.Sub("bad"), "not a line\n");
  auto bad = AuthFile::Open(dir.Sub("bad"), nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 1"), std::string::npos) << bad.status();
}

TEST(AuthFileTest, ChangesAreReadAgainAndABrokenChangeKeepsTheTokensInForce) {
  testing::TempDir dir;
  const std::string path = dir.Sub("tokens");
  WriteFile(path, Line("first", "crm", "writer"));
  MetricsRegistry metrics;
  auto file = AuthFile::Open(path, &metrics);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_NE((*file)->Current()->Find("first"), nullptr);
  EXPECT_FALSE((*file)->ReloadIfChanged()) << "nothing changed";

  WriteFile(path, Line("second", "crm", "writer,reader"));
  EXPECT_TRUE((*file)->ReloadIfChanged());
  EXPECT_EQ((*file)->Current()->Find("first"), nullptr) << "revoked";
  ASSERT_NE((*file)->Current()->Find("second"), nullptr);

  WriteFile(path, Line("third", "crm", "superuser"));
  EXPECT_FALSE((*file)->ReloadIfChanged());
  EXPECT_NE((*file)->Current()->Find("second"), nullptr) << "the last good table stays";
  EXPECT_FALSE((*file)->ReloadIfChanged()) << "a broken file is read once per change";
  const std::string page = metrics.Render();
  EXPECT_NE(page.find("kam_auth_file_reloads_total{result=\"error\"} 1"), std::string::npos)
      << page;
  EXPECT_NE(page.find("kam_auth_file_reloads_total{result=\"ok\"} 1"), std::string::npos) << page;
  EXPECT_NE(page.find("kam_auth_callers 1"), std::string::npos) << page;
}

TEST(AuthFileTest, AFileWithoutCallersIsRefusedAtStartAndOnReload) {
  testing::TempDir dir;
  const std::string path = dir.Sub("tokens");
  WriteFile(path, "# nobody yet\n");
  auto empty = AuthFile::Open(path, nullptr);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("lists no callers"), std::string::npos) << empty.status();
  WriteFile(path, Line("first", "crm", "writer"));
  auto file = AuthFile::Open(path, nullptr);
  ASSERT_TRUE(file.ok()) << file.status();
  // An editor truncating the file before writing it again: read while empty.
  std::ofstream(path, std::ios::trunc).close();
  EXPECT_FALSE((*file)->ReloadIfChanged());
  EXPECT_NE((*file)->Current()->Find("first"), nullptr) << "nobody is locked out";
}

TEST(AuthFileTest, TheWatcherPicksUpAChangeByItself) {
  testing::TempDir dir;
  const std::string path = dir.Sub("tokens");
  WriteFile(path, Line("first", "crm", "writer"));
  auto file = AuthFile::Open(path, nullptr);
  ASSERT_TRUE(file.ok()) << file.status();
  (*file)->Watch(absl::Milliseconds(20));
  WriteFile(path, Line("first", "crm", "writer") + Line("added", "dashboard", "reader"));
  EXPECT_TRUE(testing::WaitFor([&] { return (*file)->Current()->Find("added") != nullptr; }));
}

}  // namespace
}  // namespace kam::auth
