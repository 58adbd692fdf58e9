#pragma once

// A progress bar with rate and ETA on stderr when it is a terminal; a single summary line when
// it is not (logs and pipes stay clean).

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace kam::ctl {

class Progress {
 public:
  Progress(std::string label, size_t total)
      : label_(std::move(label)),
        total_(total),
        start_(std::chrono::steady_clock::now()),
        terminal_(isatty(STDERR_FILENO) == 1) {}

  void Advance(size_t n) {
    done_ += n;
    if (!terminal_) return;
    double seconds = Elapsed();
    double rate = seconds > 0 ? done_ / seconds : 0;
    double eta = rate > 0 ? (total_ - done_) / rate : 0;
    int width = 30;
    int filled = total_ > 0 ? static_cast<int>(width * done_ / total_) : width;
    std::fprintf(stderr, "\r%-10s [%s%s] %zu/%zu  %.0f rows/s  ETA %.0fs ", label_.c_str(),
                 std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), done_,
                 total_, rate, eta);
    std::fflush(stderr);
  }

  void Done() {
    if (finished_) return;
    finished_ = true;
    double seconds = Elapsed();
    if (terminal_) std::fprintf(stderr, "\n");
    std::fprintf(stderr, "%s: %zu rows in %.1fs\n", label_.c_str(), done_, seconds);
  }

 private:
  double Elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  std::string label_;
  size_t total_;
  size_t done_ = 0;
  std::chrono::steady_clock::time_point start_;
  bool terminal_;
  bool finished_ = false;
};

}  // namespace kam::ctl
