// libpq's judgement of a connection string, for the config parser
// (ConfigValidators::conninfo).
#pragma once

#include <string>

namespace pgvrrpd::checkers {

// "" when libpq parses `conninfo`, else libpq's reason. PQconninfoParse is
// pure: no defaults, no service file, no connection.
std::string conninfo_error(const std::string& conninfo);

}  // namespace pgvrrpd::checkers
