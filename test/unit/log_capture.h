// Captures what the daemon logs (to stderr, in tests) while it is alive, so
// a test can check that a failure was reported, and how often.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <string_view>

namespace pgvrrpd::testing {

class LogCapture {
 public:
  LogCapture() : file_(memfd_create("log", MFD_CLOEXEC)), saved_(dup(STDERR_FILENO)) {
    dup2(file_, STDERR_FILENO);
  }
  ~LogCapture() {
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    close(file_);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() const {
    std::string out;
    char buffer[4096];
    off_t at = 0;
    ssize_t n;
    while ((n = pread(file_, buffer, sizeof buffer, at)) > 0) {
      out.append(buffer, static_cast<size_t>(n));
      at += n;
    }
    return out;
  }
  // How many times `needle` was logged.
  int count(std::string_view needle) const {
    std::string all = text();
    int n = 0;
    for (size_t at = all.find(needle); at != std::string::npos; at = all.find(needle, at + 1))
      ++n;
    return n;
  }

 private:
  int file_;
  int saved_;
};

}  // namespace pgvrrpd::testing
