#include "common/auth_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace kam::auth {

AuthFile::AuthFile(std::string path) : path_(std::move(path)) {}

void AuthFile::ExportMetrics(MetricsRegistry* metrics) {
  constexpr char kName[] = "kam_auth_file_reloads_total";
  constexpr char kHelp[] = "Reads of the --auth-file after a change, by result";
  reloaded_ = metrics->AddCounter(kName, kHelp, {{"result", "ok"}});
  reload_failed_ = metrics->AddCounter(kName, kHelp, {{"result", "error"}});
  metrics->AddCallbackGauge("kam_auth_callers", "Callers (token hashes) in the auth file in force",
                            [this] { return static_cast<double>(Current()->size()); });
}

AuthFile::~AuthFile() {
  {
    MutexLock lock(&watch_mutex_);
    stopping_ = true;
  }
  if (watcher_.joinable()) watcher_.join();
}

absl::StatusOr<std::unique_ptr<AuthFile>> AuthFile::Open(const std::string& path,
                                                         MetricsRegistry* metrics) {
  std::unique_ptr<AuthFile> file(new AuthFile(path));
  absl::Status loaded = file->Load();
  if (!loaded.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--auth-file ", path, ": ", loaded.message()));
  }
  // Only now: the scrape callbacks read a table that exists, from an object that lives on.
  if (metrics != nullptr) file->ExportMetrics(metrics);
  return file;
}

std::shared_ptr<const TokenTable> AuthFile::Current() const {
  MutexLock lock(&mutex_);
  return table_;
}

absl::StatusOr<AuthFile::Stamp> AuthFile::StampOf(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot stat: ", std::strerror(errno)));
  }
  return Stamp{info.st_dev, info.st_ino, info.st_size,
               static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec};
}

absl::Status AuthFile::Load() {
  // The stamp is taken before the read: a write racing with it changes the stamp again, and the
  // next poll reads the file once more.
  absl::StatusOr<Stamp> stamp = StampOf(path_);
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  absl::Status status = stamp.status();
  std::shared_ptr<const TokenTable> table;
  if (status.ok() && !in) status = absl::NotFoundError("cannot read the file");
  if (status.ok()) {
    absl::StatusOr<TokenTable> parsed = TokenTable::Parse(text.str());
    if (parsed.ok() && parsed->size() == 0) {
      status = absl::InvalidArgumentError(
          "lists no callers (a file rewritten in place can be read empty; rename a new file "
          "over it)");
    } else if (parsed.ok()) {
      table = std::make_shared<const TokenTable>(*std::move(parsed));
    } else {
      status = parsed.status();
    }
  }
  MutexLock lock(&mutex_);
  // A failed read is not retried until the file changes again, so a broken file is reported
  // once, not at every poll.
  stamp_ = stamp.ok() ? *stamp : Stamp{};
  if (table) table_ = std::move(table);
  return status;
}

bool AuthFile::ReloadIfChanged() {
  absl::StatusOr<Stamp> now = StampOf(path_);
  {
    MutexLock lock(&mutex_);
    if ((now.ok() ? *now : Stamp{}) == stamp_) return false;
  }
  absl::Status loaded = Load();
  if (!loaded.ok()) {
    if (reload_failed_ != nullptr) reload_failed_->Increment();
    log::Error("auth file not reloaded; the tokens read before stay in force",
               {{"path", path_}, {"error", std::string(loaded.message())}});
    return false;
  }
  if (reloaded_ != nullptr) reloaded_->Increment();
  log::Info("auth file reloaded", {{"path", path_}, {"callers", absl::StrCat(Current()->size())}});
  return true;
}

void AuthFile::Watch(absl::Duration every) {
  watcher_ = std::thread([this, every] {
    auto stopping = [this] {
      watch_mutex_.AssertHeld();
      return stopping_;
    };
    while (true) {
      {
        MutexLock lock(&watch_mutex_);
        if (watch_mutex_.AwaitWithTimeout(stopping, every)) return;
      }
      ReloadIfChanged();
    }
  });
}

}  // namespace kam::auth
