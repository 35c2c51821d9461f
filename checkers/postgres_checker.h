// The postgres checker: PgMonitor (two persistent asynchronous libpq
// connections, the facts, the verdict) driven by the daemon's EventLoop.
//
// Verdict (Checker::passing / the listener): the local server is alive and
// answering, after rise/fall. Facts (facts() / the facts listener): role,
// timeline, LSNs, WAL receiver, lag, and the peer's server, for the
// failover policy. A dead local server is reported as soon as its socket
// closes; a hung one after `timeout`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "checkers/checker.h"
#include "checkers/pg_monitor.h"
#include "checkers/pg_settings.h"
#include "vrrpd/loop/event_loop_linux.h"

namespace pgvrrpd::checkers {

class PostgresChecker final : public Checker {
 public:
  using FactsListener = PgMonitor::FactsFn;

  // `factory` makes the connections (libpq; a fake in tests).
  // REQUIRES: loop is open and outlives the checker.
  PostgresChecker(EventLoop& loop, std::string name, PostgresCheckParams params,
                  PgConnectionFactory factory = make_libpq_connection);
  ~PostgresChecker() override;
  PostgresChecker(const PostgresChecker&) = delete;
  PostgresChecker& operator=(const PostgresChecker&) = delete;

  void start() override;
  void stop();

  const PgFacts& facts() const { return monitor_.facts(); }
  // Called from the loop when a fact changes; `changed` is a PgChange set.
  void set_facts_listener(FactsListener listener) { facts_listener_ = std::move(listener); }
  // Queries at once (see PgMonitor::poll_now).
  void poll_now();
  // Queries the local server every fast_interval while on: for "tell me as
  // soon as it is out of recovery" while a promotion is pending.
  void set_fast_poll(bool on);
  const PostgresCheckParams& params() const { return monitor_.params(); }
  // Changes the local server's settings (PgSettings: ALTER SYSTEM, a
  // reload) on a connection of its own, with the check's conninfo and
  // timeout; the facts follow at once when it is done. A new change
  // replaces one under way.
  void change_settings(std::vector<std::string> statements, PgSettings::Done done);
  bool changing_settings() const { return settings_.running(); }
  // Opens the settings connection ahead of the first change (PgSettings::open).
  void open_settings();
  bool settings_open() const { return settings_.connected(); }

 private:
  struct Watched {
    int fd = -1;
    uint32_t events = 0;
    uint64_t generation = 0;
  };
  void sync();
  void sync_link(PgLink& link, Watched& watched);
  void closing(Watched& watched, int fd);

  EventLoop& loop_;
  PgMonitor monitor_;
  Timer timer_;
  PgSettings settings_;
  Watched local_watch_;
  Watched peer_watch_;
  Watched settings_watch_;
  FactsListener facts_listener_;
};

}  // namespace pgvrrpd::checkers
