#include "common/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace kam {
namespace {

void AddOne(std::vector<prometheus::MetricFamily>* out, const char* name, const char* help,
            prometheus::MetricType type, double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  out->push_back({name, help, type, {metric}});
}

// Seconds since the epoch at which the machine booted (/proc/stat's btime), or -1.
double BootTimeSeconds() {
  std::ifstream stat("/proc/stat");
  std::string line;
  while (std::getline(stat, line)) {
    if (line.rfind("btime ", 0) == 0) {
      double seconds = 0;
      return absl::SimpleAtod(line.substr(6), &seconds) ? seconds : -1;
    }
  }
  return -1;
}

int CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the directory stream's own descriptor
}

}  // namespace

void CollectProcessMetrics(std::vector<prometheus::MetricFamily>* out) {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat;
  if (!std::getline(stat_file, stat)) return;
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return;
  std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ');
  // fields[0] is field 3 (state): field N is fields[N - 3].
  auto field = [&fields](size_t n) {
    double value = 0;
    return n - 3 < fields.size() && absl::SimpleAtod(fields[n - 3], &value) ? value : -1;
  };
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  using prometheus::MetricType;
  AddOne(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
         MetricType::Counter, (field(14) + field(15)) / ticks);
  AddOne(out, "process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
         field(24) * page);
  AddOne(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
         field(23));
  AddOne(out, "process_threads", "Number of OS threads in the process.", MetricType::Gauge,
         field(20));
  double boot = BootTimeSeconds();
  if (boot >= 0) {
    AddOne(out, "process_start_time_seconds",
           "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
           boot + field(22) / ticks);
  }
  int fds = CountOpenFds();
  if (fds >= 0) {
    AddOne(out, "process_open_fds", "Number of open file descriptors.", MetricType::Gauge, fds);
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    AddOne(out, "process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
           static_cast<double>(limit.rlim_cur));
  }
}

}  // namespace kam
