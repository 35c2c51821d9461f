// Script security: every refusal reason, on directories with chosen modes.
// The suite runs as root, so chown to nobody (65534) stands in for "another
// user". The tree is made under a directory whose own ancestors are safe
// (the test binary's directory, else /run), since /tmp itself is refused.
#include "notify/script_security.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "runtime_skip.h"

namespace pgvrrpd::notify {
namespace {

namespace fs = std::filesystem;
constexpr uid_t kNobody = 65534;

bool chain_is_safe(const fs::path& dir) {
  for (fs::path p = dir;; p = p.parent_path()) {
    struct stat st {};
    if (stat(p.c_str(), &st) < 0 || st.st_uid != 0 || (st.st_mode & S_IWOTH) ||
        ((st.st_mode & S_IWGRP) && st.st_gid != 0))
      return false;
    if (p == p.parent_path()) return true;
  }
}

// A fresh root-owned 0755 directory whose whole chain passes the check.
struct SafeTree {
  fs::path root;
  SafeTree() {
    char exe[PATH_MAX] = {};
    REQUIRE(readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
    fs::path base = fs::path(exe).parent_path();
    if (!chain_is_safe(base)) base = "/run";
    REQUIRE(chain_is_safe(base));
    std::string tmpl = (base / "hooksec-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    root = tmpl;
    chmod(root.c_str(), 0755);
  }
  ~SafeTree() { fs::remove_all(root); }

  fs::path dir(const std::string& name, mode_t mode, uid_t uid = 0, gid_t gid = 0) const {
    fs::path p = root / name;
    fs::create_directories(p);
    REQUIRE(chown(p.c_str(), uid, gid) == 0);
    REQUIRE(chmod(p.c_str(), mode) == 0);
    return p;
  }
  static std::string script(const fs::path& path, mode_t mode = 0755, uid_t uid = 0,
                            gid_t gid = 0) {
    std::ofstream(path) << "#!/bin/sh\nexit 0\n";
    REQUIRE(chown(path.c_str(), uid, gid) == 0);
    REQUIRE(chmod(path.c_str(), mode) == 0);
    return path.string();
  }
};

std::string refusal(const std::string& text) {
  auto result = check_command("on_master", text);
  REQUIRE_FALSE(result.is_ok());
  return result.status().message();
}

TEST_CASE("hook security: a root-owned script in root-owned directories passes, with arguments") {
  SKIP_UNLESS_ROOT("files owned by root and by others");
  SafeTree tree;
  auto script = SafeTree::script(tree.dir("ok", 0755) / "promote.sh");
  auto result = check_command("on_master", script + "  --force\tnow ");
  REQUIRE(result.is_ok());
  CHECK(result->argv == std::vector<std::string>{script, "--force", "now"});
  // Group-writable is fine when the group is root.
  auto grouped = SafeTree::script(tree.dir("grp", 0775, 0, 0) / "x.sh", 0775, 0, 0);
  CHECK(check_command("notify", grouped).is_ok());
}

TEST_CASE("hook security: command syntax refusals") {
  CHECK(refusal("") == "on_master: empty command");
  CHECK(refusal("promote.sh") ==
        "on_master promote.sh: promote.sh: the program must be an absolute path");
  CHECK(refusal("/bin/echo a; rm -rf /") ==
        "on_master /bin/echo a; rm -rf /: ';' is shell syntax, and commands run without a shell "
        "(write a script)");
  CHECK(refusal("/bin/echo \"a b\"").find("'\"' is shell syntax") != std::string::npos);
  CHECK(refusal("/bin/echo $HOME").find("'$' is shell syntax") != std::string::npos);
}

TEST_CASE("hook security: the file itself") {
  SKIP_UNLESS_ROOT("files owned by root and by others");
  SafeTree tree;
  auto dir = tree.dir("d", 0755);
  CHECK(refusal((dir / "missing.sh").string()) ==
        "on_master " + (dir / "missing.sh").string() + ": stat: No such file or directory");
  CHECK(refusal(dir.string()) == "on_master " + dir.string() + ": is not a regular file");
  auto plain = SafeTree::script(dir / "plain.sh", 0644);
  CHECK(refusal(plain) == "on_master " + plain + ": is not executable");
  auto owned = SafeTree::script(dir / "owned.sh", 0755, kNobody, 0);
  CHECK(refusal(owned) == "on_master " + owned + ": is owned by uid 65534, not root");
  auto group = SafeTree::script(dir / "group.sh", 0775, 0, kNobody);
  CHECK(refusal(group) == "on_master " + group + ": is writable by group 65534");
  auto other = SafeTree::script(dir / "other.sh", 0757);
  CHECK(refusal(other) == "on_master " + other + ": is writable by others");
}

// An access ACL as setfacl stores it (acl_ea_header, then entries of tag,
// perm, id): user::rwx, user:nobody:rwx, group::r-x, mask::rwx, other::r-x.
void grant_nobody_write(const fs::path& path) {
  struct Entry {
    uint16_t tag, perm;
    uint32_t id;
  };
  const uint32_t version = 2;
  const Entry entries[] = {{0x01, 7, ~0u}, {0x02, 7, kNobody}, {0x04, 5, ~0u},
                           {0x10, 7, ~0u}, {0x20, 5, ~0u}};
  std::string blob(reinterpret_cast<const char*>(&version), sizeof version);
  blob.append(reinterpret_cast<const char*>(entries), sizeof entries);
  REQUIRE(setxattr(path.c_str(), "system.posix_acl_access", blob.data(), blob.size(), 0) == 0);
}

TEST_CASE("hook security: a POSIX ACL on the file or a directory above it is refused") {
  SKIP_UNLESS_ROOT("files owned by root and by others");
  SafeTree tree;
  auto script = SafeTree::script(tree.dir("acl", 0755) / "promote.sh");
  REQUIRE(check_command("on_master", script).is_ok());
  grant_nobody_write(script);
  CHECK(refusal(script) == "on_master " + script +
                               ": has a POSIX ACL naming other users or groups (getfacl shows "
                               "it; remove it with setfacl -b)");
  auto dir = tree.dir("acl-dir", 0755);
  auto inside = SafeTree::script(dir / "fence.sh");
  grant_nobody_write(dir);
  CHECK(refusal(inside).find(": directory " + dir.string() + " has a POSIX ACL") !=
        std::string::npos);
}

TEST_CASE("hook security: any directory above the file") {
  SKIP_UNLESS_ROOT("files owned by root and by others");
  SafeTree tree;
  auto open_dir = tree.dir("open", 0777);
  auto s1 = SafeTree::script(open_dir / "x.sh");
  CHECK(refusal(s1) == "on_master " + s1 + ": directory " + open_dir.string() +
                           " is writable by others");
  // Sticky does not make it acceptable: the rule stays one sentence.
  auto sticky = tree.dir("sticky", 01777);
  auto s2 = SafeTree::script(sticky / "x.sh");
  CHECK(refusal(s2) == "on_master " + s2 + ": directory " + sticky.string() +
                           " is writable by others");
  auto owned = tree.dir("owned", 0755, kNobody, 0);
  auto s3 = SafeTree::script(owned / "x.sh");
  CHECK(refusal(s3) == "on_master " + s3 + ": directory " + owned.string() +
                           " is owned by uid 65534, not root");
  // An ancestor, not the parent: grand/child is fine, grand is not.
  auto grand = tree.dir("grand", 0775, 0, kNobody);
  auto child = tree.dir("grand/child", 0755);
  auto s4 = SafeTree::script(child / "x.sh");
  CHECK(refusal(s4) == "on_master " + s4 + ": directory " + grand.string() +
                           " is writable by group 65534");
}

TEST_CASE("hook security: a symlink is checked along the path it resolves to as well") {
  SKIP_UNLESS_ROOT("files owned by root and by others");
  SafeTree tree;
  auto unsafe = tree.dir("unsafe", 0777);
  auto target = SafeTree::script(unsafe / "real.sh");
  auto safe = tree.dir("safe", 0755);
  fs::create_symlink(target, safe / "link.sh");
  auto link = (safe / "link.sh").string();
  CHECK(refusal(link) == "on_master " + link + ": resolves to " + target + ": directory " +
                             unsafe.string() + " is writable by others");
}

TEST_CASE("hook security: a script under /tmp is refused because of /tmp") {
  SKIP_UNLESS_ROOT("files owned by root and by others");
  char tmpl[] = "/tmp/pgvrrpd-hooksec-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  auto script = SafeTree::script(fs::path(tmpl) / "x.sh");
  CHECK(refusal(script) == "on_master " + script + ": directory /tmp is writable by others");
  fs::remove_all(tmpl);
}

}  // namespace
}  // namespace pgvrrpd::notify
