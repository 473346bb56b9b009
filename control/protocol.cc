#include "control/protocol.h"

#include <cstdio>

namespace edgefwd::control {

absl::StatusOr<Request> ParseRequestLine(std::string_view line) {
  if (line.size() > kMaxRequestLineBytes) {
    return absl::InvalidArgumentError("request longer than " +
                                      std::to_string(kMaxRequestLineBytes) + " bytes");
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  for (char ch : line) {
    auto c = static_cast<unsigned char>(ch);
    if (c != '\t' && (c < 0x20 || c >= 0x7f)) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02x", c);
      return absl::InvalidArgumentError(std::string("request contains binary byte ") + hex);
    }
  }
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) break;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (tokens.size() == kMaxRequestArgs + 1) {
      return absl::InvalidArgumentError("more than " + std::to_string(kMaxRequestArgs) +
                                        " arguments");
    }
    tokens.push_back(line.substr(start, i - start));
  }
  if (tokens.empty()) return absl::InvalidArgumentError("empty request");
  Request req;
  if (tokens[0] == "v1+json") {
    req.json = true;
  } else if (tokens[0] != "v1") {
    return absl::InvalidArgumentError("unsupported protocol version '" + std::string(tokens[0]) +
                                      "' (this daemon speaks v1)");
  }
  if (tokens.size() < 2) return absl::InvalidArgumentError("missing command");
  for (size_t k = 1; k < tokens.size(); ++k) req.args.emplace_back(tokens[k]);
  return req;
}

std::string FormatResponse(const absl::Status& status, std::string_view body) {
  std::string out;
  out.reserve(body.size() + 64);
  if (status.ok()) {
    out = "ok\n";
  } else {
    out = "error ";
    // The status line is one line whatever the message holds.
    for (char c : status.message()) out.push_back(c == '\n' || c == '\r' ? ' ' : c);
    out.push_back('\n');
  }
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    if (body[pos] == '.') out.push_back('.');
    out.append(body.substr(pos, end - pos));
    out.push_back('\n');
    pos = end + 1;
  }
  out.append(".\n");
  return out;
}

bool ResponseReader::Feed(std::string_view bytes) {
  if (done_) return true;
  partial_.append(bytes);
  size_t pos = 0;
  while (!done_) {
    size_t end = partial_.find('\n', pos);
    if (end == std::string::npos) break;
    Line(std::string_view(partial_).substr(pos, end - pos));
    pos = end + 1;
  }
  partial_.erase(0, pos);
  return done_;
}

void ResponseReader::Line(std::string_view line) {
  if (!have_status_) {
    have_status_ = true;
    if (line == "ok") {
      ok_ = true;
    } else if (line.substr(0, 6) == "error ") {
      error_ = std::string(line.substr(6));
    } else {
      malformed_ = true;
      error_ = "malformed status line '" + std::string(line) + "'";
    }
    return;
  }
  if (line == ".") {
    done_ = true;
    return;
  }
  if (!line.empty() && line[0] == '.') line.remove_prefix(1);
  if (!body_.empty()) body_.push_back('\n');
  body_.append(line);
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char esc[8];
          std::snprintf(esc, sizeof(esc), "\\u%04x", c);
          out += esc;
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace edgefwd::control
