#include "dataplane/config/config.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

// toml++ 3.3.0 (Debian 12) calls its key parser on a malformed table header
// such as "[[=" or "[[[a]]" without checking the precondition that parser
// asserts (fixed upstream in marzer/tomlplusplus PR #301, 2026). With
// asserts enabled (any build without NDEBUG) a bad config, or a bad one on
// `reload` in a running daemon, would abort the process; without the assert
// the parser goes on and reports the proper syntax error. So toml++'s
// internal asserts stay off in every build. (Built with clang and NDEBUG the
// precondition becomes __builtin_assume; edgefwd builds with GCC, where it
// is a no-op.)
#define TOML_ASSERT(expr) static_cast<void>(0)
// No exceptions anywhere in edgefwd: toml++ reports errors via parse_result.
#include <toml++/toml.h>

namespace edgefwd::dataplane {
namespace {

// absl::StrCat of this abseil build does not take std::string_view.
void Append(std::string& out, std::string_view s) {
  out.append(s);
}
void Append(std::string& out, const char* s) {
  out.append(s);
}
void Append(std::string& out, const std::string& s) {
  out.append(s);
}
template <typename T>
requires std::is_integral_v<T>
void Append(std::string& out, T v) {
  out.append(std::to_string(v));
}
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (Append(out, args), ...);
  return out;
}

constexpr uint32_t kMaxQueues = 1024;
constexpr uint32_t kMaxLcores = 1024;

std::string Resolve(const std::string& base_file, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  return (std::filesystem::path(base_file).parent_path() / p).lexically_normal().string();
}

std::optional<EgressClass> ParseClass(std::string_view s) {
  if (s == "cdn") return EgressClass::kCdn;
  if (s == "peering") return EgressClass::kPeering;
  if (s == "transit") return EgressClass::kTransit;
  return std::nullopt;
}

// Walks one parsed file, keeping the first error. Every error names the file,
// the line of the offending node (or of its table when a field is missing),
// and the field.
class FileReader {
 public:
  explicit FileReader(std::string file) : file_(std::move(file)) {}

  bool ok() const { return error_.ok(); }
  absl::Status error() const { return error_; }
  const std::string& file() const { return file_; }

  void Fail(uint32_t line, std::string_view field, std::string_view reason) {
    if (!error_.ok()) return;
    error_ = absl::InvalidArgumentError(Cat(file_, ":", line, ": ", field, ": ", reason));
  }
  static uint32_t Line(const toml::node& n) { return n.source().begin.line; }

  // Rejects keys the schema does not know: a typo must not be ignored.
  void CheckKeys(const toml::table& t, std::string_view where,
                 std::initializer_list<std::string_view> known) {
    for (const auto& [key, node] : t) {
      bool found = false;
      for (auto k : known) found |= (k == key.str());
      if (!found) Fail(Line(node), Cat(where, key.str()), "unknown key");
    }
  }

  std::optional<std::string> String(const toml::table& t, std::string_view key,
                                    std::string_view field, bool required) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      if (required) Fail(Line(t), field, "missing");
      return std::nullopt;
    }
    if (!n->is_string()) {
      Fail(Line(*n), field, "expected a string");
      return std::nullopt;
    }
    std::string s = n->as_string()->get();
    if (s.empty()) {
      Fail(Line(*n), field, "must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<int64_t> Integer(const toml::table& t, std::string_view key, std::string_view field,
                                 int64_t min, int64_t max) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_integer()) {
      Fail(Line(*n), field, "expected an integer");
      return std::nullopt;
    }
    int64_t v = n->as_integer()->get();
    if (v < min || v > max) {
      Fail(Line(*n), field, absl::StrFormat("%d is out of range [%d, %d]", v, min, max));
      return std::nullopt;
    }
    return v;
  }

  // An array whose elements all satisfy `pred`; nullptr if absent.
  const toml::array* Array(const toml::table& t, std::string_view key, std::string_view field) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return nullptr;
    if (!n->is_array()) {
      Fail(Line(*n), field, "expected an array");
      return nullptr;
    }
    return n->as_array();
  }

  std::vector<std::string> StringArray(const toml::table& t, std::string_view key,
                                       std::string_view field) {
    std::vector<std::string> out;
    const toml::array* a = Array(t, key, field);
    if (a == nullptr) return out;
    for (const toml::node& e : *a) {
      if (!e.is_string() || e.as_string()->get().empty()) {
        Fail(Line(e), field, "expected non-empty strings");
        return out;
      }
      out.push_back(e.as_string()->get());
    }
    return out;
  }

  // The tables of `[[key]]`; empty if absent.
  std::vector<const toml::table*> TableArray(const toml::table& t, std::string_view key) {
    std::vector<const toml::table*> out;
    const toml::node* n = t.get(key);
    if (n == nullptr) return out;
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      Fail(Line(*n), key, "expected an array of tables ([[" + std::string(key) + "]])");
      return out;
    }
    for (const toml::node& e : *a) {
      if (!e.is_table()) {
        Fail(Line(e), key, "expected a table");
        return out;
      }
      out.push_back(e.as_table());
    }
    return out;
  }

 private:
  std::string file_;
  absl::Status error_;
};

