// The control socket with real Unix sockets: commands, bad input, oversized
// lines, stalled and half-written clients, many clients at once. The control
// loop runs on its own thread, as in the daemon; clients are this thread.
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "control/control_socket.h"
#include "control/test/fixture.h"
#include "control/test/socket_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgefwd::control {
namespace {

using testing::ClosedByServer;
using testing::Connect;
using ::testing::HasSubstr;
using testing::ReadReply;
using testing::SendAll;

class SocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = testing::StandardSpec();
    auto cp = ControlPlane::Create(spec_, fib_.fib());
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = std::move(*cp);
    SocketLimits limits;
    limits.max_clients = 40;
    limits.idle_timeout = std::chrono::milliseconds(1500);
    limits.output_high_watermark = 64 << 10;
    cp_->SetSocketLimits(limits);
    ASSERT_TRUE(cp_->StartSocket().ok());
    loop_ = std::thread([this] {
      while (!stop_.load()) {
        const auto start = std::chrono::steady_clock::now();
        cp_->Poll(20);
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        double seen = longest_turn_ms_.load();
        while (ms > seen && !longest_turn_ms_.compare_exchange_weak(seen, ms)) {
        }
      }
    });
  }
  void TearDown() override {
    stop_ = true;
    if (loop_.joinable()) loop_.join();
    cp_.reset();
  }
  ResponseReader Ask(const std::string& line) {
    int fd = Connect(spec_.socket_path);
    EXPECT_GE(fd, 0);
    SendAll(fd, line + "\n");
    ResponseReader r = ReadReply(fd);
    ::close(fd);
    return r;
  }

  testing::TestFib fib_;
  ControlSpec spec_;
  std::unique_ptr<ControlPlane> cp_;
  std::thread loop_;
  std::atomic<bool> stop_{false};
  std::atomic<double> longest_turn_ms_{0};
};

