#include "notify/run_as_linux.h"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>

#include "notify/script_security.h"

namespace pgvrrpd::notify {

namespace {

// The daemon's own user, by name where the user database knows it.
std::string own_user_name() {
  const passwd* pw = getpwuid(geteuid());
  return pw != nullptr ? std::string(pw->pw_name) : fmt::format("uid {}", geteuid());
}

}  // namespace

Result<RunAs> resolve_hook_user(const std::string& user) {
  if (user.empty()) return RunAs{own_user_name(), geteuid(), getegid()};
  errno = 0;
  const passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr) {
    if (errno != 0) return Status::from_errno(fmt::format("hook_user {}", user));
    return Status::error(fmt::format("hook_user {}: no such user", user));
  }
  RunAs run_as{user, pw->pw_uid, pw->pw_gid};
  if (needs_setpriv(run_as)) {
    // Only root may change user (the unit grants no CAP_SETUID to others):
    // said now, not at the first failover.
    if (geteuid() != 0) {
      std::string self = own_user_name();
      return Status::error(fmt::format(
          "hook_user {}: pgvrrpd runs as {}, not root, and cannot run hooks as another user "
          "(leave hook_user out to run them as {}, or run pgvrrpd as root)",
          user, self, self));
    }
    if (auto s = check_program_security(kSetprivPath); !s)
      return s.with_context(fmt::format("hook_user {} needs {}", user, kSetprivPath));
  }
  return run_as;
}

bool needs_setpriv(const RunAs& run_as) {
  return run_as.uid != geteuid() || run_as.gid != getegid();
}

std::vector<std::string> run_as_argv(const std::vector<std::string>& argv,
                                     const std::optional<RunAs>& run_as) {
  if (!run_as || !needs_setpriv(*run_as)) return argv;
  std::vector<std::string> wrapped = {
      kSetprivPath,
      fmt::format("--reuid={}", run_as->uid),
      fmt::format("--regid={}", run_as->gid),
      // The user's supplementary groups (e.g. postgres in ssl-cert), looked
      // up by setpriv in the child.
      "--init-groups",
      "--",
  };
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

}  // namespace pgvrrpd::notify
