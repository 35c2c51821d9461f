#include "notify/command.h"

namespace pgvrrpd::notify {

Result<Command> parse_command(std::string_view text) {
  constexpr std::string_view kShellSyntax = "'\"$;|&<>`\\";
  if (auto at = text.find_first_of(kShellSyntax); at != std::string_view::npos)
    return Status::error(fmt::format(
        "'{}' is shell syntax, and commands run without a shell (write a script)", text[at]));
  Command command;
  constexpr std::string_view kSpace = " \t";
  size_t pos = 0;
  while ((pos = text.find_first_not_of(kSpace, pos)) != std::string_view::npos) {
    size_t end = text.find_first_of(kSpace, pos);
    if (end == std::string_view::npos) end = text.size();
    command.argv.emplace_back(text.substr(pos, end - pos));
    pos = end;
  }
  if (command.argv.empty()) return Status::error("empty command");
  // A relative path would resolve against the daemon's working directory and
  // PATH, neither of which the security check could vouch for.
  if (command.path().front() != '/')
    return Status::error(fmt::format("{}: the program must be an absolute path", command.path()));
  return command;
}

}  // namespace pgvrrpd::notify
