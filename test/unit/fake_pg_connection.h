// A scripted stand-in for libpq behind PgConnection: servers by conninfo,
// each up or down, answering or hung, with the answer the test sets. The
// test delivers socket readiness itself (ready_events) and a fake clock.
#pragma once

#include <sys/epoll.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "checkers/pg_connection.h"
#include "checkers/pg_facts.h"

namespace pgvrrpd::checkers::testing {

struct FakeConnection;

struct FakeServer {
  bool up = true;             // accepts connections (else: refused at once)
  bool hang_connect = false;  // accepts TCP but never finishes the startup
  bool answers = true;        // answers queries (else they hang)
  std::optional<std::string> query_error;  // answer queries with this error
  PgResult answer;
  int connects = 0;  // start() calls
  int queries = 0;   // queries sent
  std::vector<std::string> sent;  // their text, in order
  std::set<FakeConnection*> open;
  // The server dies: every open connection sees EOF, new ones are refused.
  void kill();
  // pg_terminate_backend(): the sessions die, the server stays up.
  void terminate_sessions();
};

struct FakeNet {
  std::map<std::string, FakeServer> servers;  // by conninfo
  std::map<int, FakeConnection*> by_fd;
  int next_fd = 100;
  PgConnectionFactory factory();
};

struct FakeConnection final : PgConnection {
  explicit FakeConnection(FakeNet& net) : net(net) {}
  ~FakeConnection() override {
    if (server) server->open.erase(this);
    if (fd >= 0) net.by_fd.erase(fd);
  }

  Status start(const std::string& conninfo) override {
    server = &net.servers[conninfo];
    ++server->connects;
    if (!server->up) {
      server = nullptr;
      error = "connection to server failed: Connection refused";
      return Status::error(error);
    }
    fd = net.next_fd++;
    net.by_fd[fd] = this;
    server->open.insert(this);
    return Status::success();
  }
  PgPoll poll() override {
    if (closed) {
      error = "server closed the connection unexpectedly";
      return PgPoll::failed;
    }
    if (server->hang_connect) return PgPoll::reading;
    if (++polls < 2) return PgPoll::reading;
    connected = true;
    return PgPoll::ok;
  }
  int socket() const override { return fd; }
  bool send_query(const std::string& sql) override {
    if (closed) return false;
    ++server->queries;
    server->sent.push_back(sql);
    sent = true;
    return true;
  }
  int flush() override { return closed ? -1 : 0; }
  bool consume_input() override {
    if (closed) {
      error = "server closed the connection unexpectedly";
      return false;
    }
    if (sent && server->answers) arrived = true;
    return true;
  }
  bool busy() override { return sent && !arrived; }
  std::optional<PgResult> get_result() override {
    if (arrived && !delivered) {
      delivered = true;
      if (server->query_error) return PgResult{false, *server->query_error, {}, {}};
      return server->answer;
    }
    sent = arrived = delivered = false;
    return std::nullopt;
  }
  bool bad() const override { return closed; }
  std::string error_message() const override { return error; }

  // What epoll would report for this socket now.
  uint32_t ready_events() const {
    if (closed) return EPOLLIN | EPOLLHUP;
    if (!connected) return server->hang_connect ? EPOLLOUT : EPOLLIN | EPOLLOUT;
    uint32_t ev = EPOLLOUT;
    if (sent && !arrived && server->answers) ev |= EPOLLIN;
    return ev;
  }

  FakeNet& net;
  FakeServer* server = nullptr;
  int fd = -1;
  int polls = 0;
  bool connected = false;
  bool closed = false;
  bool sent = false, arrived = false, delivered = false;
  std::string error;
};

inline void FakeServer::kill() {
  up = false;
  for (FakeConnection* c : open) c->closed = true;
}

inline void FakeServer::terminate_sessions() {
  for (FakeConnection* c : open) c->closed = true;
}

inline PgConnectionFactory FakeNet::factory() {
  return [this] { return std::make_unique<FakeConnection>(*this); };
}

// Answers to kFactsQuery, as PostgreSQL 15 prints them.
struct Answer {
  bool standby = false;
  std::optional<std::string> current_lsn = "0/3000060";
  std::optional<std::string> insert_timeline = "1";
  std::optional<std::string> receive_lsn;
  std::optional<std::string> replay_lsn;
  std::optional<std::string> replay_lag_seconds;
  std::string checkpoint_timeline = "1";
  std::optional<std::string> receiver_status;
  std::optional<std::string> receiver_timeline;
  std::optional<std::string> receiver_latest_end_lsn;
  std::string sync_standby_names;
  std::optional<std::string> sender_state;
  std::optional<std::string> sender_name;
  std::optional<std::string> sender_sync_state;
  std::optional<std::string> sender_flush_lsn;

  static Answer primary(std::string lsn = "0/3000060", std::string tli = "1") {
    Answer a;
    a.current_lsn = lsn;
    a.insert_timeline = tli;
    return a;
  }
  static Answer streaming_standby(std::string received, std::string replayed) {
    Answer a;
    a.standby = true;
    a.current_lsn.reset();
    a.insert_timeline.reset();
    a.receive_lsn = received;
    a.replay_lsn = replayed;
    a.replay_lag_seconds = "0";
    a.receiver_status = "streaming";
    a.receiver_timeline = "1";
    a.receiver_latest_end_lsn = received;
    return a;
  }
  PgResult result() const {
    PgResult r;
    r.ok = true;
    r.columns = {"in_recovery", "system_identifier", "current_lsn", "insert_timeline",
                 "receive_lsn", "replay_lsn", "replay_lag_seconds", "checkpoint_timeline",
                 "receiver_status", "receiver_timeline", "receiver_latest_end_lsn",
                 "sync_standby_names", "sender_state", "sender_name",
                 "sender_sync_state", "sender_flush_lsn"};
    r.rows.push_back({standby ? "t" : "f", "7311234567890123456", current_lsn, insert_timeline,
                      receive_lsn, replay_lsn, replay_lag_seconds, checkpoint_timeline,
                      receiver_status, receiver_timeline, receiver_latest_end_lsn,
                      sync_standby_names, sender_state, sender_name,
                      sender_sync_state, sender_flush_lsn});
    return r;
  }
};

}  // namespace pgvrrpd::checkers::testing
