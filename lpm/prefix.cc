#include "lpm/prefix.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace edgefwd::lpm {
namespace {

// inet_pton needs a NUL-terminated string; addresses are short, so a fixed
// buffer avoids allocation and refuses overlong input outright.
template <size_t N>
bool CopyTerminated(std::string_view text, char (&buf)[N]) {
  if (text.empty() || text.size() >= N) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return true;
}

// Parses the decimal length after '/': digits only, no sign, no spaces.
std::optional<uint8_t> ParseLength(std::string_view text, unsigned max) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value > max) return std::nullopt;
  return static_cast<uint8_t>(value);
}

bool SplitPrefix(std::string_view text, std::string_view* addr, std::string_view* len) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  *addr = text.substr(0, slash);
  *len = text.substr(slash + 1);
  return true;
}

}  // namespace

std::optional<Ipv4Address> ParseIpv4Address(std::string_view text) {
  char buf[INET_ADDRSTRLEN];
  if (!CopyTerminated(text, buf)) return std::nullopt;
  in_addr a;
  if (inet_pton(AF_INET, buf, &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::optional<Ipv6Address> ParseIpv6Address(std::string_view text) {
  char buf[INET6_ADDRSTRLEN];
  if (!CopyTerminated(text, buf)) return std::nullopt;
  Ipv6Address out;
  if (inet_pton(AF_INET6, buf, out.data()) != 1) return std::nullopt;
  return out;
}

std::optional<Ipv4Prefix> ParseIpv4Prefix(std::string_view text) {
  std::string_view addr_text, len_text;
  if (!SplitPrefix(text, &addr_text, &len_text)) return std::nullopt;
  auto addr = ParseIpv4Address(addr_text);
  auto len = ParseLength(len_text, 32);
  if (!addr || !len) return std::nullopt;
  uint32_t host_mask = *len == 32 ? 0 : (~uint32_t{0} >> *len);
  if (*addr & host_mask) return std::nullopt;
  return Ipv4Prefix{*addr, *len};
}

std::optional<Ipv6Prefix> ParseIpv6Prefix(std::string_view text) {
  std::string_view addr_text, len_text;
  if (!SplitPrefix(text, &addr_text, &len_text)) return std::nullopt;
  auto addr = ParseIpv6Address(addr_text);
  auto len = ParseLength(len_text, 128);
  if (!addr || !len) return std::nullopt;
  for (unsigned bit = *len; bit < 128; ++bit) {
    if ((*addr)[bit / 8] & (0x80u >> (bit % 8))) return std::nullopt;
  }
  return Ipv6Prefix{*addr, *len};
}

std::string FormatIpv4(Ipv4Address addr) {
  in_addr a;
  a.s_addr = htonl(addr);
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::string FormatIpv6(const Ipv6Address& addr) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, addr.data(), buf, sizeof buf);
  return buf;
}

std::string FormatPrefix(const Ipv4Prefix& p) {
  return FormatIpv4(p.addr) + "/" + std::to_string(p.len);
}

std::string FormatPrefix(const Ipv6Prefix& p) {
  return FormatIpv6(p.addr) + "/" + std::to_string(p.len);
}

}  // namespace edgefwd::lpm