TEST_F(SocketTest, SocketIsPrivate) {
  struct stat st;
  ASSERT_EQ(::stat(spec_.socket_path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(SocketTest, CommandsAndErrors) {
  ResponseReader r = Ask("v1 route add 10.0.0.0/8 peer-x");
  ASSERT_TRUE(r.done());
  EXPECT_TRUE(r.ok()) << r.error();
  r = Ask("v1 route lookup 10.9.9.9");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_THAT(r.body(), HasSubstr("10.0.0.0/8"));
  EXPECT_THAT(r.body(), HasSubstr("peer-x"));
  r = Ask("v1+json route show 10.0.0.0/8");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r.body(), HasSubstr("\"members\":[\"peer-x\"]"));

  r = Ask("v1 route add 10.0.0.1/8 peer-x");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "prefix: '10.0.0.1/8' has host bits set");
  r = Ask("v1 route add 10.0.0.0/33 peer-x");
  EXPECT_THAT(r.error(), HasSubstr("out of range 0..32"));
  r = Ask("v1 route add 11.0.0.0/8 nobody");
  EXPECT_EQ(r.error(), "egress: unknown neighbor or group 'nobody'");
  r = Ask("v1 frobnicate");
  EXPECT_THAT(r.error(), HasSubstr("unknown command 'frobnicate'"));
  r = Ask("v9 stats");
  EXPECT_THAT(r.error(), HasSubstr("unsupported protocol version"));
  r = Ask("v1 neighbor down nobody");
  EXPECT_EQ(r.error(), "unknown neighbor 'nobody'");
  r = Ask("v1 load /nonexistent/x.routes");
  EXPECT_THAT(r.error(), HasSubstr("/nonexistent/x.routes: cannot open"));
  // Nothing installed was lost.
  EXPECT_EQ(fib_.One("10.1.1.1"), "peer-x");
}

TEST_F(SocketTest, LoadIsAtomic) {
  const std::string good =
      testing::WriteTempFile("sock_good.routes", "20.0.0.0/8 peer-y\n2001:db8::/32 cdn-1\n");
  const std::string bad =
      testing::WriteTempFile("sock_bad.routes", "30.0.0.0/8 peer-y\n31.0.0.0/8 nobody\n");
  ResponseReader r = Ask("v1 load " + bad);
  EXPECT_EQ(r.error(), bad + ":2: egress: unknown neighbor or group 'nobody'");
  EXPECT_EQ(fib_.One("30.0.0.1"), "none");
  r = Ask("v1 load " + good);
  EXPECT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(fib_.One("20.0.0.1"), "peer-y");
  EXPECT_EQ(fib_.One("2001:db8::1"), "cdn-1");
}

TEST_F(SocketTest, PipelinedRequestsOnOneConnection) {
  int fd = Connect(spec_.socket_path);
  ASSERT_GE(fd, 0);
  std::string batch;
  for (int i = 0; i < 500; ++i) {
    batch += "v1 route add 40." + std::to_string(i / 256) + "." + std::to_string(i % 256) +
             ".0/24 transit-ecmp\n";
  }
  SendAll(fd, batch);
  // Replies arrive in order; count terminators and ok status lines.
  std::string all;
  int terminators = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  char buf[65536];
  while (terminators < 500 && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    all.append(buf, static_cast<size_t>(n));
    terminators = 0;
    for (size_t pos = 0; (pos = all.find("\n.\n", pos)) != std::string::npos; pos += 2) {
      ++terminators;
    }
  }
  EXPECT_EQ(terminators, 500);
  size_t oks = 0;
  for (size_t pos = 0; (pos = all.find("ok\n", pos)) != std::string::npos; pos += 3) ++oks;
  EXPECT_EQ(oks, 500u);
  ::close(fd);
  EXPECT_EQ(fib_.One("40.1.243.1"), "transit-a,transit-b");
}

TEST_F(SocketTest, OversizedLineIsRefusedAndClosed) {
  int fd = Connect(spec_.socket_path);
  ASSERT_GE(fd, 0);
  SendAll(fd, "v1 route add " + std::string(100000, 'x'));
  ResponseReader r = ReadReply(fd);
  ASSERT_TRUE(r.done());
  EXPECT_THAT(r.error(), HasSubstr("request longer than 4096 bytes"));
  EXPECT_TRUE(ClosedByServer(fd, 3000));
  ::close(fd);
  EXPECT_TRUE(Ask("v1 stats").ok());
}

TEST_F(SocketTest, BinaryGarbageGetsAnErrorReply) {
  int fd = Connect(spec_.socket_path);
  SendAll(fd, std::string("v1 \x00\x01\x02\xff route\n", 14));
  ResponseReader r = ReadReply(fd);
  ASSERT_TRUE(r.done());
  EXPECT_THAT(r.error(), HasSubstr("binary byte"));
  ::close(fd);
}

TEST_F(SocketTest, HalfWrittenRequestAtEofGetsAnError) {
  int fd = Connect(spec_.socket_path);
  SendAll(fd, "v1 route add 10.0.0.0/8");
  ::shutdown(fd, SHUT_WR);
  ResponseReader r = ReadReply(fd);
  ASSERT_TRUE(r.done());
  EXPECT_THAT(r.error(), HasSubstr("incomplete request"));
  ::close(fd);
  EXPECT_EQ(fib_.One("10.0.0.1"), "none");
}

TEST_F(SocketTest, StalledClientsDoNotStallOthersAndTimeOut) {
  // One stalls mid-request; one floods requests and never reads replies.
  int half = Connect(spec_.socket_path);
  SendAll(half, "v1 route add 50.0.0.0/8");
  int flood = Connect(spec_.socket_path);
  ASSERT_GE(flood, 0);
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "v1 help\n";
  std::thread flooder([&] { SendAll(flood, many); });  // blocks when buffers fill
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int i = 0; i < 20; ++i) {
    ResponseReader r = Ask("v1 route add 60.0.0.0/8 peer-x");
    ASSERT_TRUE(r.done()) << i;
    EXPECT_TRUE(r.ok()) << r.error();
  }
  // Both make no progress: the idle timeout (1.5 s here) closes them.
  EXPECT_TRUE(ClosedByServer(half, 5000));
  ::shutdown(flood, SHUT_RDWR);
  flooder.join();
  ::close(half);
  ::close(flood);
  // No control-loop turn was held up by them.
  EXPECT_LT(longest_turn_ms_.load(), 1000.0);
}

TEST_F(SocketTest, ManyClientsAtOnce) {
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 32; ++c) {
    clients.emplace_back([&, c] {
      int fd = Connect(spec_.socket_path);
      if (fd < 0) return;
      for (int i = 0; i < 20; ++i) {
        SendAll(fd, "v1 route add 70." + std::to_string(c) + "." + std::to_string(i) +
                        ".0/24 peer-y\n");
        ResponseReader r = ReadReply(fd);
        if (r.done() && r.ok()) ok.fetch_add(1);
      }
      ::close(fd);
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 32 * 20);
  EXPECT_EQ(fib_.One("70.31.19.1"), "peer-y");
}

TEST_F(SocketTest, ClientsBeyondTheLimitAreTurnedAway) {
  std::vector<int> fds;
  for (int i = 0; i < 40; ++i) fds.push_back(Connect(spec_.socket_path));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int extra = Connect(spec_.socket_path);
  ResponseReader r = ReadReply(extra);
  ASSERT_TRUE(r.done());
  EXPECT_THAT(r.error(), HasSubstr("too many control clients"));
  ::close(extra);
  for (int fd : fds) ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(Ask("v1 stats").ok());
}

TEST(SocketListenTest, LiveSocketIsNotStolen) {
  const std::string path =
      ::testing::TempDir() + "/edgefwd-listen-" + std::to_string(::getpid()) + ".sock";
  auto first = ControlSocket::Listen(path, {}, [](std::string_view) { return std::string(); });
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = ControlSocket::Listen(path, {}, [](std::string_view) { return std::string(); });
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("in use"));
}

}  // namespace
}  // namespace edgefwd::control
