#include "control/control_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "control/protocol.h"

namespace edgefwd::control {

using Clock = std::chrono::steady_clock;

struct ControlSocket::Client {
  int fd = -1;
  std::string in;
  std::string out;
  size_t out_sent = 0;
  Clock::time_point last_progress = Clock::now();
  bool eof = false;          // peer finished sending
  bool close_after = false;  // close once `out` is flushed
  // Set while the reply to the last served request is deferred: nothing
  // more is served to this client until it yields the reply.
  std::function<std::optional<std::string>()> deferred;
  ~Client() {
    if (fd >= 0) ::close(fd);
  }
  size_t pending_out() const { return out.size() - out_sent; }
};

namespace {

std::string Errno(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ControlSocket>> ControlSocket::Listen(const std::string& path,
                                                                     SocketLimits limits,
                                                                     Handler handler) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError("control socket path '" + path + "': empty or too long");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(Errno("control socket"));

  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      ::close(fd);
      return absl::AlreadyExistsError("control socket path '" + path +
                                      "' exists and is not a socket");
    }
    // Someone answering means another daemon owns it; nobody means stale.
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool live =
        probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    if (probe >= 0) ::close(probe);
    if (live) {
      ::close(fd);
      return absl::AlreadyExistsError("control socket '" + path + "' is in use by another process");
    }
    ::unlink(path.c_str());
  }
  // Created 0600 from the start: no window where others could connect.
  const mode_t old_umask = ::umask(0177);
  const int bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::umask(old_umask);
  if (bound != 0) {
    std::string err = Errno(("bind " + path).c_str());
    ::close(fd);
    return absl::InternalError(err);
  }
  ::chmod(path.c_str(), 0600);
  if (::listen(fd, 128) != 0) {
    std::string err = Errno("listen");
    ::close(fd);
    ::unlink(path.c_str());
    return absl::InternalError(err);
  }
  return std::unique_ptr<ControlSocket>(new ControlSocket(fd, path, limits, std::move(handler)));
}

ControlSocket::ControlSocket(int fd, std::string path, SocketLimits limits, Handler handler)
    : listen_fd_(fd), path_(std::move(path)), limits_(limits), handler_(std::move(handler)) {}

ControlSocket::~ControlSocket() {
  clients_.clear();
  ::close(listen_fd_);
  ::unlink(path_.c_str());
}

void ControlSocket::Accept() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error: try again next turn
    if (clients_.size() >= limits_.max_clients) {
      // Best effort, non-blocking: the reply fits any socket buffer.
      const std::string reply =
          FormatResponse(absl::UnavailableError("too many control clients"), "");
      (void)!::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      continue;
    }
    auto c = std::make_unique<Client>();
    c->fd = fd;
    clients_.push_back(std::move(c));
  }
}

bool ControlSocket::ReadFrom(Client& c) {
  char buf[16384];
  // Read only what the limits allow: input beyond one line plus a little
  // pipelining waits in the kernel until the backlog is served.
  while (c.in.size() < limits_.max_line_bytes * 4 + sizeof(buf)) {
    ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      c.last_progress = Clock::now();
      continue;
    }
    if (n == 0) {
      c.eof = true;
      return true;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    if (errno == EINTR) continue;
    return false;
  }
  return true;
}

size_t ControlSocket::deferred_count() const {
  size_t n = 0;
  for (const auto& c : clients_) n += c->deferred != nullptr;
  return n;
}