std::string Indexed(std::string_view array, size_t i, std::string_view field) {
  return Cat(array, "[", i, "].", field);
}

void ReadPort(FileReader& r, const toml::table& t, size_t i, Config& cfg) {
  auto f = [&](std::string_view field) { return Indexed("ports", i, field); };
  r.CheckKeys(t, Indexed("ports", i, ""),
              {"name", "device", "rx_queues", "tx_queues", "mtu", "vlans", "ipv4", "ipv6", "mac"});
  PortConfig p;
  p.line = FileReader::Line(t);
  p.name = r.String(t, "name", f("name"), true).value_or("");
  p.device = r.String(t, "device", f("device"), true).value_or("");
  if (auto v = r.Integer(t, "rx_queues", f("rx_queues"), 1, kMaxQueues)) p.rx_queues = *v;
  if (auto v = r.Integer(t, "tx_queues", f("tx_queues"), 1, kMaxQueues)) p.tx_queues = *v;
  if (auto v = r.Integer(t, "mtu", f("mtu"), kMinMtu, kMaxMtu)) p.mtu = *v;
  if (const toml::array* a = r.Array(t, "vlans", f("vlans"))) {
    for (const toml::node& e : *a) {
      const auto* v = e.as_integer();
      if (v == nullptr || v->get() < 1 || v->get() > 4094) {
        r.Fail(FileReader::Line(e), f("vlans"), "VLAN ids are integers in [1, 4094]");
        return;
      }
      for (uint16_t seen : p.vlans) {
        if (seen == v->get()) r.Fail(FileReader::Line(e), f("vlans"), "duplicate VLAN id");
      }
      p.vlans.push_back(v->get());
    }
  }
  for (const std::string& s : r.StringArray(t, "ipv4", f("ipv4"))) {
    auto a = lpm::ParseIpv4Address(s);
    if (!a)
      r.Fail(FileReader::Line(*t.get("ipv4")), f("ipv4"), "'" + s + "' is not an IPv4 address");
    if (a) p.ipv4.push_back(*a);
  }
  for (const std::string& s : r.StringArray(t, "ipv6", f("ipv6"))) {
    auto a = lpm::ParseIpv6Address(s);
    if (!a)
      r.Fail(FileReader::Line(*t.get("ipv6")), f("ipv6"), "'" + s + "' is not an IPv6 address");
    if (a) p.ipv6.push_back(*a);
  }
  if (auto s = r.String(t, "mac", f("mac"), false)) {
    p.mac = ParseMac(*s);
    if (!p.mac)
      r.Fail(FileReader::Line(*t.get("mac")), f("mac"), "'" + *s + "' is not a MAC address");
  }
  if (!r.ok()) return;
  for (const PortConfig& other : cfg.ports) {
    if (other.name == p.name) r.Fail(p.line, f("name"), "duplicate port name '" + p.name + "'");
    if (other.device == p.device)
      r.Fail(p.line, f("device"), "device '" + p.device + "' used by two ports");
  }
  cfg.ports.push_back(std::move(p));
}

