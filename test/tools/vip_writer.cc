// vip_writer: writes through one address (the VIP) every N ms and records
// every attempt, for the failover benchmark and the integration tests. Not
// installed.
//
//   vip_writer [--interval-ms 10] [--connect-timeout-ms 500]
//              [--statement-timeout-ms 1000] [--duration-s 0] [--count 0]
//              [--max-inflight 64] [--keep] [--note TEXT] [--out FILE] CONNINFO
//
// Each attempt INSERTs a row into the pglab `writes` table on a fresh
// connection (as a client reconnecting after a failover would), or with
// --keep on the session the last attempt left healthy, as a pooled client
// would: a session that broke or timed out is closed (an error the server
// answered leaves it open), and an attempt that finds no idle session opens
// a new one. A fault breaks every session, so each write after it is on a new
// connection either way; --keep spares the server a backend process per
// attempt before the fault, which on a slow machine is the difference between
// 10 ms and 100 ms of resolution. Attempts run
// asynchronously in one poll loop (PQconnectStart/PQconnectPoll,
// PQsendQuery), several in flight, so one stuck in a TCP SYN retransmit does
// not delay the next. libpq's connect_timeout is whole seconds (1 means 2)
// and is ignored by PQconnectPoll, so the deadlines here are our own, in ms.
// CONNINFO must name numeric addresses: PQconnectStart resolves host names
// synchronously.
//
// One line per attempt, in completion order, tab separated:
//   SEQ START_NS END_NS ok ID SERVER_ADDR CLUSTER_NAME
//   SEQ START_NS END_NS err - - - MESSAGE
// START/END are CLOCK_MONOTONIC (Python's time.monotonic()) in ns. "ok"
// means the commit was acknowledged; after a statement deadline the outcome
// is unknown and the line says so. SIGTERM/SIGINT (or the end of
// --duration-s, or --count attempts started) stops new attempts; the ones in
// flight finish or time out. `--count 1` is one write, as a test's probe.
#include <poll.h>
#include <signal.h>
#include <time.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <string>
#include <vector>

#include <libpq-fe.h>

