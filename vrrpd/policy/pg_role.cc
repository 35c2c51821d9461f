#include "vrrpd/policy/pg_role.h"

namespace pgvrrpd {

const char* to_string(PgRole role) {
  switch (role) {
    case PgRole::primary:
      return "primary";
    case PgRole::standby:
      return "standby";
    case PgRole::unknown:
      break;
  }
  return "unknown";
}

}  // namespace pgvrrpd
