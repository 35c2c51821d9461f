#include "vrrpd/wiring/control_server_linux.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "vrrpd/basics/log.h"

namespace pgvrrpd {
namespace {

sockaddr_un address_of(const std::string& path) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, path.data(), std::min(path.size(), sizeof un.sun_path - 1));
  return un;
}

// Whether a process accepts connections on the socket at `path`.
bool someone_listens(const std::string& path) {
  // Non-blocking: a stopped daemon's full queue must not hang this start
  // (EAGAIN: someone listens, and is stuck).
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  sockaddr_un un = address_of(path);
  bool listening = connect(fd, reinterpret_cast<sockaddr*>(&un), sizeof un) == 0 ||
                   errno == EAGAIN;
  close(fd);
  return listening;
}

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

ControlServer::ControlServer(EventLoop& loop, Handler handler)
    : loop_(loop), handler_(std::move(handler)), reap_(loop, [this] { reap(); }) {}

ControlServer::~ControlServer() {
  for (Client& client : clients_) drop(client);
  clients_.clear();
  if (fd_ < 0) return;
  loop_.unwatch(fd_);
  close(fd_);
  // Only our own socket: a later pgvrrpd may have replaced it.
  struct stat st {};
  if (lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
    unlink(path_.c_str());
}

Status ControlServer::bind(const std::string& path) {
  std::string dir = directory_of(path);
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT || mkdir(dir.c_str(), 0755) != 0 || lstat(dir.c_str(), &st) != 0)
      return Status::from_errno(fmt::format("control socket directory {}", dir));
  }
  // Whoever may write the directory may replace the socket: root, or the
  // user pgvrrpd runs as (the unit's User=, owner of its RuntimeDirectory).
  if (!S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
      (st.st_mode & (S_IWGRP | S_IWOTH)))
    return Status::error(fmt::format("control socket directory {}: must be a directory owned "
                                     "by root or by pgvrrpd's user, and writable by its owner "
                                     "only",
                                     dir));
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return Status::error(fmt::format("control socket {}: exists and is not a socket", path));
    if (someone_listens(path))
      return Status::error(fmt::format("control socket {}: another pgvrrpd answers there "
                                       "(two daemons need two control_socket paths)",
                                       path));
    if (unlink(path.c_str()) != 0)
      return Status::from_errno(fmt::format("control socket {}: removing the stale one", path));
  }
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) return Status::from_errno("control socket");
  sockaddr_un un = address_of(path);
  // 0600 from the start: no moment in which others could connect.
  mode_t old_mask = umask(0177);
  int rc = ::bind(fd_, reinterpret_cast<sockaddr*>(&un), sizeof un);
  umask(old_mask);
  if (rc != 0 || listen(fd_, 16) != 0 || lstat(path.c_str(), &st) != 0) {
    auto status = Status::from_errno(fmt::format("control socket {}", path));
    close(fd_);
    fd_ = -1;
    return status;
  }
  path_ = path;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  return Status::success();
}

Status ControlServer::start() {
  if (fd_ < 0) return Status::error("control socket not bound");
  if (!loop_.watch(fd_, EPOLLIN, [this](uint32_t) { on_accept(); }))
    return Status::error("cannot watch the control socket");
  return Status::success();
}

void ControlServer::on_accept() {
  for (;;) {
    int fd = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        log::warning("control socket: accept: {}", std::strerror(errno));
      return;
    }
    auto live = std::count_if(clients_.begin(), clients_.end(),
                              [](const Client& c) { return !c.dead; });
    if (static_cast<size_t>(live) >= kMaxClients) {
      close(fd);
      continue;
    }
    Client& client = clients_.emplace_back();
    client.fd = fd;
    client.deadline = std::make_unique<Timer>(loop_, [this, &client] { drop(client); });
    client.deadline->arm(loop_.now() + kClientDeadline);
    if (!loop_.watch(fd, EPOLLIN, [this, &client](uint32_t events) { on_client(client, events); })) {
      drop(client);
      continue;
    }
    // The socket's mode keeps others out; the credentials say it again, in
    // case the mode was changed by hand. Root, and pgvrrpd's own user (who
    // could signal or replace it anyway).
    ucred peer{};
    socklen_t length = sizeof peer;
    client.denied = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 ||
                    (peer.uid != 0 && peer.uid != geteuid());
  }
}

void ControlServer::on_client(Client& client, uint32_t events) {
  if (!client.answer.empty()) {
    write_some(client);
    return;
  }
  char buf[512];
  for (;;) {
    ssize_t n = read(client.fd, buf, sizeof buf);
    if (n > 0) {
      client.request.append(buf, static_cast<size_t>(n));
      auto newline = client.request.find('\n');
      if (newline != std::string::npos) {
        std::string request = client.request.substr(0, newline);
        answer(client, client.denied
                           ? "error: permission denied: only root and pgvrrpd's own user may "
                             "use pgvrrpd's control socket\n"
                           : handler_(request));
        return;
      }
      if (client.request.size() > kMaxRequest) {
        answer(client, "error: request too long\n");
        return;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    drop(client);  // EOF before a whole line, or an error
    return;
  }
  (void)events;
}

void ControlServer::answer(Client& client, std::string text) {
  if (text.empty()) text.push_back('\n');
  client.answer.swap(text);
  loop_.unwatch(client.fd);
  if (!loop_.watch(client.fd, EPOLLOUT,
                   [this, &client](uint32_t events) { on_client(client, events); })) {
    drop(client);
    return;
  }
  write_some(client);
}

void ControlServer::write_some(Client& client) {
  while (client.written < client.answer.size()) {
    ssize_t n = send(client.fd, client.answer.data() + client.written,
                     client.answer.size() - client.written, MSG_NOSIGNAL);
    if (n > 0) {
      client.written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    break;  // the client went away
  }
  drop(client);
}

void ControlServer::drop(Client& client) {
  if (client.dead) return;
  client.dead = true;
  loop_.unwatch(client.fd);
  close(client.fd);
  client.fd = -1;
  // Erased later: this may run inside the client's own timer callback.
  reap_.post(loop_.now());
}

void ControlServer::reap() {
  clients_.remove_if([](const Client& c) { return c.dead; });
}

}  // namespace pgvrrpd
