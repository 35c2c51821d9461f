// libpq's judgement of a connection string, for the config parser
// (ConfigValidators::conninfo).
#pragma once

#include <string>
#include <vector>

namespace pgvrrpd::checkers {

// "" when libpq parses `conninfo`, else libpq's reason. PQconninfoParse is
// pure: no defaults, no service file, no connection.
std::string conninfo_error(const std::string& conninfo);

// The server a conninfo names over TCP: its numeric address (hostaddr, else
// a numeric host; the first of a list) and port ("5432" when none is given);
// an empty address when it names none (a socket directory, a name). For
// the switchover hook, which asks the same server the check asks.
struct ConninfoServer {
  std::string address;
  std::string port;
};
ConninfoServer conninfo_server(const std::string& conninfo);

// Removes from the process environment every variable libpq reads (PGHOST,
// PGHOSTADDR, PGPASSWORD, PGSERVICE, PGSSLMODE...: all names that begin
// with "PG", but for PGVRRPD_*) and returns their names. libpq fills whatever a conninfo
// leaves out from these; inherited from a unit file or a shell, they would
// point the checks at another server, or at a host name resolved on the
// daemon's only thread. Connection settings come from the config alone.
std::vector<std::string> unset_libpq_environment();

}  // namespace pgvrrpd::checkers
