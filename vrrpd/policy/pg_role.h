// What a PostgreSQL server is, as the failover policy needs to know it.
// The checkers find it out (checkers/pg_facts.h); the policy judges by it.
#pragma once

namespace pgvrrpd {

enum class PgRole { unknown, primary, standby };
const char* to_string(PgRole role);

}  // namespace pgvrrpd
