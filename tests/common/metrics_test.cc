#include "common/metrics.h"

#include <gtest/gtest.h>

namespace kam {
namespace {

TEST(MetricsTest, RendersPrometheusTextWithFamiliesTogether) {
  MetricsRegistry registry;
  registry.AddCounter("kam_requests_total", "Requests.", "code=\"OK\"")->Inc(3);
  registry.AddGauge("kam_depth", "Depth.")->Set(1.5);
  registry.AddCounter("kam_requests_total", "Requests.", "code=\"NOT_FOUND\"")->Inc();
  Histogram* latency = registry.AddHistogram("kam_latency_seconds", "Latency.", {0.1, 1});
  latency->Observe(0.05);
  latency->Observe(0.5);
  latency->Observe(5);
  std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE kam_requests_total counter\nkam_requests_total{code=\"OK\"} 3\n"
                      "kam_requests_total{code=\"NOT_FOUND\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("kam_depth 1.5\n"), std::string::npos);
  EXPECT_NE(text.find("kam_latency_seconds_bucket{le=\"0.10000000000000001\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("kam_latency_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("kam_latency_seconds_count 3\n"), std::string::npos);
}

}  // namespace
}  // namespace kam
