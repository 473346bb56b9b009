// The control socket's wire protocol, version 1 (see control/PROTOCOL.md).
//
//   request:  one line   `v1 COMMAND [ARG...]`  or  `v1+json COMMAND [ARG...]`
//   response: `ok` or `error MESSAGE`, then body lines, then a line `.`
//             (a body line starting with '.' is sent with one more '.')
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace edgefwd::control {

inline constexpr size_t kMaxRequestLineBytes = 4096;
inline constexpr size_t kMaxRequestArgs = 16;

struct Request {
  bool json = false;
  std::vector<std::string> args;  // args[0] is the command
};

// Validates and splits one request line (without its '\n'). Refuses lines
// over kMaxRequestLineBytes, bytes outside printable ASCII and tab, unknown
// versions, and requests without a command.
absl::StatusOr<Request> ParseRequestLine(std::string_view line);

// Frames a response: status line, dot-stuffed body, terminator.
std::string FormatResponse(const absl::Status& status, std::string_view body);

// The client side: feeds received bytes, reports when a whole response is
// in. Used by edgectl and the tests.
class ResponseReader {
 public:
  // Returns true once the terminator arrived; further input is ignored.
  bool Feed(std::string_view bytes);
  bool done() const { return done_; }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const std::string& body() const { return body_; }  // lines joined with '\n'
  bool malformed() const { return malformed_; }

 private:
  void Line(std::string_view line);
  std::string partial_;
  bool have_status_ = false;
  bool done_ = false;
  bool ok_ = false;
  bool malformed_ = false;
  std::string error_;
  std::string body_;
};

// JSON string literal with escapes, for the --json bodies.
std::string JsonString(std::string_view s);

}  // namespace edgefwd::control