namespace {

using Ns = int64_t;
constexpr Ns kMs = 1'000'000;

Ns now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Ns{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct Options {
  Ns interval = 10 * kMs, connect_timeout = 500 * kMs, statement_timeout = 1000 * kMs;
  Ns duration = 0;  // 0: until SIGTERM/SIGINT
  uint64_t count = 0;  // attempts to start; 0: no limit
  size_t max_inflight = 64;
  bool keep = false;
  std::string note = "vip_writer", conninfo;
  FILE* out = stdout;
};

enum class Phase { Connecting, Querying };

struct Attempt {
  uint64_t seq = 0;
  Ns start = 0, deadline = 0;
  PGconn* conn = nullptr;
  Phase phase = Phase::Connecting;
  PostgresPollingStatusType poll = PGRES_POLLING_WRITING;  // as after PQconnectStart
  bool flushing = false;  // PQflush has more to send
  bool ok = false;
  bool drained = false;  // every result read: the connection is idle again
  std::string id, addr, cluster, error;
  std::string refusal;  // the server's error answer, final once drained
};

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

std::string one_line(const char* text) {
  std::string s = text ? text : "";
  for (char& c : s)
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

class Writer {
 public:
  explicit Writer(const Options& o) : o_(o) {}

  // Starts attempt `seq` (reusing the idle connection with --keep).
  void start(uint64_t seq) {
    Attempt a;
    a.seq = seq;
    a.start = now_ns();
    if (o_.keep && idle_) {
      a.conn = idle_;
      idle_ = nullptr;
      send_query(a);
    } else {
      a.deadline = a.start + o_.connect_timeout;
      a.conn = PQconnectStart(o_.conninfo.c_str());
      if (!a.conn || PQstatus(a.conn) == CONNECTION_BAD)
        a.error = a.conn ? one_line(PQerrorMessage(a.conn)) : "out of memory";
    }
    inflight_.push_back(std::move(a));
    if (!inflight_.back().error.empty()) finish(std::prev(inflight_.end()));
  }

  size_t inflight() const { return inflight_.size(); }

  // Waits until `until` (or a signal), advancing every attempt whose socket
  // is ready and failing every attempt past its deadline.
  void step(Ns until, const sigset_t* unblocked) {
    std::vector<pollfd> fds;
    std::vector<std::list<Attempt>::iterator> owners;
    for (auto it = inflight_.begin(); it != inflight_.end(); ++it) {
      short ev = 0;
      if (it->phase == Phase::Connecting)
        ev = it->poll == PGRES_POLLING_READING ? POLLIN : POLLOUT;
      else
        ev = static_cast<short>(POLLIN | (it->flushing ? POLLOUT : 0));
      fds.push_back({PQsocket(it->conn), ev, 0});
      owners.push_back(it);
      if (it->deadline < until) until = it->deadline;
    }
    Ns wait = until - now_ns();
    if (wait < 0) wait = 0;
    timespec ts{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
    if (ppoll(fds.data(), fds.size(), &ts, unblocked) < 0 && errno != EINTR) {
      std::perror("vip_writer: ppoll"), std::exit(2);
    }
    Ns t = now_ns();
    for (size_t i = 0; i < fds.size(); ++i) {
      auto it = owners[i];
      if (fds[i].revents) advance(*it);
      if (it->error.empty() && !it->ok && t >= it->deadline)
        it->error = it->phase == Phase::Connecting
                        ? "connect timeout"
                        : "statement timeout (commit outcome unknown)";
      if (it->ok || !it->error.empty()) finish(it);
    }
  }

 private:
  void send_query(Attempt& a) {
    a.phase = Phase::Querying;
    a.deadline = now_ns() + o_.statement_timeout;
    std::string sql = "INSERT INTO writes(note) VALUES ('" + o_.note + " " + std::to_string(a.seq) +
                      "') RETURNING id, inet_server_addr(), current_setting('cluster_name')";
    // The simple query protocol commits an implicit transaction before it
    // sends CommandComplete: a PGRES_TUPLES_OK result is an acknowledged commit.
    if (PQsetnonblocking(a.conn, 1) != 0 || !PQsendQuery(a.conn, sql.c_str())) {
      a.error = one_line(PQerrorMessage(a.conn));
      return;
    }
    flush(a);
  }

  void flush(Attempt& a) {
    int r = PQflush(a.conn);
    if (r < 0) a.error = one_line(PQerrorMessage(a.conn));
    a.flushing = r == 1;
  }

  void advance(Attempt& a) {
    if (a.phase == Phase::Connecting) {
      a.poll = PQconnectPoll(a.conn);
      if (a.poll == PGRES_POLLING_FAILED)
        a.error = one_line(PQerrorMessage(a.conn));
      else if (a.poll == PGRES_POLLING_OK)
        send_query(a);
      return;
    }
    if (a.flushing) flush(a);
    if (!a.error.empty()) return;
    if (!PQconsumeInput(a.conn)) {
      a.error = one_line(PQerrorMessage(a.conn));
      return;
    }
    // Drain every result up to the NULL that follows ReadyForQuery.
    while (!PQisBusy(a.conn)) {
      PGresult* r = PQgetResult(a.conn);
      if (!r) {
        a.drained = true;
        a.ok = a.refusal.empty() && !a.id.empty();
        if (!a.ok) a.error = a.refusal.empty() ? "no row returned" : a.refusal;
        return;
      }
      if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQnfields(r) == 3) {
        a.id = PQgetvalue(r, 0, 0);
        a.addr = PQgetvalue(r, 0, 1);
        a.cluster = PQgetvalue(r, 0, 2);
      } else if (a.refusal.empty()) {
        // Not finished yet: ReadyForQuery may still be on its way, and
        // only after it is the session idle and fit to keep.
        a.refusal = one_line(PQresultErrorMessage(r));
        if (a.refusal.empty()) a.refusal = PQresStatus(PQresultStatus(r));
      }
      PQclear(r);
    }
  }

  void finish(std::list<Attempt>::iterator it) {
    Attempt& a = *it;
    Ns end = now_ns();
    if (a.ok) {
      std::string addr = a.addr.substr(0, a.addr.find('/'));
      std::fprintf(o_.out, "%llu\t%lld\t%lld\tok\t%s\t%s\t%s\n",
                   static_cast<unsigned long long>(a.seq), static_cast<long long>(a.start),
                   static_cast<long long>(end), a.id.c_str(), addr.c_str(), a.cluster.c_str());
    } else {
      std::fprintf(o_.out, "%llu\t%lld\t%lld\terr\t-\t-\t-\t%s\n",
                   static_cast<unsigned long long>(a.seq), static_cast<long long>(a.start),
                   static_cast<long long>(end), a.error.c_str());
    }
    std::fflush(o_.out);
    // A refused INSERT (a standby's "read-only transaction") leaves a
    // healthy idle session: keeping it makes --keep at n2's own address
    // cost no connection per attempt, and the session may write as soon as
    // the server is promoted.
    if (o_.keep && !idle_ && a.drained && PQstatus(a.conn) == CONNECTION_OK &&
        PQtransactionStatus(a.conn) == PQTRANS_IDLE)
      idle_ = a.conn;
    else
      PQfinish(a.conn);
    inflight_.erase(it);
  }

  const Options& o_;
  std::list<Attempt> inflight_;
  PGconn* idle_ = nullptr;  // --keep: the open connection between attempts
};  // (connections left at exit are closed by the kernel)

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "vip_writer: %s\nusage: vip_writer [--interval-ms N] [--connect-timeout-ms N] "
               "[--statement-timeout-ms N] [--duration-s S] [--count N] [--max-inflight N] [--keep] "
               "[--note TEXT] [--out FILE] CONNINFO\n",
               msg);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  auto number = [&](int& i, double scale) -> Ns {
    if (i + 1 >= argc) usage((std::string(argv[i]) + " needs a value").c_str());
    char* end = nullptr;
    double v = std::strtod(argv[++i], &end);
    if (*end || v < 0) usage((std::string("bad number '") + argv[i] + "'").c_str());
    return static_cast<Ns>(v * scale);
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--interval-ms") o.interval = number(i, kMs);
    else if (a == "--connect-timeout-ms") o.connect_timeout = number(i, kMs);
    else if (a == "--statement-timeout-ms") o.statement_timeout = number(i, kMs);
    else if (a == "--duration-s") o.duration = number(i, 1e9);
    else if (a == "--count") o.count = static_cast<uint64_t>(number(i, 1));
    else if (a == "--max-inflight") o.max_inflight = static_cast<size_t>(number(i, 1));
    else if (a == "--keep") o.keep = true;
    else if (a == "--note" && i + 1 < argc) o.note = argv[++i];
    else if (a == "--out" && i + 1 < argc) {
      o.out = std::fopen(argv[++i], "w");
      if (!o.out) usage((std::string("cannot write ") + argv[i] + ": " + std::strerror(errno)).c_str());
    } else if (!a.starts_with("--") && o.conninfo.empty()) o.conninfo = a;
    else usage(("unexpected argument " + a).c_str());
  }
  if (o.conninfo.empty()) usage("CONNINFO is required");
  if (o.interval <= 0 || o.connect_timeout <= 0 || o.statement_timeout <= 0 || o.max_inflight == 0)
    usage("intervals, timeouts and --max-inflight must be positive");
  if (o.note.find_first_of("'\\") != std::string::npos) usage("--note must not contain ' or \\");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  // SIGTERM/SIGINT are blocked except inside ppoll, so a stop is never missed.
  sigset_t block, unblocked;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &unblocked);
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  Writer w(o);
  const Ns t0 = now_ns();
  Ns next = t0;
  uint64_t seq = 0;
  for (;;) {
    Ns t = now_ns();
    bool stopping = g_stop || (o.duration > 0 && t - t0 >= o.duration) ||
                    (o.count > 0 && seq >= o.count);
    if (stopping && w.inflight() == 0) break;
    if (!stopping && t >= next) {
      if (w.inflight() < o.max_inflight) w.start(++seq);  // else this tick is skipped
      next += o.interval;
      if (next <= t) next = t + o.interval;  // fell behind: no burst of catch-up attempts
    }
    Ns until = stopping ? t + 1'000'000'000 : next;
    if (!stopping && o.duration > 0 && t0 + o.duration < until) until = t0 + o.duration;
    w.step(until, &unblocked);
  }
  return 0;
}
