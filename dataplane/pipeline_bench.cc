// edgefwd-pipeline-bench: TSC cycles per packet of the worker pipeline alone
// (Worker::ProcessBurst: parse, checks, lookup, rewrite, tx buffering and the
// tx bursts), without a receive PMD. A development tool for comparing builds
// on a shared machine: bench-forward's end-to-end rate moves by +-20 % with
// other load; this reports the minimum and 10th percentile over many short
// blocks, which other load can only raise.
//
// Each burst is prepared outside the timed region the way net_pcap's
// infinite_rx hands it over (fresh mbufs, frame bytes just copied in, so hot
// in cache); transmitted packets go to net_null ports, which free them, as
// net_pcap without tx_pcap does. Traffic and routes are bench-forward's small
// case: 64-byte IPv4/UDP frames, random sources, destinations alternating
// between 198.18.0.0/24 -> port 0 and 198.18.1.0/24 -> port 1.
//
//   edgefwd-pipeline-bench [EAL options] -- [--bursts N] [--blocks B]
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dataplane/pipeline/bytes.h"
#include "dataplane/worker.h"

namespace edgefwd::dataplane {
namespace {

constexpr uint16_t kPorts = 2;
constexpr uint32_t kFrameBytes = 60;
constexpr uint32_t kFrames = 2048;

std::vector<uint8_t> Frame(std::mt19937& rng, uint16_t port) {
  std::vector<uint8_t> f(kFrameBytes, 0);
  f[0] = 0x02, f[5] = uint8_t(port);  // destination: the receiving port
  f[6] = 0x02, f[11] = 0x99;
  StoreBe16(&f[12], 0x0800);
  uint8_t* ip = &f[14];
  ip[0] = 0x45;
  StoreBe16(ip + 2, kFrameBytes - 14);
  ip[8] = 64;
  ip[9] = 17;
  uint32_t src = 0x0a000000 | (rng() & 0xffffff);
  uint32_t dst = 0xc6120000 | uint32_t(port) << 8 | (1 + rng() % 254);
  for (int i = 0; i < 4; ++i) ip[12 + i] = uint8_t(src >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) ip[16 + i] = uint8_t(dst >> (24 - 8 * i));
  StoreBe16(ip + 10, uint16_t(~OnesComplementSum(ip, 10)));
  StoreBe16(ip + 20, uint16_t(1024 + rng() % 60000));
  StoreBe16(ip + 22, uint16_t(1024 + rng() % 60000));
  StoreBe16(ip + 24, kFrameBytes - 14 - 20);
  return f;
}

int Fail(const char* what) {
  std::fprintf(stderr, "edgefwd-pipeline-bench: %s\n", what);
  return 1;
}

int Run(int argc, char** argv) {
  uint32_t bursts = 2000, blocks = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--bursts")
      bursts = uint32_t(std::atoi(argv[i + 1]));
    else if (a == "--blocks")
      blocks = uint32_t(std::atoi(argv[i + 1]));
    else
      return Fail("usage: [EAL options] -- [--bursts N] [--blocks B]");
  }
  rte_mempool* pool =
      rte_pktmbuf_pool_create("bench", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  if (pool == nullptr) return Fail("mempool");
  if (rte_eth_dev_count_avail() < kPorts) return Fail("needs --vdev net_null0 --vdev net_null1");
  rte_eth_conf conf{};
  for (uint16_t p = 0; p < kPorts; ++p) {
    if (rte_eth_dev_configure(p, 1, 1, &conf) != 0 ||
        rte_eth_rx_queue_setup(p, 0, 256, 0, nullptr, pool) != 0 ||
        rte_eth_tx_queue_setup(p, 0, 256, 0, nullptr) != 0 || rte_eth_dev_start(p) != 0)
      return Fail("port setup");
  }

  lpm::QsbrDomain qsbr(1);
  auto v4 = lpm::Ipv4Table::Create(lpm::TableConfig{}, &qsbr);
  auto v6 = lpm::Ipv6Table::Create(lpm::TableConfig{}, &qsbr);
  ForwardingState state(&qsbr, 16);
  for (uint16_t p = 0; p < kPorts; ++p) {
    Adjacency adj;
    adj.dst_mac = {2, 0, 0, 0, 0xbb, uint8_t(p)};
    adj.src_mac = {2, 0, 0, 0, 0, uint8_t(p)};
    adj.port = p;
    adj.neighbor = p;
    state.SetAdjacency(p, adj);
    PathMembers members;
    members.count = 1;
    members.members[0] = p;
    state.SetPath(p, members);
    v4->Insert(lpm::Ipv4Prefix{0xc6120000u | uint32_t(p) << 8, 24}, p);
  }
  WorkerEnv env;
  env.v4 = v4.get();
  env.v6 = v6.get();
  env.state = &state;
  env.qsbr = &qsbr;
  for (uint16_t p = 0; p < kPorts; ++p) {
    PortEnv pe;
    pe.configured = true;
    pe.mtu = 1500;
    env.SetPort(p, pe);
  }
  auto* counters = static_cast<WorkerCounters*>(std::aligned_alloc(64, sizeof(WorkerCounters)));
  new (counters) WorkerCounters();
  rte_ring* punt = rte_ring_create("bench_punt", 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  Worker worker(&env, {}, 0, counters, punt, qsbr.RegisterReader());
  qsbr.Online(0);

  std::mt19937 rng(7);
  std::vector<std::vector<uint8_t>> frames;
  for (uint32_t i = 0; i < kFrames; ++i) frames.push_back(Frame(rng, uint16_t(i % kPorts)));

  std::vector<double> per_block;
  uint32_t next = 0;
  rte_mbuf* pkts[kBurst];
  for (uint32_t b = 0; b < blocks + 1; ++b) {  // block 0 warms up
    uint64_t cycles = 0, packets = 0;
    for (uint32_t i = 0; i < bursts; ++i) {
      if (rte_pktmbuf_alloc_bulk(pool, pkts, kBurst) != 0) return Fail("mbufs leaked");
      for (uint16_t k = 0; k < kBurst; ++k) {
        const std::vector<uint8_t>& f = frames[next++ % kFrames];
        std::memcpy(rte_pktmbuf_mtod(pkts[k], void*), f.data(), f.size());
        pkts[k]->data_len = uint16_t(f.size());
        pkts[k]->pkt_len = uint32_t(f.size());
        pkts[k]->port = 0;
      }
      uint64_t t0 = rte_rdtsc_precise();
      worker.ProcessBurst(uint16_t(i & 1), pkts, kBurst);
      cycles += rte_rdtsc_precise() - t0;
      packets += kBurst;
      qsbr.Quiescent(0);
    }
    if (b != 0) per_block.push_back(double(cycles) / double(packets));
  }
  worker.FlushAll();
  qsbr.Offline(0);
  std::vector<double> sorted = per_block;
  std::sort(sorted.begin(), sorted.end());
  uint64_t forwarded = 0;
  for (uint16_t p = 0; p < kPorts; ++p) forwarded += counters->ports[p].tx.packets.Read();
  std::printf(
      "pipeline cycles/packet (ProcessBurst incl. tx to net_null): min %.2f  p10 %.2f  median "
      "%.2f  (%u blocks x %u bursts of %u; forwarded %lu of %lu)\n",
      sorted.front(), sorted[sorted.size() / 10], sorted[sorted.size() / 2], blocks, bursts, kBurst,
      static_cast<unsigned long>(forwarded), static_cast<unsigned long>(counters->packets.Read()));
  qsbr.UnregisterReader(0);
  for (uint16_t p = 0; p < kPorts; ++p) {
    rte_eth_dev_stop(p);
    rte_eth_dev_close(p);
  }
  rte_ring_free(punt);
  std::free(counters);
  return forwarded == counters->packets.Read() ? 0 : Fail("not every packet was forwarded");
}

}  // namespace
}  // namespace edgefwd::dataplane

int main(int argc, char** argv) {
  int consumed = rte_eal_init(argc, argv);
  if (consumed < 0) return 1;
  int rc = edgefwd::dataplane::Run(argc - consumed, argv + consumed);
  rte_eal_cleanup();
  return rc;
}
