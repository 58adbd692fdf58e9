#pragma once

// The process_* metrics every Prometheus client library exports (CPU time, memory, file
// descriptors, start time), read from /proc at each scrape. Named as the Go and Java clients name
// them, so that stock dashboards and alert rules work on kam unchanged.

#include <vector>

#include "prometheus/metric_family.h"

namespace kam {

// Appends the process families; appends nothing it cannot read (not on Linux, /proc hidden).
void CollectProcessMetrics(std::vector<prometheus::MetricFamily>* out);

}  // namespace kam
