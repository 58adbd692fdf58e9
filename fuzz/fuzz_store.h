#pragma once

// A RocksDB directory for a fuzz target's whole run, and seeds written from code: the targets
// that feed a real store (consumers, interactions requests) share them.

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace kam::fuzz {

// A fresh directory under $TMPDIR (or /tmp), removed when the process exits normally. libFuzzer
// runs every input in one process, so the store keeps what earlier inputs wrote: later inputs
// meet a book that has accounts, alerts and timers in it.
inline std::string RunDirectory(const char* name) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/" + name + ".XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  static std::vector<std::string> made;
  if (made.empty()) {
    std::atexit([] {
      for (const auto& dir : made) std::filesystem::remove_all(dir);
    });
  }
  made.push_back(pattern);
  return pattern;
}

// With KAM_FUZZ_WRITE_SEEDS=<dir> in the environment the target writes its seeds there and exits:
// the corpus in fuzz/corpus/<target>/ is made that way, from readable code, after a format change.
inline void WriteSeedsIfAsked(const std::vector<std::pair<std::string, std::string>>& seeds) {
  const char* dir = std::getenv("KAM_FUZZ_WRITE_SEEDS");
  if (dir == nullptr) return;
  std::filesystem::create_directories(dir);
  for (const auto& [name, bytes] : seeds) {
    std::ofstream(std::string(dir) + "/" + name, std::ios::binary) << bytes;
  }
  std::fprintf(stderr, "wrote %zu seeds to %s\n", seeds.size(), dir);
  std::exit(0);
}

}  // namespace kam::fuzz
