// Running hooks as `hook_user`. posix_spawn cannot change credentials, so
// when the hook user is not the daemon's user the hook is started through
// util-linux setpriv(1) (in every Debian base system):
//   setpriv --reuid=UID --regid=GID --init-groups -- PROGRAM ARGS...
// This keeps the daemon on posix_spawn (no code of ours runs between fork
// and exec, where only async-signal-safe calls are allowed), and the
// supplementary-group lookup (NSS, possibly slow) happens in the child, not
// in the event loop. Dropping from root to another uid clears all
// capabilities (no SECBIT_KEEP_CAPS), so a hook user gets none of the
// daemon's.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "vrrpd/basics/result.h"

namespace pgvrrpd::notify {

inline constexpr const char* kSetprivPath = "/usr/bin/setpriv";

struct RunAs {
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;  // the user's primary group
};

// Config time: looks `user` up (getpwnam, may block on NSS) and, when it is
// not the daemon's own user, checks that the daemon is root and that setpriv
// exists and is safe to run (script_security.h). An empty `user` (no
// hook_user in the file) is the daemon's own.
Result<RunAs> resolve_hook_user(const std::string& user);

// Whether running as `run_as` needs setpriv: a uid or gid other than the
// daemon's effective ones.
bool needs_setpriv(const RunAs& run_as);

// `argv` as it must be spawned to run as `run_as` (unchanged when the daemon
// already is that user).
std::vector<std::string> run_as_argv(const std::vector<std::string>& argv,
                                     const std::optional<RunAs>& run_as);

}  // namespace pgvrrpd::notify