void ControlSocket::Serve(Client& c) {
  if (c.deferred) {
    std::optional<std::string> reply = c.deferred();
    if (!reply) {  // still waiting: asked again next turn, which comes soon
      has_deferred_ = true;
      return;
    }
    c.out += *reply;
    c.deferred = nullptr;
    c.last_progress = Clock::now();
  }
  size_t served = 0;
  size_t pos = 0;
  while (!c.close_after && !c.deferred && c.pending_out() < limits_.output_high_watermark) {
    if (served == limits_.max_requests_per_turn) {
      work_pending_ = true;
      break;
    }
    size_t end = c.in.find('\n', pos);
    if (end == std::string::npos) {
      const size_t partial = c.in.size() - pos;
      if (partial > limits_.max_line_bytes) {
        c.out += FormatResponse(
            absl::InvalidArgumentError("request longer than " +
                                       std::to_string(limits_.max_line_bytes) + " bytes"),
            "");
        c.close_after = true;  // the rest of that line cannot be resynchronised cheaply
      } else if (c.eof && partial > 0) {
        c.out += FormatResponse(
            absl::InvalidArgumentError("incomplete request (no newline before end of input)"), "");
        c.close_after = true;
      } else if (c.eof) {
        c.close_after = true;
      }
      break;
    }
    std::string_view line = std::string_view(c.in).substr(pos, end - pos);
    pos = end + 1;
    if (line.size() > limits_.max_line_bytes) {
      c.out += FormatResponse(
          absl::InvalidArgumentError("request longer than " +
                                     std::to_string(limits_.max_line_bytes) + " bytes"),
          "");
    } else {
      SocketReply reply = handler_(line);
      if (reply.pending) {
        c.deferred = std::move(reply.pending);
      } else {
        c.out += reply.text;
      }
    }
    ++served;
  }
  c.in.erase(0, pos);
  if (c.pending_out() >= limits_.output_high_watermark && c.in.find('\n') != std::string::npos) {
    work_pending_ = true;
  }
  if (c.deferred) has_deferred_ = true;
}

bool ControlSocket::WriteTo(Client& c) {
  while (c.pending_out() > 0) {
    ssize_t n = ::send(c.fd, c.out.data() + c.out_sent, c.pending_out(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out_sent += static_cast<size_t>(n);
      c.last_progress = Clock::now();
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
  if (c.out_sent == c.out.size()) {
    c.out.clear();
    c.out_sent = 0;
  } else if (c.out_sent > (1u << 20)) {
    c.out.erase(0, c.out_sent);
    c.out_sent = 0;
  }
  return true;
}

void ControlSocket::Poll(int timeout_ms) {
  std::vector<pollfd> fds;
  fds.reserve(clients_.size() + 1);
  fds.push_back({listen_fd_, POLLIN, 0});
  for (const auto& c : clients_) {
    short events = 0;
    if (!c->eof && !c->close_after && c->pending_out() < limits_.output_high_watermark) {
      events |= POLLIN;
    }
    if (c->pending_out() > 0) events |= POLLOUT;
    fds.push_back({c->fd, events, 0});
  }
  if (work_pending_) timeout_ms = 0;
  work_pending_ = false;
  // A deferred reply is asked for again next turn: come back soon, but
  // without spinning the control thread.
  if (has_deferred_ && (timeout_ms < 0 || timeout_ms > kDeferredRecheckMs)) {
    timeout_ms = kDeferredRecheckMs;
  }
  has_deferred_ = false;
  // Idle clients must be noticed even when nothing else happens.
  if (!clients_.empty()) {
    const int idle_ms = static_cast<int>(limits_.idle_timeout.count());
    if (timeout_ms < 0 || timeout_ms > idle_ms) timeout_ms = idle_ms;
  }
  int ready = ::poll(fds.data(), fds.size(), timeout_ms);
  if (ready < 0) return;  // EINTR: the caller polls again

  const auto now = Clock::now();
  std::vector<std::unique_ptr<Client>> keep;
  keep.reserve(clients_.size());
  for (size_t i = 0; i < clients_.size(); ++i) {
    Client& c = *clients_[i];
    const short rev = fds[i + 1].revents;
    bool alive = true;
    if (rev & POLLIN) alive = ReadFrom(c);
    if (alive && (rev & (POLLHUP | POLLERR)) && !(rev & POLLIN)) c.eof = true;
    if (alive) Serve(c);
    if (alive && c.pending_out() > 0) alive = WriteTo(c);
    // A client waiting for a deferred reply is not idle, nor done at EOF.
    const bool waiting = c.deferred != nullptr;
    if (alive && !waiting && c.close_after && c.pending_out() == 0) alive = false;
    if (alive && !waiting && c.eof && c.pending_out() == 0 && c.in.empty()) alive = false;
    if (alive && !waiting && now - c.last_progress > limits_.idle_timeout) alive = false;
    if (alive) keep.push_back(std::move(clients_[i]));
  }
  clients_ = std::move(keep);
  if (fds[0].revents & POLLIN) Accept();
}

}  // namespace edgefwd::control
