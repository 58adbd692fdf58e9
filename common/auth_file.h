#pragma once

// The --auth-file of a service: its token table (common/access_policy.h), read at start and
// again whenever the file changes, so tokens are added and revoked without a restart. A change
// that does not parse, or lists no caller (a file caught while being rewritten in place), is
// logged and counted and leaves the table in force: a typo never opens the service or locks
// every caller out. Replace the file by renaming a new one over it (as Kubernetes does).

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "common/mutex.h"
#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/access_policy.h"
#include "common/metrics.h"
#include "common/status.h"

namespace kam::auth {

class AuthFile {
 public:
  // Reads the file; an unreadable or malformed file, or one without callers, is an error naming
  // --auth-file, so a service does not start with it. `metrics` may be null.
  static absl::StatusOr<std::unique_ptr<AuthFile>> Open(const std::string& path,
                                                        MetricsRegistry* metrics);
  ~AuthFile();

  // The table in force; callers keep the pointer for one decision.
  std::shared_ptr<const TokenTable> Current() const;

  // Reads the file again if its identity, size or modification time changed (a Kubernetes
  // Secret is swapped through a symlink; an editor may rewrite in place). Returns whether a new
  // table is in force.
  bool ReloadIfChanged();

  // Checks for changes every `every` on a thread of its own until destruction.
  void Watch(absl::Duration every);

 private:
  struct Stamp {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = -1;
    int64_t modified_ns = -1;
    bool operator==(const Stamp& other) const {
      return device == other.device && inode == other.inode && size == other.size &&
             modified_ns == other.modified_ns;
    }
  };

  explicit AuthFile(std::string path);
  void ExportMetrics(MetricsRegistry* metrics);
  absl::Status Load();
  static absl::StatusOr<Stamp> StampOf(const std::string& path);

  const std::string path_;
  Counter* reloaded_ = nullptr;
  Counter* reload_failed_ = nullptr;
  mutable Mutex mutex_;
  std::shared_ptr<const TokenTable> table_ ABSL_GUARDED_BY(mutex_);
  Stamp stamp_ ABSL_GUARDED_BY(mutex_);
  Mutex watch_mutex_;
  bool stopping_ ABSL_GUARDED_BY(watch_mutex_) = false;
  std::thread watcher_;
};

}  // namespace kam::auth