void ReadNeighbor(FileReader& r, const toml::table& t, size_t i, Config& cfg) {
  auto f = [&](std::string_view field) { return Indexed("neighbors", i, field); };
  r.CheckKeys(t, Indexed("neighbors", i, ""),
              {"name", "class", "port", "vlan", "ipv4", "ipv6", "mac"});
  NeighborConfig n;
  n.file = r.file();
  n.line = FileReader::Line(t);
  n.name = r.String(t, "name", f("name"), true).value_or("");
  if (auto s = r.String(t, "class", f("class"), true)) {
    auto c = ParseClass(*s);
    if (!c)
      r.Fail(FileReader::Line(*t.get("class")), f("class"),
             "'" + *s + "' is not one of cdn, peering, transit");
    n.egress_class = c.value_or(EgressClass::kTransit);
  }
  n.port = r.String(t, "port", f("port"), true).value_or("");
  if (auto v = r.Integer(t, "vlan", f("vlan"), 0, 4094)) n.vlan = *v;
  if (auto s = r.String(t, "ipv4", f("ipv4"), false)) {
    n.ipv4 = lpm::ParseIpv4Address(*s);
    if (!n.ipv4)
      r.Fail(FileReader::Line(*t.get("ipv4")), f("ipv4"), "'" + *s + "' is not an IPv4 address");
  }
  if (auto s = r.String(t, "ipv6", f("ipv6"), false)) {
    n.ipv6 = lpm::ParseIpv6Address(*s);
    if (!n.ipv6)
      r.Fail(FileReader::Line(*t.get("ipv6")), f("ipv6"), "'" + *s + "' is not an IPv6 address");
  }
  if (auto s = r.String(t, "mac", f("mac"), true)) {
    auto mac = ParseMac(*s);
    if (!mac) {
      r.Fail(FileReader::Line(*t.get("mac")), f("mac"), "'" + *s + "' is not a MAC address");
    } else if ((*mac)[0] & 1) {
      r.Fail(FileReader::Line(*t.get("mac")), f("mac"), "'" + *s + "' is a multicast address");
    } else {
      n.mac = *mac;
    }
  }
  if (!r.ok()) return;
  if (!n.ipv4 && !n.ipv6) r.Fail(n.line, f("ipv4"), "a neighbour needs ipv4 or ipv6 (or both)");
  cfg.neighbors.push_back(std::move(n));
}

void ReadGroup(FileReader& r, const toml::table& t, size_t i, Config& cfg) {
  auto f = [&](std::string_view field) { return Indexed("groups", i, field); };
  r.CheckKeys(t, Indexed("groups", i, ""), {"name", "members"});
  control::GroupSpec g;
  g.name = r.String(t, "name", f("name"), true).value_or("");
  const toml::array* members = r.Array(t, "members", f("members"));
  if (members == nullptr) {
    if (r.ok()) r.Fail(FileReader::Line(t), f("members"), "missing");
    return;
  }
  for (const toml::node& e : *members) {
    const toml::table* m = e.as_table();
    if (m == nullptr) {
      r.Fail(FileReader::Line(e), f("members"), "expected { neighbor = \"...\", weight = N }");
      return;
    }
    r.CheckKeys(*m, f("members."), {"neighbor", "weight"});
    control::GroupSpec::Member member;
    member.neighbor = r.String(*m, "neighbor", f("members.neighbor"), true).value_or("");
    member.weight = r.Integer(*m, "weight", f("members.weight"), 1, kMaxPathMembers).value_or(1);
    g.members.push_back(std::move(member));
  }
  if (r.ok() && g.members.empty()) r.Fail(FileReader::Line(t), f("members"), "must not be empty");
  if (r.ok() && g.members.size() > kMaxPathMembers)
    r.Fail(FileReader::Line(t), f("members"), Cat("at most ", kMaxPathMembers, " members"));
  if (r.ok()) {
    cfg.groups.push_back(std::move(g));
    cfg.group_lines.push_back(FileReader::Line(t));
  }
}

void ReadWorker(FileReader& r, const toml::table& t, size_t i, Config& cfg) {
  auto f = [&](std::string_view field) { return Indexed("workers", i, field); };
  r.CheckKeys(t, Indexed("workers", i, ""), {"lcore", "rx"});
  WorkerConfig w;
  w.line = FileReader::Line(t);
  auto lcore = r.Integer(t, "lcore", f("lcore"), 0, kMaxLcores - 1);
  if (!lcore && r.ok()) r.Fail(w.line, f("lcore"), "missing");
  w.lcore = lcore.value_or(0);
  const toml::array* rx = r.Array(t, "rx", f("rx"));
  if (rx == nullptr) {
    if (r.ok()) r.Fail(w.line, f("rx"), "missing");
    return;
  }
  for (const toml::node& e : *rx) {
    const toml::table* q = e.as_table();
    if (q == nullptr) {
      r.Fail(FileReader::Line(e), f("rx"), "expected { port = \"...\", queue = N }");
      return;
    }
    r.CheckKeys(*q, f("rx."), {"port", "queue"});
    RxQueueRef ref;
    ref.port = r.String(*q, "port", f("rx.port"), true).value_or("");
    ref.queue = r.Integer(*q, "queue", f("rx.queue"), 0, kMaxQueues - 1).value_or(0);
    w.rx.push_back(std::move(ref));
  }
  if (r.ok()) cfg.workers.push_back(std::move(w));
}

