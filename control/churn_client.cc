// control_churn_client: drives route changes into a running edgefwd through
// its control socket as fast as protocol v1 allows, for scripts/bench-control
// (route changes/s while the daemon forwards traffic).
//
//   control_churn_client --socket PATH --routes FILE [--routes FILE...]
//       --mode pipelined|single|load --changes N [--window W] [--batch B]
//       [--work-dir DIR] [--seed S] [--pid PID]
//
// Modes (each change names a prefix of the loaded table and an egress other
// than the one the table gives it, so forwarding really changes):
//   pipelined  `route add P E` / `route del P` pairs, up to W requests in
//              flight on one connection (replies come back in order);
//   single     the same pairs, one request at a time (send, wait, repeat);
//   load       `load FILE` of B-route files written to DIR beforehand
//              (adds only: the protocol has no batched delete, so the added
//              candidates stay).
// pipelined and single leave the table as it was (every add is undone).
//
// Around the changes it asks `stats` on a second connection, so the caller
// can compute the forwarding rate over exactly the window; with --pid it also
// reads the CPU time of the daemon's worker threads (rte-worker-*) and of
// its main (control) thread. Prints one JSON object. Wall-clock time.
#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "control/protocol.h"

namespace edgefwd::control {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "control_churn_client: %s\n", what.c_str());
  std::exit(1);
}

int Connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Die("connect " + path + ": " + std::strerror(errno));
  }
  return fd;
}

void SendAll(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) Die(std::string("send: ") + std::strerror(errno));
    s.remove_prefix(static_cast<size_t>(n));
  }
}

// Splits the reply stream of one connection into replies; every reply must
// be `ok` (a refused change would make the rate meaningless).
class ReplyCounter {
 public:
  explicit ReplyCounter(int fd) : fd_(fd) {}
  // Blocks until at least one more reply is complete; returns how many are.
  size_t ReadSome(const std::vector<std::string>* requests) {
    char buf[1 << 16];
    const size_t before = replies_;
    while (replies_ == before) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) Die("the daemon closed the control connection");
      partial_.append(buf, static_cast<size_t>(n));
      size_t pos = 0, nl;
      while ((nl = partial_.find('\n', pos)) != std::string::npos) {
        std::string_view line(partial_.data() + pos, nl - pos);
        pos = nl + 1;
        if (!in_body_) {
          if (line != "ok") {
            Die("request " + std::to_string(replies_) + " (" +
                (requests ? (*requests)[replies_] : std::string("?")) +
                ") failed: " + std::string(line));
          }
          in_body_ = true;
        } else if (line == ".") {
          in_body_ = false;
          ++replies_;
        }
      }
      partial_.erase(0, pos);
    }
    return replies_;
  }
  size_t replies() const { return replies_; }

 private:
  int fd_;
  std::string partial_;
  bool in_body_ = false;
  size_t replies_ = 0;
};

std::string Ask(int fd, const std::string& line) {
  SendAll(fd, line + "\n");
  ResponseReader r;
  char buf[1 << 16];
  while (!r.done()) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) Die("the daemon closed the stats connection");
    r.Feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  if (!r.ok()) Die(line + ": " + r.error());
  return r.body();
}

