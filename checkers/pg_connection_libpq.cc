// PgConnection on libpq's asynchronous API. Nothing here blocks except
// PQconnectStart's host name resolution (see pg_connection.h); PQfinish only
// writes a Terminate message to a non-blocking socket and closes it.
#include <libpq-fe.h>

#include "checkers/pg_connection.h"

namespace pgvrrpd::checkers {
namespace {

// libpq messages end in "\n" and may span lines (one per host tried).
std::string one_line(const char* message) {
  std::string out;
  for (const char* p = message ? message : ""; *p; ++p) {
    if (*p == '\n') {
      while (p[1] == '\t' || p[1] == ' ') ++p;  // libpq indents continuation lines
      if (p[1]) out += "; ";
    } else {
      out += *p;
    }
  }
  return out.empty() ? "unknown libpq error" : out;
}

class LibpqConnection final : public PgConnection {
 public:
  ~LibpqConnection() override {
    if (conn_) PQfinish(conn_);
  }

  Status start(const std::string& conninfo) override {
    conn_ = PQconnectStart(conninfo.c_str());
    if (!conn_) return Status::error("PQconnectStart: out of memory");
    if (PQstatus(conn_) == CONNECTION_BAD) return Status::error(one_line(PQerrorMessage(conn_)));
    return Status::success();
  }

  PgPoll poll() override {
    switch (PQconnectPoll(conn_)) {
      case PGRES_POLLING_READING:
        return PgPoll::reading;
      case PGRES_POLLING_WRITING:
        return PgPoll::writing;
      case PGRES_POLLING_OK:
        return PQsetnonblocking(conn_, 1) == 0 ? PgPoll::ok : PgPoll::failed;
      default:
        return PgPoll::failed;
    }
  }

  int socket() const override { return conn_ ? PQsocket(conn_) : -1; }
  bool send_query(const std::string& sql) override { return PQsendQuery(conn_, sql.c_str()) == 1; }
  int flush() override { return PQflush(conn_); }
  bool consume_input() override { return PQconsumeInput(conn_) == 1; }
  bool busy() override { return PQisBusy(conn_) == 1; }
  bool bad() const override { return !conn_ || PQstatus(conn_) == CONNECTION_BAD; }
  std::string error_message() const override {
    return conn_ ? one_line(PQerrorMessage(conn_)) : "no connection";
  }

  std::optional<PgResult> get_result() override {
    PGresult* res = PQgetResult(conn_);
    if (!res) return std::nullopt;
    PgResult out;
    ExecStatusType status = PQresultStatus(res);
    out.ok = status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK;
    if (!out.ok) out.error = one_line(PQresultErrorMessage(res));
    int ncols = PQnfields(res);
    for (int c = 0; c < ncols; ++c) out.columns.emplace_back(PQfname(res, c));
    for (int r = 0; r < PQntuples(res); ++r) {
      auto& row = out.rows.emplace_back();
      for (int c = 0; c < ncols; ++c) {
        if (PQgetisnull(res, r, c))
          row.emplace_back(std::nullopt);
        else
          row.emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
      }
    }
    PQclear(res);
    return out;
  }

 private:
  PGconn* conn_ = nullptr;
};

}  // namespace

std::unique_ptr<PgConnection> make_libpq_connection() { return std::make_unique<LibpqConnection>(); }

}  // namespace pgvrrpd::checkers
