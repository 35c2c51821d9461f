// A small interface over the asynchronous libpq calls the postgres checker
// uses, so the checker's state machine can be tested with a fake and run for
// real with libpq (pg_connection_libpq.cc). Every call is non-blocking: the
// caller waits for socket readiness in the event loop and calls back in.
// Mirrors libpq's names (PQconnectStart, PQconnectPoll, PQsendQuery, ...).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vrrpd/basics/result.h"

namespace pgvrrpd::checkers {

// PostgresPollingStatusType, without PGRES_POLLING_ACTIVE (unused since 7.4).
enum class PgPoll { reading, writing, ok, failed };

// One PGresult, copied out (PQclear'ed by the implementation).
struct PgResult {
  bool ok = false;    // PGRES_TUPLES_OK or PGRES_COMMAND_OK
  std::string error;  // when !ok: the server's or libpq's message, one line
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // nullopt = SQL NULL
};

class PgConnection {
 public:
  virtual ~PgConnection() = default;

  // PQconnectStart. An error when no attempt could be started (bad conninfo,
  // out of memory, or a connect that already failed, e.g. a Unix socket that
  // refused). Otherwise the caller waits for the socket to be writable, then
  // calls poll(). NOTE: libpq resolves host names here, synchronously; use
  // addresses (hostaddr) in conninfo.
  virtual Status start(const std::string& conninfo) = 0;
  // PQconnectPoll; on ok the connection is also made non-blocking
  // (PQsetnonblocking). socket() may change across calls.
  virtual PgPoll poll() = 0;
  // PQsocket: -1 when there is none.
  virtual int socket() const = 0;
  // PQsendQuery. False on failure (error_message() says why).
  virtual bool send_query(const std::string& sql) = 0;
  // PQflush: 0 all sent, 1 more to send (wait for writable), -1 failure.
  virtual int flush() = 0;
  // PQconsumeInput. False when the connection failed or the server closed it.
  virtual bool consume_input() = 0;
  // PQisBusy: true while PQgetResult would block.
  virtual bool busy() = 0;
  // PQgetResult; nullopt when the query's results are complete.
  // REQUIRES: !busy().
  virtual std::optional<PgResult> get_result() = 0;
  // PQstatus(conn) == CONNECTION_BAD.
  virtual bool bad() const = 0;
  // PQerrorMessage, newlines folded into one line.
  virtual std::string error_message() const = 0;
};

using PgConnectionFactory = std::function<std::unique_ptr<PgConnection>()>;

// The real thing, on libpq.
std::unique_ptr<PgConnection> make_libpq_connection();

}  // namespace pgvrrpd::checkers