// CPU seconds of the threads of `pid` whose name starts with `prefix`
// (utime + stime from /proc/PID/task/TID/stat).
double ThreadCpuSeconds(int pid, std::string_view prefix) {
  if (pid <= 0) return 0;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  double total = 0;
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream stat(dir + "/" + e->d_name + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const size_t open = text.find('('), close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    if (std::string_view(text).substr(open + 1, close - open - 1).substr(0, prefix.size()) !=
        prefix) {
      continue;
    }
    std::istringstream rest(text.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    total += static_cast<double>(utime + stime) / hz;
  }
  ::closedir(d);
  return total;
}

struct TableRoute {
  std::string prefix;
  std::string egress;
};

// The routes of the files, without checking them (the daemon loaded them).
std::vector<TableRoute> ReadTable(const std::vector<std::string>& files) {
  std::vector<TableRoute> out;
  for (const auto& f : files) {
    std::ifstream in(f);
    if (!in) Die("cannot read " + f);
    std::string line;
    while (std::getline(in, line)) {
      line = line.substr(0, line.find('#'));
      std::istringstream fields(line);
      TableRoute r;
      if (fields >> r.prefix >> r.egress && r.prefix.find("/0") == std::string::npos) {
        out.push_back(std::move(r));
      }
    }
  }
  if (out.empty()) Die("no routes in the given files");
  return out;
}

struct Churn {
  std::vector<std::string> requests;  // protocol lines, no '\n'
  size_t changes = 0;
};

// `pairs` add/del pairs over distinct prefixes of the table (cycling if the
// table is smaller), each add naming an egress the table does not.
Churn AddDelPairs(const std::vector<TableRoute>& table, const std::vector<std::string>& egresses,
                  size_t pairs, std::mt19937_64& rng) {
  std::vector<size_t> order(table.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  Churn c;
  c.requests.reserve(2 * pairs);
  for (size_t i = 0; i < pairs; ++i) {
    const TableRoute& r = table[order[i % order.size()]];
    std::string e;
    do {
      e = egresses[rng() % egresses.size()];
    } while (e == r.egress && egresses.size() > 1);
    c.requests.push_back("v1 route add " + r.prefix + " " + e);
    c.requests.push_back("v1 route del " + r.prefix);
  }
  c.changes = 2 * pairs;
  return c;
}

// Route files of `batch` routes each, `changes` routes in all, written into
// `dir`; the requests load them one by one.
Churn LoadFiles(const std::vector<TableRoute>& table, const std::vector<std::string>& egresses,
                size_t changes, size_t batch, const std::string& dir, uint64_t seed,
                std::mt19937_64& rng) {
  std::vector<size_t> order(table.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  Churn c;
  for (size_t done = 0, file = 0; done < changes; ++file) {
    const std::string path =
        dir + "/churn-" + std::to_string(seed) + "-" + std::to_string(file) + ".routes";
    std::ofstream out(path);
    const size_t n = std::min(batch, changes - done);
    for (size_t i = 0; i < n; ++i, ++done) {
      const TableRoute& r = table[order[done % order.size()]];
      std::string e;
      do {
        e = egresses[rng() % egresses.size()];
      } while (e == r.egress && egresses.size() > 1);
      out << r.prefix << ' ' << e << '\n';
    }
    if (!out) Die("cannot write " + path);
    c.requests.push_back("v1 load " + path);
  }
  c.changes = changes;
  return c;
}

int Main(int argc, char** argv) {
  std::string socket_path, mode = "pipelined", work_dir = "/tmp";
  std::vector<std::string> files;
  size_t changes = 100'000, window = 512, batch = 10'000;
  uint64_t seed = 1;
  int pid = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--socket") {
      socket_path = value();
    } else if (a == "--routes") {
      files.push_back(value());
    } else if (a == "--mode") {
      mode = value();
    } else if (a == "--changes") {
      changes = std::stoul(value());
    } else if (a == "--window") {
      window = std::max<size_t>(1, std::stoul(value()));
    } else if (a == "--batch") {
      batch = std::max<size_t>(1, std::stoul(value()));
    } else if (a == "--work-dir") {
      work_dir = value();
    } else if (a == "--seed") {
      seed = std::stoull(value());
    } else if (a == "--pid") {
      pid = std::stoi(value());
    } else {
      Die("unknown argument " + a);
    }
  }
  if (socket_path.empty() || files.empty()) Die("--socket and --routes are required");
  if (mode != "pipelined" && mode != "single" && mode != "load") Die("unknown mode " + mode);

  const std::vector<TableRoute> table = ReadTable(files);
  std::vector<std::string> egresses;
  {
    std::unordered_set<std::string> seen;
    for (const auto& r : table) {
      if (seen.insert(r.egress).second) egresses.push_back(r.egress);
    }
    std::sort(egresses.begin(), egresses.end());
  }
  std::mt19937_64 rng(seed);
  const Churn churn = mode == "load"
                          ? LoadFiles(table, egresses, changes, batch, work_dir, seed, rng)
                          : AddDelPairs(table, egresses, (changes + 1) / 2, rng);

  const int stats_fd = Connect(socket_path);
  const int fd = Connect(socket_path);
  ReplyCounter counter(fd);
  const size_t window_now = mode == "single" ? 1 : mode == "load" ? 4 : window;

  const std::string stats_before = Ask(stats_fd, "v1+json stats");
  const double worker_cpu0 = ThreadCpuSeconds(pid, "rte-worker");
  const double control_cpu0 = ThreadCpuSeconds(pid, "edgefwd");
  const auto start = Clock::now();
  size_t sent = 0;
  std::string out;
  while (counter.replies() < churn.requests.size()) {
    out.clear();
    while (sent < churn.requests.size() && sent - counter.replies() < window_now) {
      out += churn.requests[sent++];
      out += '\n';
    }
    if (!out.empty()) SendAll(fd, out);
    counter.ReadSome(&churn.requests);
  }
  const auto end = Clock::now();
  const double worker_cpu1 = ThreadCpuSeconds(pid, "rte-worker");
  const double control_cpu1 = ThreadCpuSeconds(pid, "edgefwd");
  const std::string stats_after = Ask(stats_fd, "v1+json stats");
  ::close(fd);
  ::close(stats_fd);
  if (mode == "load") {
    for (const auto& r : churn.requests) ::unlink(r.substr(std::strlen("v1 load ")).c_str());
  }

  const double seconds = std::chrono::duration<double>(end - start).count();
  std::printf(
      "{\"mode\":\"%s\",\"changes\":%zu,\"requests\":%zu,\"window\":%zu,\"seconds\":%.6f,"
      "\"changes_per_s\":%.1f,\"worker_cpu_s\":%.3f,\"control_cpu_s\":%.3f,"
      "\"stats_before\":%s,\"stats_after\":%s}\n",
      mode.c_str(), churn.changes, churn.requests.size(), window_now, seconds,
      static_cast<double>(churn.changes) / seconds, worker_cpu1 - worker_cpu0,
      control_cpu1 - control_cpu0, stats_before.c_str(), stats_after.c_str());
  return 0;
}

}  // namespace
}  // namespace edgefwd::control

int main(int argc, char** argv) {
  return edgefwd::control::Main(argc, argv);
}
