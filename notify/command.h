// A hook or exec-check command as configured: `/path/to/script arg1 arg2`.
// There is no shell: the first word is the program, the rest are literal
// arguments split on spaces and tabs. Shell syntax (quotes, $, ;, |, &, <, >,
// `, \) is refused rather than passed through, because an operator who writes
// it expects a shell to interpret it; they should write a script instead.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vrrpd/basics/result.h"

namespace pgvrrpd::notify {

struct Command {
  // argv[0] is the absolute path of the program. Never empty once parsed.
  std::vector<std::string> argv;
  const std::string& path() const { return argv.front(); }
};

// Splits `text` into words. Errors: empty command, shell syntax, a program
// that is not an absolute path.
Result<Command> parse_command(std::string_view text);

}  // namespace pgvrrpd::notify
