// Route file parser. Every refusal names file, line and field, and the first
// error refuses the whole text: a route file is a batch, never half-applied.
// (Debian's abseil has its own string_view type, which absl::StrCat wants, so
// messages are built with std::string.)
#include "control/route_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "absl/strings/str_format.h"
#include "control/bulk_allocator.h"

namespace edgefwd::control {
namespace {

// Egress names are config identifiers; anything else in that column is a typo
// or garbage, and saying so beats "unknown neighbour '\x07'".
bool IsEgressNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}
inline constexpr size_t kMaxEgressNameBytes = 64;

bool IsBlank(char c) {
  return c == ' ' || c == '\t';
}

// A printable-text check: tabs are fine, other control bytes, DEL and
// non-ASCII bytes mean the file is not a route file (or is corrupt).
std::optional<unsigned char> FirstBinaryByte(std::string_view line) {
  for (char ch : line) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\t') continue;
    if (c < 0x20 || c >= 0x7f) return c;
  }
  return std::nullopt;
}

// Says why a prefix failed, so the message points at the actual mistake.
std::string PrefixReason(std::string_view text, bool v6) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return "'" + std::string(text) + "' has no /LENGTH";
  std::string_view addr = text.substr(0, slash);
  std::string_view len = text.substr(slash + 1);
  const bool addr_ok =
      v6 ? lpm::ParseIpv6Address(addr).has_value() : lpm::ParseIpv4Address(addr).has_value();
  if (!addr_ok) {
    return "'" + std::string(addr) + "' is not an " + (v6 ? "IPv6" : "IPv4") + " address";
  }
  const int max_len = v6 ? 128 : 32;
  int value = 0;
  // At most three digits, so the value cannot overflow.
  bool digits = !len.empty() && len.size() <= 3;
  for (char c : digits ? len : std::string_view()) {
    if (c < '0' || c > '9') {
      digits = false;
      break;
    }
    value = value * 10 + (c - '0');
  }
  if (!digits || value > max_len) {
    return "length '" + std::string(len) + "' is out of range 0.." + std::to_string(max_len);
  }
  return "'" + std::string(text) + "' has host bits set";
}

absl::Status LineError(std::string_view source, uint32_t line, std::string_view field,
                       std::string_view reason) {
  return absl::InvalidArgumentError(std::string(source) + ":" + std::to_string(line) + ": " +
                                    std::string(field) + ": " + std::string(reason));
}

// Splits on blanks into at most `max` fields; returns max + 1 if there are more.
size_t SplitFields(std::string_view line, std::string_view* fields, size_t max) {
  size_t n = 0;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsBlank(line[i])) ++i;
    if (i == line.size()) break;
    size_t start = i;
    while (i < line.size() && !IsBlank(line[i])) ++i;
    if (n == max) return max + 1;
    fields[n++] = line.substr(start, i - start);
  }
  return n;
}

}  // namespace

absl::Status ForEachRoute(std::string_view text, std::string_view source_name,
                          RouteVisitor on_route) {
  uint32_t line_no = 0;
  size_t pos = 0;
  std::variant<lpm::Ipv4Prefix, lpm::Ipv6Prefix> prefix;
  while (pos < text.size()) {
    ++line_no;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF files

    if (line.size() > kMaxRouteLineBytes) {
      return LineError(source_name, line_no, "line",
                       absl::StrCat("longer than ", kMaxRouteLineBytes, " bytes"));
    }
    if (auto bad = FirstBinaryByte(line)) {
      return LineError(source_name, line_no, "line",
                       absl::StrFormat("binary byte 0x%02x; not a route file", *bad));
    }
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);

    std::string_view fields[2];
    const size_t n = SplitFields(line, fields, 2);
    if (n == 0) continue;
    if (n == 1) return LineError(source_name, line_no, "egress", "missing (want 'PREFIX EGRESS')");
    if (n > 2) {
      return LineError(source_name, line_no, "line", "extra field after EGRESS");
    }

    const bool v6 = fields[0].find(':') != std::string_view::npos;
    if (v6) {
      auto p = lpm::ParseIpv6Prefix(fields[0]);
      if (!p) return LineError(source_name, line_no, "prefix", PrefixReason(fields[0], true));
      prefix = *p;
    } else {
      auto p = lpm::ParseIpv4Prefix(fields[0]);
      if (!p) return LineError(source_name, line_no, "prefix", PrefixReason(fields[0], false));
      prefix = *p;
    }

    std::string_view egress = fields[1];
    if (egress.size() > kMaxEgressNameBytes) {
      return LineError(source_name, line_no, "egress",
                       absl::StrCat("name longer than ", kMaxEgressNameBytes, " bytes"));
    }
    for (char c : egress) {
      if (!IsEgressNameChar(c)) {
        return LineError(source_name, line_no, "egress",
                         "'" + std::string(egress) + "' is not a name (letters, digits, - _ .)");
      }
    }
    if (absl::Status s = on_route(prefix, egress, line_no); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<FileRoute>> ParseRouteText(std::string_view text,
                                                      std::string_view source_name) {
  std::vector<FileRoute> routes;
  routes.reserve(text.size() / 24);  // a typical line is ~20-30 bytes
  absl::Status s = ForEachRoute(text, source_name,
                                [&](const std::variant<lpm::Ipv4Prefix, lpm::Ipv6Prefix>& prefix,
                                    std::string_view egress, uint32_t line) {
                                  routes.push_back({prefix, std::string(egress), line});
                                  return absl::OkStatus();
                                });
  if (!s.ok()) return s;
  return routes;
}

namespace {

// The whole file in one buffer (a full table is ~25 MB: bulk memory).
absl::Status ReadWholeFile(const std::string& path, std::vector<char, BulkAllocator<char>>* out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  struct stat st;
  size_t size = 0;
  if (::fstat(::fileno(f), &st) == 0 && st.st_size > 0) size = static_cast<size_t>(st.st_size);
  out->resize(size + 1);  // +1: a read that finds the file grown goes on in the loop below
  size_t have = 0;
  for (;;) {
    const size_t got = std::fread(out->data() + have, 1, out->size() - have, f);
    have += got;
    if (have < out->size()) break;  // EOF or error
    out->resize(out->size() * 2 + 4096);
  }
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) return absl::DataLossError(absl::StrCat(path, ": read error: ", std::strerror(err)));
  out->resize(have);
  return absl::OkStatus();
}

}  // namespace

absl::Status ForEachRouteInFile(const std::string& path, RouteVisitor on_route) {
  std::vector<char, BulkAllocator<char>> text;
  if (absl::Status s = ReadWholeFile(path, &text); !s.ok()) return s;
  return ForEachRoute(std::string_view(text.data(), text.size()), path, on_route);
}

absl::StatusOr<std::vector<FileRoute>> ReadRouteFile(const std::string& path) {
  std::vector<char, BulkAllocator<char>> text;
  if (absl::Status s = ReadWholeFile(path, &text); !s.ok()) return s;
  return ParseRouteText(std::string_view(text.data(), text.size()), path);
}

}  // namespace edgefwd::control
