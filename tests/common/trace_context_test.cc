#include "common/trace_context.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>

#include "common/logging.h"

namespace kam::trace {
namespace {

constexpr char kExample[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContextTest, ParsesTheSpecificationsExampleAndFormatsItBack) {
  std::optional<TraceContext> parsed = Parse(kExample);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(parsed->span_id, "00f067aa0ba902b7");
  EXPECT_EQ(parsed->flags, 1);
  EXPECT_EQ(Format(*parsed), kExample);
  EXPECT_EQ(Format(*Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-fe")).substr(53),
            "fe");
}

TEST(TraceContextTest, RefusesWhatTheSpecificationCallsInvalid) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",       // no flags
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // upper case
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero span id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // forbidden version
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // 00 has 4 fields
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // separator
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",    // not hex
       }) {
    EXPECT_FALSE(Parse(bad)) << bad;
  }
}

TEST(TraceContextTest, ALaterVersionIsReadByItsFirstFourFields) {
  std::optional<TraceContext> parsed =
      Parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-later");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_FALSE(Parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
}

TEST(TraceContextTest, AChildKeepsTheTraceAndFlagsWithANewSpanAndRootsAreFresh) {
  const TraceContext parent = *Parse(kExample);
  const TraceContext child = ChildOf(parent);
  EXPECT_EQ(child.trace_id, parent.trace_id);
  EXPECT_EQ(child.flags, parent.flags);
  EXPECT_NE(child.span_id, parent.span_id);
  EXPECT_TRUE(Parse(Format(child)));
  std::set<std::string> traces;
  for (int i = 0; i < 1000; ++i) {
    TraceContext root = NewRoot();
    ASSERT_TRUE(Parse(Format(root))) << Format(root);
    traces.insert(root.trace_id);
  }
  EXPECT_EQ(traces.size(), 1000u);
  EXPECT_EQ(ContinueOrStart(kExample).trace_id, parent.trace_id);
  // Flags this version does not define are not passed on; "sampled" is.
  EXPECT_EQ(ChildOf(*Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff")).flags, 1);
  EXPECT_EQ(ChildOf(*Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-fe")).flags, 0);
  EXPECT_NE(ContinueOrStart("garbage").trace_id, parent.trace_id);
}

TEST(TraceContextTest, ScopesNestPerThreadAndRestoreWhatWasCurrent) {
  EXPECT_EQ(Current(), nullptr);
  EXPECT_EQ(CurrentTraceparent(), "");
  {
    Scope outer(Parse(kExample));
    ASSERT_NE(Current(), nullptr);
    EXPECT_EQ(CurrentTraceparent(), kExample);
    {
      // From a header: a child span of it.
      Scope inner(std::string_view("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
      EXPECT_EQ(Current()->trace_id, "0af7651916cd43dd8448eb211c80319c");
      EXPECT_NE(Current()->span_id, "b7ad6b7169203331");
      {
        Scope none(std::string_view("not a traceparent"));
        EXPECT_EQ(Current(), nullptr);
      }
      EXPECT_EQ(Current()->trace_id, "0af7651916cd43dd8448eb211c80319c");
    }
    EXPECT_EQ(CurrentTraceparent(), kExample);
    std::thread other([] { EXPECT_EQ(Current(), nullptr) << "the context is per thread"; });
    other.join();
  }
  EXPECT_EQ(Current(), nullptr);
}

TEST(TraceContextTest, LogLinesWrittenInAScopeNameItsTrace) {
  testing::internal::CaptureStderr();
  {
    Scope traced(Parse(kExample));
    log::Info("inside");
  }
  log::Info("outside");
  const std::string lines = testing::internal::GetCapturedStderr();
  const size_t inside = lines.find("\"msg\":\"inside\"");
  const size_t outside = lines.find("\"msg\":\"outside\"");
  ASSERT_NE(inside, std::string::npos);
  ASSERT_NE(outside, std::string::npos);
  const std::string first = lines.substr(0, outside);
  const std::string second = lines.substr(outside);
  EXPECT_NE(first.find("\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""), std::string::npos)
      << first;
  EXPECT_NE(first.find("\"span_id\":\"00f067aa0ba902b7\""), std::string::npos) << first;
  EXPECT_EQ(second.find("trace_id"), std::string::npos) << second;
}

}  // namespace
}  // namespace kam::trace
