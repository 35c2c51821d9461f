// The control socket pgvrrpctl talks to: a unix stream socket only root
// may connect to (mode 0600, and the peer's credentials are checked as
// well). One request line per connection, one answer, then the daemon
// closes it. Nothing here blocks the event loop: clients are read and
// written as their sockets allow, and dropped after a deadline.
#pragma once

#include <sys/types.h>

#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>

#include "vrrpd/basics/result.h"
#include "vrrpd/loop/event_loop_linux.h"

namespace pgvrrpd {

class ControlServer {
 public:
  // The answer to one request line (without its newline).
  using Handler = std::function<std::string(std::string_view request)>;
  static constexpr size_t kMaxRequest = 4096;
  static constexpr size_t kMaxClients = 16;
  static constexpr Duration kClientDeadline = std::chrono::seconds(5);

  ControlServer(EventLoop& loop, Handler handler);
  ~ControlServer();  // closes and removes the socket it made
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Makes the socket at `path` (and its directory, 0755, when missing). An
  // error when another process answers there (a second pgvrrpd), when the
  // directory is not root's alone, or when the path is something else than
  // a stale socket. Before the loop runs; start() watches it.
  Status bind(const std::string& path);
  // Starts accepting (the loop is open).
  Status start();

 private:
  struct Client {
    int fd = -1;
    std::string request;
    std::string answer;
    size_t written = 0;
    std::unique_ptr<Timer> deadline;
    bool dead = false;  // closed; erased by reap_ (not from its own callbacks)
    // Not root: answered with a refusal once its request is read (closing
    // with the request unread would reset the connection, and the client
    // would see no reason).
    bool denied = false;
  };
  void on_accept();
  void on_client(Client& client, uint32_t events);
  void answer(Client& client, std::string text);
  void write_some(Client& client);
  void drop(Client& client);
  void reap();

  EventLoop& loop_;
  Handler handler_;
  int fd_ = -1;
  std::string path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  std::list<Client> clients_;
  DeferredTask reap_;
};

}  // namespace pgvrrpd
