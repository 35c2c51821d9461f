#include "notify/script_security.h"

#include <sys/stat.h>
#include <sys/xattr.h>

#include <climits>
#include <cstdlib>
#include <set>

namespace pgvrrpd::notify {
namespace {

// Why `path` (whose stat is `st`) lets a non-root user change it, or ""
// when only root can. An access ACL is stored only when it says more than
// the mode bits (named users or groups): refused whatever it grants, as the
// mode no longer tells who may write.
std::string who_can_write(const std::string& path, const struct stat& st) {
  if (st.st_uid != 0) return fmt::format("is owned by uid {}, not root", st.st_uid);
  if ((st.st_mode & S_IWGRP) && st.st_gid != 0)
    return fmt::format("is writable by group {}", st.st_gid);
  if (st.st_mode & S_IWOTH) return "is writable by others";
  if (getxattr(path.c_str(), "system.posix_acl_access", nullptr, 0) > 0)
    return "has a POSIX ACL naming other users or groups (getfacl shows it; remove it with "
           "setfacl -b)";
  return "";
}

std::string parent_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// Walks from the directory holding `path` up to "/", skipping ones already
// checked on another chain.
Status check_ancestors(const std::string& path, std::set<std::string>& checked) {
  std::string dir = path;
  do {
    dir = parent_of(dir);
    if (!checked.insert(dir).second) continue;
    struct stat st {};
    if (stat(dir.c_str(), &st) < 0) return Status::from_errno(fmt::format("directory {}", dir));
    if (auto why = who_can_write(dir, st); !why.empty())
      return Status::error(fmt::format("directory {} {}", dir, why));
  } while (dir != "/");
  return Status::success();
}

}  // namespace

Status check_program_security(const std::string& path) {
  if (path.empty() || path.front() != '/') return Status::error("not an absolute path");
  struct stat st {};
  if (stat(path.c_str(), &st) < 0) return Status::from_errno("stat");
  if (!S_ISREG(st.st_mode)) return Status::error("is not a regular file");
  if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) return Status::error("is not executable");
  if (auto why = who_can_write(path, st); !why.empty()) return Status::error(why);

  std::set<std::string> checked;
  // Whoever can write a directory on the written path can swap a symlink or
  // the file; whoever can write one on the resolved path can do the same to
  // the target. Check both chains.
  if (auto s = check_ancestors(path, checked); !s) return s;
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) return Status::from_errno("realpath");
  if (std::string real = resolved; real != path) {
    if (auto s = check_ancestors(real, checked); !s) return s.with_context(fmt::format("resolves to {}", real));
  }
  return Status::success();
}

Status check_config_file_security(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) < 0) return Status::from_errno("stat");
  if (!S_ISREG(st.st_mode)) return Status::error("is not a regular file");
  if (auto why = who_can_write(path, st); !why.empty())
    return Status::error(fmt::format("{}: it names programs pgvrrpd runs as root, so only root "
                                     "may change it",
                                     why));
  return Status::success();
}

Result<Command> check_command(std::string_view key, std::string_view text) {
  auto command = parse_command(text);
  if (!command) {
    auto context = text.empty() ? std::string(key) : fmt::format("{} {}", key, text);
    return command.status().with_context(context);
  }
  if (auto s = check_program_security(command->path()); !s)
    return s.with_context(fmt::format("{} {}", key, command->path()));
  return command;
}

}  // namespace pgvrrpd::notify