// Configuration files are ASCII. toml++ 3.3.0 (Debian 12) reaches a
// __builtin_unreachable() classifying some non-ASCII characters (e.g. U+03DC
// between tokens; marzer/tomlplusplus#295, fixed upstream in 2026; found by
// config_fuzz): undefined behaviour in a daemon that re-reads its config on
// `reload`. Nothing in the schema needs more than ASCII.
bool CheckAscii(FileReader& r, std::string_view text) {
  uint32_t line = 1, column = 1;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      r.Fail(
          line, "syntax",
          absl::StrFormat("byte 0x%02x at column %u is not ASCII (configuration files are ASCII)",
                          c, column));
      return false;
    }
    ++column;
    if (c == '\n') ++line, column = 1;
  }
  return true;
}

std::optional<toml::table> ParseToml(FileReader& r, std::string_view text) {
  if (!CheckAscii(r, text)) return std::nullopt;
  toml::parse_result result = toml::parse(text, std::string_view(r.file()));
  if (!result) {
    const toml::parse_error& e = result.error();
    r.Fail(e.source().begin.line, "syntax", e.description());
    return std::nullopt;
  }
  return std::move(result).table();
}

// Only regular files: a directory opens and reads as empty (an include of
// one would be accepted as holding nothing), a device or FIFO may never end.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status))
    return absl::NotFoundError(Cat(path, ": cannot read"));
  if (!std::filesystem::is_regular_file(status))
    return absl::NotFoundError(Cat(path, ": not a regular file"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(Cat(path, ": cannot read"));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::NotFoundError(Cat(path, ": read error"));
  return ss.str();
}

// Checks that need the whole configuration (names across files, references).
absl::Status CrossCheck(const Config& cfg) {
  FileReader r(cfg.path);
  if (cfg.ports.empty()) r.Fail(1, "ports", "at least one [[ports]] is required");
  std::set<std::string> egress_names;
  for (size_t i = 0; i < cfg.neighbors.size() && r.ok(); ++i) {
    const NeighborConfig& n = cfg.neighbors[i];
    FileReader nr(n.file);
    auto f = [&](std::string_view field) { return Indexed("neighbors", i, field); };
    const PortConfig* port = cfg.FindPort(n.port);
    if (port == nullptr) {
      nr.Fail(n.line, f("port"), "no port named '" + n.port + "'");
    } else if (n.vlan != 0 &&
               std::find(port->vlans.begin(), port->vlans.end(), n.vlan) == port->vlans.end()) {
      nr.Fail(n.line, f("vlan"), Cat("VLAN ", n.vlan, " is not in port '", n.port, "' vlans"));
    }
    if (!egress_names.insert(n.name).second)
      nr.Fail(n.line, f("name"), "duplicate neighbour name '" + n.name + "'");
    if (!nr.ok()) return nr.error();
  }
  if (cfg.neighbors.size() > kMaxNeighbors)
    r.Fail(1, "neighbors", Cat("at most ", kMaxNeighbors, " neighbours"));
  for (size_t i = 0; i < cfg.groups.size() && r.ok(); ++i) {
    const control::GroupSpec& g = cfg.groups[i];
    if (!egress_names.insert(g.name).second)
      r.Fail(cfg.group_lines[i], Indexed("groups", i, "name"),
             "name '" + g.name + "' is already a neighbour or group");
    for (const auto& m : g.members) {
      bool known = false;
      for (const auto& n : cfg.neighbors) known |= (n.name == m.neighbor);
      if (!known)
        r.Fail(cfg.group_lines[i], Indexed("groups", i, "members.neighbor"),
               "no neighbour named '" + m.neighbor + "'");
    }
  }
  std::set<std::pair<std::string, uint16_t>> assigned;
  std::set<uint32_t> lcores;
  for (size_t i = 0; i < cfg.workers.size() && r.ok(); ++i) {
    const WorkerConfig& w = cfg.workers[i];
    if (!lcores.insert(w.lcore).second)
      r.Fail(w.line, Indexed("workers", i, "lcore"), Cat("lcore ", w.lcore, " used twice"));
    for (const RxQueueRef& q : w.rx) {
      const PortConfig* port = cfg.FindPort(q.port);
      if (port == nullptr) {
        r.Fail(w.line, Indexed("workers", i, "rx.port"), "no port named '" + q.port + "'");
      } else if (port->rx_queues && q.queue >= *port->rx_queues) {
        r.Fail(w.line, Indexed("workers", i, "rx.queue"),
               Cat("port '", q.port, "' has ", *port->rx_queues, " rx queues"));
      } else if (!assigned.insert({q.port, q.queue}).second) {
        r.Fail(w.line, Indexed("workers", i, "rx.queue"),
               Cat("queue ", q.queue, " of port '", q.port, "' polled by two workers"));
      }
    }
  }
  // With explicit workers every rx queue must have a poller, or its packets
  // would sit in the NIC unseen.
  if (!cfg.workers.empty()) {
    for (const PortConfig& p : cfg.ports) {
      uint16_t queues = p.rx_queues.value_or(1);
      for (uint16_t q = 0; q < queues && r.ok(); ++q) {
        if (!assigned.count({p.name, q}))
          r.Fail(p.line, "workers", Cat("queue ", q, " of port '", p.name, "' has no worker"));
      }
    }
  }
  return r.error();
}

absl::Status ReadInclude(const std::string& path, Config& cfg) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  FileReader r(path);
  auto root = ParseToml(r, *text);
  if (!root) return r.error();
  r.CheckKeys(*root, "", {"neighbors"});
  auto tables = r.TableArray(*root, "neighbors");
  for (size_t i = 0; i < tables.size() && r.ok(); ++i) ReadNeighbor(r, *tables[i], i, cfg);
  return r.error();
}

}  // namespace

