// The control socket server: a Unix-domain stream socket served from the
// control thread's loop with poll(), never blocking on a client.
//
// Every client has bounded buffers: a request line longer than the limit is
// refused and the client closed; a client that does not read its replies
// stops being served (its requests wait) once its output passes the high
// watermark, and is closed when it makes no progress for the idle timeout;
// at most max_clients are served, later ones get an error and are closed.
//
// A handler may defer a reply (e.g. `reload` answers only once no worker can
// still use what it removed): the client's later requests wait behind it, so
// replies stay in order, while every other client is served as usual.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace edgefwd::control {

struct SocketLimits {
  size_t max_clients = 64;
  size_t max_line_bytes = 4096;
  size_t output_high_watermark = 1 << 20;  // stop reading requests above this
  size_t max_requests_per_turn = 1024;     // per client, so one client cannot starve the rest
  std::chrono::milliseconds idle_timeout{30'000};
};

// What a handler answers: the framed response now, or a way to ask for it
// later. `pending` is called once per loop turn (never blocking) until it
// returns the framed response.
struct SocketReply {
  SocketReply(std::string framed) : text(std::move(framed)) {}  // NOLINT: implicit on purpose
  static SocketReply Deferred(std::function<std::optional<std::string>()> pending) {
    SocketReply r{std::string()};
    r.pending = std::move(pending);
    return r;
  }
  std::string text;
  std::function<std::optional<std::string>()> pending;
};

class ControlSocket {
 public:
  // Gets one request line (without '\n'), returns the framed response.
  using Handler = std::function<SocketReply(std::string_view line)>;

  // Binds `path` with mode 0600. A stale socket file (nobody listening) is
  // replaced; a live one is an error (another daemon owns it).
  static absl::StatusOr<std::unique_ptr<ControlSocket>> Listen(const std::string& path,
                                                               SocketLimits limits,
                                                               Handler handler);
  ~ControlSocket();  // closes every client and removes the socket file

  // Serves ready clients; waits at most timeout_ms (0 if work is pending).
  void Poll(int timeout_ms);
  size_t client_count() const { return clients_.size(); }
  // Clients whose next reply is deferred (waiting for it).
  size_t deferred_count() const;
  const std::string& path() const { return path_; }

 private:
  struct Client;
  ControlSocket(int fd, std::string path, SocketLimits limits, Handler handler);
  void Accept();
  // Returns false when the client must be closed now.
  bool ReadFrom(Client& c);
  void Serve(Client& c);
  bool WriteTo(Client& c);

  int listen_fd_;
  std::string path_;
  SocketLimits limits_;
  Handler handler_;
  std::vector<std::unique_ptr<Client>> clients_;
  bool work_pending_ = false;
  bool has_deferred_ = false;  // some client waits for a deferred reply
  static constexpr int kDeferredRecheckMs = 1;
};

}  // namespace edgefwd::control
