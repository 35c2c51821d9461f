#include "notify/line_buffer.h"

namespace pgvrrpd::notify {
namespace {

// A line longer than kMaxLine, however it arrived, goes out in pieces.
void emit(std::string_view line, const LineBuffer::LineCallback& on_line) {
  if (line.ends_with('\r')) line.remove_suffix(1);
  while (line.size() > LineBuffer::kMaxLine) {
    on_line(line.substr(0, LineBuffer::kMaxLine));
    line.remove_prefix(LineBuffer::kMaxLine);
  }
  on_line(line);
}

}  // namespace

void LineBuffer::append(std::string_view bytes, const LineCallback& on_line) {
  while (!bytes.empty()) {
    auto newline = bytes.find('\n');
    if (newline == std::string_view::npos) {
      partial_.append(bytes);
      while (partial_.size() >= kMaxLine) {
        emit(std::string_view(partial_).substr(0, kMaxLine), on_line);
        partial_.erase(0, kMaxLine);
      }
      return;
    }
    if (partial_.empty()) {
      emit(bytes.substr(0, newline), on_line);
    } else {
      partial_.append(bytes.substr(0, newline));
      emit(partial_, on_line);
      partial_.clear();
    }
    bytes.remove_prefix(newline + 1);
  }
}

void LineBuffer::flush(const LineCallback& on_line) {
  if (!partial_.empty()) emit(partial_, on_line);
  partial_.clear();
}

}  // namespace pgvrrpd::notify
