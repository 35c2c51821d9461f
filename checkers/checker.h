// Health checkers behind one interface. A checker is a passive object
// driven by the daemon's event loop (timers and fd readiness through
// EventLoop); it never blocks. It reports a pass/fail verdict after rise /
// fall hysteresis, and the daemon applies the check's effect (fault or
// weight) to the routers that track it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "vrrpd/basics/time.h"

namespace pgvrrpd::checkers {

// rise / fall hysteresis (keepalived's meaning): a failing check passes
// again after `rise` good results in a row, a passing one fails after
// `fall` bad ones. Pure.
class Hysteresis {
 public:
  // A check starts with no verdict: it passes after `rise` good results in
  // a row, or fails after `fall` bad ones, and reports either, so that a
  // check failing from the start (a lost witness) is reported as failing.
  // Until then passing() is false. REQUIRES: rise >= 1, fall >= 1.
  Hysteresis(uint32_t rise, uint32_t fall) : rise_(rise), fall_(fall) {}

  // Records one result; returns the new verdict when it changed (or was
  // first reached).
  std::optional<bool> record(bool ok);
  // Sets the verdict outright, for results that need no confirmation (a
  // server that closed its socket and refuses connections is down, not
  // flaky). Returns the new verdict when it changed.
  std::optional<bool> force(bool ok);
  bool passing() const { return passing_; }
  bool known() const { return known_; }

 private:
  uint32_t rise_;
  uint32_t fall_;
  bool known_ = false;
  bool passing_ = false;
  bool last_ = false;    // while unknown: the result the streak counts
  uint32_t streak_ = 0;  // consecutive results that disagree with passing_
                         // (while unknown: that equal last_)
};

class Checker {
 public:
  // Called when the verdict changes: `passing`, and a short reason for logs
  // ("connection refused", "3 pings lost").
  using Listener = std::function<void(bool passing, const std::string& reason)>;

  virtual ~Checker() = default;
  const std::string& name() const { return name_; }
  bool passing() const { return passing_; }
  // The reason given with the last verdict ("" before the first one).
  const std::string& reason() const { return reason_; }
  void set_listener(Listener listener) { listener_ = std::move(listener); }

  // Starts checking (arms timers, opens sockets). Results arrive later
  // through the listener; start() itself never blocks.
  virtual void start() = 0;

 protected:
  explicit Checker(std::string name) : name_(std::move(name)) {}
  // Subclasses call this with each verdict change.
  void report(bool passing, const std::string& reason) {
    passing_ = passing;
    reason_ = reason;
    if (listener_) listener_(passing, reason);
  }

 private:
  std::string name_;
  bool passing_ = false;
  std::string reason_;
  Listener listener_;
};

}  // namespace pgvrrpd::checkers