const PortConfig* Config::FindPort(std::string_view name) const {
  for (const PortConfig& p : ports) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::optional<MacAddress> ParseMac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  MacAddress mac{};
  for (size_t i = 0; i < 6; ++i) {
    int hi = nibble(text[i * 3]), lo = nibble(text[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':')) return std::nullopt;
    mac[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return mac;
}

std::string FormatMac(const MacAddress& m) {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

absl::StatusOr<Config> ParseConfigText(std::string_view text, const std::string& path) {
  Config cfg;
  cfg.path = path;
  FileReader r(path);
  auto root_opt = ParseToml(r, text);
  if (!root_opt) return r.error();
  const toml::table& root = *root_opt;
  r.CheckKeys(root, "",
              {"ports", "neighbors", "groups", "workers", "routes", "control_socket", "include",
               "class_preference"});
  auto ports = r.TableArray(root, "ports");
  for (size_t i = 0; i < ports.size() && r.ok(); ++i) ReadPort(r, *ports[i], i, cfg);
  auto neighbors = r.TableArray(root, "neighbors");
  for (size_t i = 0; i < neighbors.size() && r.ok(); ++i) ReadNeighbor(r, *neighbors[i], i, cfg);
  auto groups = r.TableArray(root, "groups");
  for (size_t i = 0; i < groups.size() && r.ok(); ++i) ReadGroup(r, *groups[i], i, cfg);
  auto workers = r.TableArray(root, "workers");
  for (size_t i = 0; i < workers.size() && r.ok(); ++i) ReadWorker(r, *workers[i], i, cfg);
  for (const std::string& f : r.StringArray(root, "routes", "routes"))
    cfg.route_files.push_back(Resolve(path, f));
  if (auto s = r.String(root, "control_socket", "control_socket", false))
    cfg.control_socket = Resolve(path, *s);
  std::vector<std::string> prefs = r.StringArray(root, "class_preference", "class_preference");
  if (r.ok() && !prefs.empty()) {
    uint32_t line = FileReader::Line(*root.get("class_preference"));
    std::set<EgressClass> seen;
    for (size_t i = 0; i < prefs.size() && i < kEgressClassCount; ++i) {
      auto c = ParseClass(prefs[i]);
      if (!c)
        r.Fail(line, "class_preference", "'" + prefs[i] + "' is not one of cdn, peering, transit");
      if (c && !seen.insert(*c).second)
        r.Fail(line, "class_preference", "'" + prefs[i] + "' twice");
      if (c) cfg.class_preference[i] = *c;
    }
    if (prefs.size() != kEgressClassCount)
      r.Fail(line, "class_preference", "must list cdn, peering and transit once each");
  }
  std::vector<std::string> includes = r.StringArray(root, "include", "include");
  if (!r.ok()) return r.error();
  for (const std::string& inc : includes) {
    absl::Status s = ReadInclude(Resolve(path, inc), cfg);
    if (absl::IsNotFound(s)) {
      r.Fail(FileReader::Line(*root.get("include")), "include", std::string(s.message()));
      return r.error();
    }
    if (!s.ok()) return s;
  }
  absl::Status s = CrossCheck(cfg);
  if (!s.ok()) return s;
  return cfg;
}

absl::StatusOr<Config> ReadConfigFile(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  return ParseConfigText(*text, path);
}

}  // namespace edgefwd::dataplane
