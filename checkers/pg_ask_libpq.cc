#include "checkers/pg_ask_libpq.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <memory>
#include <string_view>

#include <fmt/format.h>

namespace pgvrrpd::checkers {
namespace {

using Clock = std::chrono::steady_clock;

struct ConnectionCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;

std::string last_error(PGconn* conn) {
  std::string text = PQerrorMessage(conn);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  // libpq's messages span lines ("...failed: ...\n\tIs the server running"):
  // one line for the journal.
  std::string line;
  for (char c : text) {
    bool blank = c == '\n' || c == '\t' || c == ' ';
    if (blank && (line.empty() || line.back() == ' ')) continue;
    line += blank ? ' ' : c;
  }
  return line.empty() ? "unknown libpq error" : line;
}

// Waits until `fd` is ready for `events` or `deadline` passes.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, static_cast<int>(left.count()));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
  }
}

}  // namespace

Result<bool> ask_in_recovery(const std::string& conninfo, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  // Non-blocking connect, so that the whole question keeps to `timeout`
  // whatever connect_timeout the conninfo says.
  const char* keywords[] = {"dbname", nullptr};
  const char* values[] = {conninfo.c_str(), nullptr};
  Connection conn(PQconnectStartParams(keywords, values, 1));
  if (!conn) return Status::error("out of memory");
  if (PQstatus(conn.get()) == CONNECTION_BAD) return Status::error(last_error(conn.get()));
  for (PostgresPollingStatusType state = PGRES_POLLING_WRITING;;) {
    if (state == PGRES_POLLING_OK) break;
    if (state == PGRES_POLLING_FAILED) return Status::error(last_error(conn.get()));
    short events = state == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    if (!wait_for(PQsocket(conn.get()), events, deadline))
      return Status::error(fmt::format("no connection within {} ms", timeout.count()));
    state = PQconnectPoll(conn.get());
  }
  if (!PQsendQuery(conn.get(), "SELECT pg_is_in_recovery()"))
    return Status::error(last_error(conn.get()));
  for (;;) {
    if (PQflush(conn.get()) < 0) return Status::error(last_error(conn.get()));
    if (!PQisBusy(conn.get())) break;
    if (!wait_for(PQsocket(conn.get()), POLLIN, deadline))
      return Status::error(fmt::format("no answer within {} ms", timeout.count()));
    if (!PQconsumeInput(conn.get())) return Status::error(last_error(conn.get()));
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQgetResult(conn.get()), PQclear);
  if (!result || PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQntuples(result.get()) != 1)
    return Status::error(fmt::format("unexpected answer to pg_is_in_recovery(): {}",
                                     last_error(conn.get())));
  std::string_view value = PQgetvalue(result.get(), 0, 0);
  if (value == "t") return true;
  if (value == "f") return false;
  return Status::error(fmt::format("pg_is_in_recovery() answered '{}'", value));
}

std::string server_of(const std::string& conninfo) {
  std::string host = "(default)", port = "5432";
  if (PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr)) {
    for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (o->val == nullptr || *o->val == '\0') continue;
      std::string_view keyword = o->keyword;
      if (keyword == "host" || (keyword == "hostaddr" && host == "(default)")) host = o->val;
      if (keyword == "port") port = o->val;
    }
    PQconninfoFree(options);
  }
  return fmt::format("host {} port {}", host, port);
}

}  // namespace pgvrrpd::checkers
