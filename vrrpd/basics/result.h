// The outcome of an edge call (a syscall, a netlink request): ok, or a
// human-readable message saying what failed and on what, plus the errno when
// one caused it. Edge code returns these instead of throwing, so nothing
// unwinds through the event loop; the caller decides whether to log, retry or
// (before the loop starts) exit.
#pragma once

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace pgvrrpd {

class [[nodiscard]] Status {
 public:
  // Default-constructed is ok.
  Status() = default;
  // Not named ok(): a static ok() can be called on an instance, and
  // `s.ok()` would then compile and always be true.
  static Status success() { return {}; }

  // REQUIRES: message is not empty.
  static Status error(std::string message, int error_number = 0) {
    return Status(std::move(message), error_number);
  }

  // Reads errno, so call it straight after the failing syscall:
  // "context: strerror(errno)".
  static Status from_errno(std::string_view context) {
    int saved = errno;
    return from_errno(context, saved);
  }
  static Status from_errno(std::string_view context, int error_number) {
    return Status(fmt::format("{}: {}", context, std::strerror(error_number)),
                  error_number);
  }

  bool is_ok() const { return message_.empty(); }
  explicit operator bool() const { return is_ok(); }
  // Empty when ok.
  const std::string& message() const { return message_; }
  // The errno behind the failure, or 0 when there was none (a libnl code, a
  // bad argument).
  int error_number() const { return error_number_; }

  // "context: message", for adding what the caller was doing. Ok stays ok.
  Status with_context(std::string_view context) const {
    if (is_ok()) return *this;
    return Status(fmt::format("{}: {}", context, message_), error_number_);
  }

 private:
  Status(std::string message, int error_number)
      : message_(std::move(message)), error_number_(error_number) {}

  std::string message_;
  int error_number_ = 0;
};

// A value, or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  // REQUIRES: !status.is_ok(). An ok Status carries no value, so it is turned
  // into an error rather than leaving a Result that is neither.
  Result(Status status)  // NOLINT
      : status_(status.is_ok() ? Status::error("Result built from an ok Status")
                               : std::move(status)) {}

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }

  // REQUIRES: is_ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace pgvrrpd
