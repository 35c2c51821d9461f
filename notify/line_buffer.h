// Splits a byte stream (a hook's stdout or stderr) into log lines. Pure.
// No line is longer than kMaxLine: a longer one is emitted in pieces, and
// once kMaxLine bytes are pending without a newline they go out at once, so
// a hook printing without newlines cannot grow the daemon's memory. A
// trailing "\r" is dropped.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace pgvrrpd::notify {

class LineBuffer {
 public:
  static constexpr size_t kMaxLine = 4096;
  using LineCallback = std::function<void(std::string_view line)>;

  // Appends `bytes`, calling `on_line` for each complete line (without "\n").
  void append(std::string_view bytes, const LineCallback& on_line);
  // End of stream: the partial last line, if any, is a line too.
  void flush(const LineCallback& on_line);

 private:
  std::string partial_;
};

}  // namespace pgvrrpd::notify
