// Changes a server's settings as an operator would with psql: a few
// statements (ALTER SYSTEM, then pg_reload_conf()), one after another on a
// connection of their own, never blocking the loop. It is a PgLink that the
// owner drives like the check's (want, next_deadline, on_socket,
// on_timer). Each statement must be idempotent: a connection lost midway is
// reconnected and the statement sent again (PgLink's rule), so a statement
// may run twice.
//
// The connection stays open once made (a SELECT 1 a day keeps it honest):
// the moment settings must change is when the server is full of sessions
// waiting for a standby that went away, and a new connection would then be
// refused ("too many clients").
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "checkers/pg_link.h"
#include "vrrpd/basics/result.h"

namespace pgvrrpd::checkers {

class PgSettings {
 public:
  using Done = std::function<void(const Status& status, TimePoint now)>;

  // `timeout`: for the connect and for each statement.
  PgSettings(PgConnectionFactory factory, std::string conninfo, Duration timeout);

  // Runs `statements` in order; `done` gets success after the last one's
  // answer, or the first failure (and nothing more runs). A run started
  // while one is under way replaces it: the old one's `done` never comes.
  // REQUIRES: statements not empty.
  void run(std::vector<std::string> statements, TimePoint now, Done done);
  bool running() const { return done_ != nullptr; }
  // Connects now, ahead of any run, and stays connected (reconnecting
  // after a failure): see above. No-op once started.
  void open(TimePoint now);
  // Drops the connection and the run under way (its `done` never comes).
  void stop();
  bool connected() const { return started_; }

  PgLink& link() { return link_; }

 private:
  void on_result(TimePoint now);
  void finish(const Status& status, TimePoint now);

  PgLink link_;
  std::vector<std::string> statements_;
  size_t next_ = 0;  // the statement after the one in flight
  Done done_;
  bool started_ = false;  // the link runs (connected, or reconnecting)
  bool skip_ = false;     // the answer of a keep-alive in flight comes first
};

}  // namespace pgvrrpd::checkers
