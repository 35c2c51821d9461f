// One persistent PostgreSQL connection that runs one query every interval:
// the postgres checker has two, to the local server and to the peer's.
//
// Passive and clock-free: the owner feeds it socket readiness (on_socket),
// due deadlines (on_timer) and the current time, and after every call asks
// what to watch (want) and when to call again (next_deadline). The owner
// (PostgresChecker) maps that onto the EventLoop; tests drive it directly.
//
// Failures, each reported once through the failure callback:
//  - connect refused / failed, or not finished within `timeout`;
//  - a query not answered within `timeout` (the connection is dropped);
//  - a query answered with an error (the connection is kept);
//  - the connection lost (server closed the socket, EOF, reset): the link
//    reconnects at once and reports only if that fails too, with lost=true.
//    So a dead server is reported as soon as its socket closes, while a
//    session killed by pg_terminate_backend() is not a failure.
// After a failure that dropped the connection, reconnects wait retry_min,
// doubling up to retry_max; a successful query resets the delay.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "checkers/pg_connection.h"
#include "vrrpd/basics/time.h"

namespace pgvrrpd::checkers {

struct PgLinkTiming {
  Duration interval;   // between query starts
  Duration timeout;    // for a connect and for each query
  Duration retry_min;  // first reconnect delay after a failure
  Duration retry_max;  // REQUIRES: >= retry_min
};

class PgLink {
 public:
  enum class State { down, connecting, idle, querying };
  // What the owner should watch: fd (-1 none) for events (EPOLLIN/EPOLLOUT).
  // generation changes whenever the socket may have been replaced, even under
  // the same number (libpq closes and reopens sockets while connecting), so a
  // changed generation means "unwatch and watch again".
  struct Want {
    int fd = -1;
    uint32_t events = 0;
    uint64_t generation = 0;
  };
  using ResultFn = std::function<void(const PgResult& result, TimePoint now)>;
  using FailureFn = std::function<void(const std::string& reason, bool lost, TimePoint now)>;
  // Called just before the link closes its socket, so the owner can stop
  // watching fd while the number is still ours.
  using ClosingFn = std::function<void(int fd)>;
  // How much of [since, now] the owner's event loop spent unable to read
  // sockets (stopped, or stuck in a callback): see EventLoop::blind_since.
  using BlindFn = std::function<Duration(TimePoint since)>;

  // `what` names the link in reasons ("local", "peer").
  PgLink(std::string what, PgConnectionFactory factory, std::string conninfo, std::string query,
         PgLinkTiming timing);
  PgLink(const PgLink&) = delete;
  PgLink& operator=(const PgLink&) = delete;

  // Callbacks run from inside the calls below, last, after the link's state
  // is settled: they may call back into the link (poll_now, set_interval).
  void set_callbacks(ResultFn on_result, FailureFn on_failure);
  void set_on_closing(ClosingFn on_closing) { on_closing_ = std::move(on_closing); }
  // A connect or query timeout is extended by the time the owner was blind
  // while waiting: the answer may be sitting unread in the socket.
  void set_blind_meter(BlindFn blind) { blind_ = std::move(blind); }

  void start(TimePoint now);
  void on_socket(uint32_t events, TimePoint now);
  // Runs what is due at `now` (connect/query timeout, next query, reconnect).
  void on_timer(TimePoint now);
  // Query now: at once when idle, right after the outstanding one when
  // querying, reconnect at once when down.
  void poll_now(TimePoint now);
  // Changes the interval; an earlier next query is rescheduled.
  void set_interval(Duration interval, TimePoint now);
  // The query sent from the next one on (PgSettings runs a few in turn).
  void set_query(std::string query) { query_ = std::move(query); }
  // Drops the connection; no more callbacks until start().
  void stop();

  Want want() const;
  std::optional<TimePoint> next_deadline() const;
  State state() const { return state_; }
  const std::string& what() const { return what_; }

 private:
  void connect(TimePoint now);
  void connected(TimePoint now);
  void send_query(TimePoint now);
  void read_results(TimePoint now);
  void close();
  void lose(const std::string& reason, TimePoint now);
  void fail(const std::string& reason, TimePoint now);

  std::string what_;
  PgConnectionFactory factory_;
  std::string conninfo_;
  std::string query_;
  PgLinkTiming timing_;
  ResultFn on_result_;
  FailureFn on_failure_;
  ClosingFn on_closing_;
  BlindFn blind_;

  std::unique_ptr<PgConnection> conn_;
  State state_ = State::down;
  bool stopped_ = true;
  uint64_t generation_ = 0;
  uint32_t connect_events_ = 0;  // while connecting: what PQconnectPoll waits for
  bool flushing_ = false;        // while querying: the query is not all sent
  bool again_ = false;           // poll_now() while querying
  bool after_loss_ = false;      // this connect follows a lost connection
  std::string loss_reason_;
  TimePoint deadline_{};      // connecting / querying: the timeout
  TimePoint waiting_since_{};  // connecting / querying: when that wait began
  TimePoint query_sent_at_{};
  TimePoint next_query_at_{};  // idle
  TimePoint retry_at_{};       // down
  Duration backoff_{};
  std::optional<PgResult> pending_;  // the query's result while more may follow
};

}  // namespace pgvrrpd::checkers
