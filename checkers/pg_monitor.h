// The postgres checker's core: a persistent connection to the local server
// and one to the peer's server (two PgLinks running kFactsQuery), the facts
// they answer (PgFacts) and the check verdict after rise/fall.
//
// The verdict is "the local server is alive and answering": a failed or
// unanswered query counts as one bad result; a connection the server closed
// whose immediate reconnect fails sets the verdict to failing at once,
// regardless of `fall` (the server is down, not slow). The peer never
// affects the verdict: peer down is a fact, with since when.
//
// Passive and clock-free like PgLink; PostgresChecker drives it from the
// EventLoop, tests drive it with fake connections and a fake clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "checkers/checker.h"
#include "checkers/pg_connection.h"
#include "checkers/pg_facts.h"
#include "checkers/pg_link.h"
#include "vrrpd/basics/time.h"

namespace pgvrrpd::checkers {

// One [check NAME] type=postgres section.
struct PostgresCheckParams {
  std::string conninfo;       // the local server (a Unix socket directory is best)
  std::string peer_conninfo;  // the peer's server on its real IP; empty: none
  std::optional<uint64_t> max_lag_bytes;  // sets PgFacts::lag_exceeded; not the verdict
  Duration interval = std::chrono::seconds(1);
  Duration timeout = std::chrono::seconds(1);  // per connect and per query
  uint32_t rise = 1;
  uint32_t fall = 1;
  // The local query interval while fast polling (a promotion is pending).
  Duration fast_interval = std::chrono::milliseconds(5);
  // Reconnect delay after a failure: retry_min, doubling up to retry_max
  // (zero: the interval).
  Duration retry_min = std::chrono::milliseconds(100);
  Duration retry_max = Duration::zero();
};

class PgMonitor {
 public:
  using VerdictFn = std::function<void(bool passing, const std::string& reason)>;
  // `changed` is a PgChange bit set, never 0.
  using FactsFn = std::function<void(const PgFacts& facts, uint32_t changed)>;

  PgMonitor(PostgresCheckParams params, PgConnectionFactory factory);

  void set_listeners(VerdictFn on_verdict, FactsFn on_facts);
  void start(TimePoint now);
  void stop();
  // Runs whatever is due on either link.
  void on_timer(TimePoint now);
  // Queries the local server (and the peer) now; the answer comes through
  // the listeners. While a query is outstanding, one more follows it.
  void poll_now(TimePoint now);
  // Queries the local server every fast_interval while on (e.g. until it
  // is out of recovery after a promotion), at once when switched on.
  void set_fast_poll(bool on, TimePoint now);
  bool fast_poll() const { return fast_poll_; }

  bool passing() const { return hysteresis_.passing(); }
  const PgFacts& facts() const { return facts_; }
  const PostgresCheckParams& params() const { return params_; }

  // For the driver: the links' sockets and the earliest deadline.
  PgLink& local() { return local_; }
  PgLink* peer() { return peer_.get(); }
  std::optional<TimePoint> next_deadline() const;

 private:
  void on_local_result(const PgResult& result, TimePoint now);
  void on_local_failure(const std::string& reason, bool lost, TimePoint now);
  void on_peer_result(const PgResult& result, TimePoint now);
  void on_peer_failure(const std::string& reason, TimePoint now);
  void publish(const PgFacts& before);
  void verdict(std::optional<bool> changed, const std::string& reason);

  PostgresCheckParams params_;
  PgLink local_;
  std::unique_ptr<PgLink> peer_;
  Hysteresis hysteresis_;
  PgFacts facts_;
  uint32_t last_receiver_timeline_ = 0;
  bool fast_poll_ = false;
  VerdictFn on_verdict_;
  FactsFn on_facts_;
};

}  // namespace pgvrrpd::checkers
