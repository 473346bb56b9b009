// edgectl: the operator's CLI for a running edgefwd, over its control socket
// (protocol v1, control/PROTOCOL.md).
//
//   edgectl [--socket PATH] [--json] [--timeout SECONDS] COMMAND [ARG...]
//   edgectl route add 203.0.113.0/24 peer-ix1
//   edgectl --json rib show 203.0.113.0/24
//
// Exit status: 0 ok, 1 the daemon refused the command, 2 usage or
// connection error.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "control/protocol.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: edgectl [--socket PATH] [--json] [--timeout SECONDS] COMMAND [ARG...]\n"
               "commands: route add|del|show|lookup, load FILE, neighbor show|up|down,\n"
               "          group show, rib show PREFIX, stats, reload, help\n"
               "socket: --socket, else $EDGEFWD_SOCKET, else /run/edgefwd.sock\n");
  return 2;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "edgectl: %s\n", what.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket_path = "/run/edgefwd.sock";
  if (const char* env = std::getenv("EDGEFWD_SOCKET")) socket_path = env;
  bool json = false;
  int timeout_s = 60;  // a full-table `load` takes a couple of seconds
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; ++i) {
    std::string opt = argv[i];
    if (opt == "--json") {
      json = true;
    } else if (opt == "--socket" && i + 1 < argc) {
      socket_path = argv[++i];
    } else if (opt == "--timeout" && i + 1 < argc) {
      timeout_s = std::atoi(argv[++i]);
      if (timeout_s <= 0) return Usage();
    } else {
      return Usage();
    }
  }
  if (i == argc) return Usage();
  std::string request = json ? "v1+json" : "v1";
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.empty() || arg.find_first_of(" \t\n") != std::string::npos) {
      return Fail("argument '" + arg + "' is empty or contains blanks");
    }
    request += " " + arg;
  }
  request += "\n";

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) return Fail("socket path too long");
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Fail("cannot connect to " + socket_path + ": " + std::strerror(errno) +
                " (is edgefwd running? --socket PATH)");
  }
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail(std::string("send: ") + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }

  edgefwd::control::ResponseReader reader;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  char buf[65536];
  while (!reader.done()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return Fail("no complete reply within " + std::to_string(timeout_s) + " s");
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail("connection closed before the reply was complete");
    reader.Feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  ::close(fd);
  if (reader.malformed()) return Fail(reader.error());
  if (!reader.ok()) {
    std::fprintf(stderr, "edgectl: error: %s\n", reader.error().c_str());
    return 1;
  }
  if (!reader.body().empty()) std::printf("%s\n", reader.body().c_str());
  return 0;
}
