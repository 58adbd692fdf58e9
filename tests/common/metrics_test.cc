#include "common/metrics.h"

#include <gtest/gtest.h>

namespace kam {
namespace {

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(MetricsTest, RendersFamiliesTogetherWithTheirTypes) {
  MetricsRegistry registry;
  registry.AddCounter("kam_requests_total", "Requests.", {{"code", "OK"}})->Increment(3);
  registry.AddGauge("kam_depth", "Depth.")->Set(1.5);
  registry.AddCounter("kam_requests_total", "Requests.", {{"code", "NOT_FOUND"}})->Increment();
  std::string text = registry.Render();
  EXPECT_TRUE(Has(text,
                  "# TYPE kam_requests_total counter\n"
                  "kam_requests_total{code=\"NOT_FOUND\"} 1\n"
                  "kam_requests_total{code=\"OK\"} 3\n"))
      << text;
  EXPECT_TRUE(Has(text, "# TYPE kam_depth gauge\nkam_depth 1.5\n")) << text;
}

TEST(MetricsTest, BucketBoundsPrintAsWritten) {
  MetricsRegistry registry;
  Histogram* latency = registry.AddHistogram("kam_latency_seconds", "Latency.", {0.00025, 0.1, 1});
  latency->Observe(0.05);
  latency->Observe(0.5);
  latency->Observe(5);
  std::string text = registry.Render();
  EXPECT_TRUE(Has(text, "kam_latency_seconds_bucket{le=\"0.00025\"} 0\n")) << text;
  EXPECT_TRUE(Has(text, "kam_latency_seconds_bucket{le=\"0.1\"} 1\n")) << text;
  EXPECT_TRUE(Has(text, "kam_latency_seconds_bucket{le=\"+Inf\"} 3\n")) << text;
  EXPECT_TRUE(Has(text, "kam_latency_seconds_count 3\n")) << text;
}

TEST(MetricsTest, CallbackCountersAreTypedAsCountersAndReadAtScrapeTime) {
  MetricsRegistry registry;
  double published = 7;
  registry.AddCallbackCounter("kam_published_total", "Published.", [&] { return published; });
  registry.AddCallbackGauge("kam_tasks", "Tasks.", [] { return 2.0; }, {{"state", "running"}});
  registry.AddCallbackGauge("kam_tasks", "Tasks.", [] { return 1.0; }, {{"state", "restoring"}});
  EXPECT_TRUE(
      Has(registry.Render(), "# TYPE kam_published_total counter\nkam_published_total 7\n"));
  published = 9;
  std::string text = registry.Render();
  EXPECT_TRUE(Has(text, "kam_published_total 9\n")) << text;
  EXPECT_TRUE(Has(text,
                  "# TYPE kam_tasks gauge\nkam_tasks{state=\"running\"} 2\n"
                  "kam_tasks{state=\"restoring\"} 1\n"))
      << text;
}

TEST(MetricsTest, FamiliesOfSeriesKnownOnlyAtScrapeTime) {
  MetricsRegistry registry;
  std::vector<MetricSample> lags;
  registry.AddCallbackFamily("kam_lag_records", "Lag.", MetricKind::kGauge, [&] { return lags; });
  EXPECT_TRUE(Has(registry.Render(), "# TYPE kam_lag_records gauge\n"));
  lags = {{{{"partition", "0"}}, 4}, {{{"partition", "3"}}, 0}};
  std::string text = registry.Render();
  EXPECT_TRUE(Has(text, "kam_lag_records{partition=\"0\"} 4\nkam_lag_records{partition=\"3\"} 0\n"))
      << text;
}

TEST(MetricsTest, EveryPageCarriesTheProcessMetrics) {
  MetricsRegistry registry;
  std::string text = registry.Render();
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_open_fds", "process_max_fds", "process_start_time_seconds"}) {
    EXPECT_TRUE(Has(text, std::string("\n") + name + " ")) << name << "\n" << text;
  }
  EXPECT_TRUE(Has(text, "# TYPE process_cpu_seconds_total counter\n")) << text;
}

}  // namespace
}  // namespace kam
