#include "dataplane/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "dataplane/pipeline/flow_hash.h"
#include "dataplane/pipeline/ipv4_check.h"
#include "dataplane/pipeline/ipv4_fast.h"
#include "dataplane/pipeline/ipv6_check.h"
#include "dataplane/pipeline/rewrite.h"

namespace edgefwd::dataplane {
namespace {

// Partial tx bursts wait at most this long (l3fwd's BURST_TX_DRAIN_US).
constexpr uint64_t kTxDrainMicros = 100;
// Ethernet + 802.1Q + the largest IPv4 header + L4 ports.
constexpr uint32_t kContiguousHeaderBytes = 18 + 60 + 4;

bool NicCheckedIpv4(const rte_mbuf* m) {
  return (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD;
}

}  // namespace

Worker::Worker(WorkerEnv* env, std::vector<RxQueueId> rx, uint16_t tx_queue,
               WorkerCounters* counters, rte_ring* punt_ring, lpm::QsbrDomain::ReaderId reader)
    : env_(env),
      rx_(std::move(rx)),
      tx_queue_(tx_queue),
      counters_(counters),
      punt_ring_(punt_ring),
      reader_(reader) {}

int Worker::Run() {
  const uint64_t drain_cycles = (rte_get_tsc_hz() + 999'999) / 1'000'000 * kTxDrainMicros;
  uint64_t last_drain = rte_rdtsc();
  uint32_t turn = 0;
  rte_mbuf* pkts[kBurst];
  env_->qsbr->Online(reader_);
  while (!env_->stop.load(std::memory_order_relaxed)) {
    bool busy = false;
    timed_ = ++turn % kStageSampleEvery == 0;
    for (const RxQueueId& q : rx_) {
      uint64_t t0 = timed_ ? rte_rdtsc() : 0;
      uint16_t n = rte_eth_rx_burst(q.port, q.queue, pkts, kBurst);
      if (n == 0) continue;
      if (timed_) {
        counters_->stage_cycles[WorkerCounters::kRx].Add(rte_rdtsc() - t0);
        counters_->timed_packets.Add(n);
      }
      busy = true;
      ProcessBurst(q.port, pkts, n);
    }
    uint64_t now = rte_rdtsc();
    if (now - last_drain >= drain_cycles) {
      FlushAll();
      last_drain = timed_ ? rte_rdtsc() : now;
      if (timed_) counters_->stage_cycles[WorkerCounters::kTx].Add(last_drain - now);
    }
    (busy ? counters_->busy_turns : counters_->idle_turns).Add(1);
    // Between bursts this worker holds no pointer into the FIB.
    env_->qsbr->Quiescent(reader_);
  }
  FlushAll();
  env_->qsbr->Offline(reader_);
  return 0;
}

Worker::Slow Worker::ParseAndCheck(rte_mbuf* m, const PortEnv& in, Meta* meta) {
  const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
  // The checks compare header lengths with the whole frame but read only
  // headers, which must sit in the first segment.
  uint32_t len = m->pkt_len;
  if (m->data_len < len && m->data_len < kContiguousHeaderBytes) len = m->data_len;
  EthernetInfo eth;
  EthernetOutcome eo = ParseEthernet(frame, len, in.vlans, &eth);
  *meta = Meta{eth.l3_offset, eth.tagged};
  const uint8_t* l3 = frame + eth.l3_offset;
  uint32_t l3_len = len - eth.l3_offset;
  if (eo == EthernetOutcome::kIpv4) {
    Ipv4Outcome o = CheckIpv4(l3, l3_len, in.rx_checksum_offload && NicCheckedIpv4(m), env_->local);
    if (o == Ipv4Outcome::kForward) return Slow::kIpv4;
    Dispose(m, ToReason(o));
  } else if (eo == EthernetOutcome::kIpv6) {
    Ipv6Outcome o = CheckIpv6(l3, l3_len, env_->local);
    if (o == Ipv6Outcome::kForward) return Slow::kIpv6;
    Dispose(m, ToReason(o));
  } else {
    Dispose(m, ToReason(eo));
  }
  return Slow::kDisposed;
}

void Worker::ProcessBurst(uint16_t in_port, rte_mbuf** pkts, uint16_t n) {
  const PortEnv& in = env_->ports[in_port];
  const LocalAddresses& local = env_->local;
  const bool nic_checksum = in.rx_checksum_offload;
  Meta meta[kBurst];
  lpm::Ipv4Address v4_dst[kBurst];
  lpm::Ipv6Address v6_dst[kBurst];
  lpm::NextHop v4_nh[kBurst];
  lpm::NextHop v6_nh[kBurst];
  uint8_t v4_index[kBurst];
  uint8_t v6_index[kBurst];
  uint16_t n4 = 0, n6 = 0;

  WorkerCounters& c = *counters_;
  const bool timed = timed_;
  const uint64_t t_start = timed ? rte_rdtsc() : 0;
  uint64_t rx_bytes = 0;
  // Steps 1-2: parse and check every packet; collect destinations. Untagged
  // IPv4 without options takes the fast path, checked for the whole burst
  // at once; everything else (and every packet the fast path has doubts
  // about) the full steps.
  // No software prefetch: the loads of this first pass do not depend on each
  // other, so the core already has the headers of many packets in flight
  // (a prefetch a few packets ahead in the same loop cost 0.7 cycles per
  // packet in edgefwd-pipeline-bench and could only start a miss some ten
  // cycles earlier). The later passes find the headers in L1.
  Ipv4FastBurst& fb = fast_burst_;
  for (uint16_t i = 0; i < n; ++i) {
    const rte_mbuf* m = pkts[i];
    const uint32_t pkt_len = m->pkt_len;
    rx_bytes += pkt_len;
    fb.Load(i, rte_pktmbuf_mtod(m, const uint8_t*), m->data_len == pkt_len ? pkt_len : 0,
            nic_checksum && NicCheckedIpv4(m));
  }
  const uint16_t fast = uint16_t(fb.Check(n, local));
  const lpm::Ipv4Address* v4_lookup = fb.destinations();
  if (fast != n) [[unlikely]] {
    v4_lookup = v4_dst;
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
      if (fb.Passed(i)) {
        meta[i] = Meta{kEthernetHeaderBytes, false};
        v4_dst[n4] = fb.Destination(i);
        v4_index[n4++] = uint8_t(i);
        continue;
      }
      switch (ParseAndCheck(m, in, &meta[i])) {
        case Slow::kIpv4:
          v4_dst[n4] = LoadBe32(frame + meta[i].l3_offset + 16);
          v4_index[n4++] = uint8_t(i);
          break;
        case Slow::kIpv6:
          std::memcpy(v6_dst[n6].data(), frame + meta[i].l3_offset + 24, 16);
          v6_index[n6++] = uint8_t(i);
          break;
        case Slow::kDisposed:
          break;
      }
    }
  } else {
    n4 = n;  // v4_index is not read when every packet took the fast path
  }
  c.ports[in_port].rx.packets.Add(n);
  c.ports[in_port].rx.bytes.Add(rx_bytes);
  c.packets.Add(n);
  const uint64_t t_checked = timed ? rte_rdtsc() : 0;

  // Step 3: one bulk lookup per family for the whole burst.
  if (n4 != 0) env_->v4->LookupBurst(v4_lookup, v4_nh, n4);
  if (n6 != 0) env_->v6->LookupBurst(v6_dst, v6_nh, n6);
  c.lookups.Add(n4 + n6);
  const uint64_t t_looked_up = timed ? rte_rdtsc() : 0;

  // Steps 4-6: next hop, rewrite, tx buffer (full buffers are sent here and
  // counted as forward time; the timer drain is counted as tx).
  if (fast == n) {
    ForwardBurst<true, true>(pkts, meta, v4_index, v4_nh, n);
  } else {
    if (n4 != 0) ForwardBurst<true, false>(pkts, meta, v4_index, v4_nh, n4);
    if (n6 != 0) ForwardBurst<false, false>(pkts, meta, v6_index, v6_nh, n6);
  }
  if (timed) {
    const uint64_t t_end = rte_rdtsc();
    c.stage_cycles[WorkerCounters::kCheck].Add(t_checked - t_start);
    c.stage_cycles[WorkerCounters::kLookup].Add(t_looked_up - t_checked);
    c.stage_cycles[WorkerCounters::kForward].Add(t_end - t_looked_up);
  }
}

// The path member for the packet, or nullptr when there is no route. The
// flow hash is computed only for a path with several members: most paths
// have one, and hashing the 5-tuple in software (no RSS hash on vdevs) would
// cost every packet.
template <bool kIpv4>
const Adjacency* Worker::Resolve(const ForwardingState& state, const rte_mbuf* m, const Meta& meta,
                                 lpm::NextHop nh) {
  if (nh >= state.max_paths()) return nullptr;  // kNoRoute, or an id the state cannot hold
  const PathMembers* path = state.path(nh);
  if (path == nullptr || path->count == 0) return nullptr;
  AdjacencyId member = path->members[0];
  if (path->count > 1) {
    uint32_t hash;
    if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) {
      hash = m->hash.rss;
    } else {
      const uint8_t* l3 = rte_pktmbuf_mtod_offset(m, const uint8_t*, meta.l3_offset);
      uint32_t l3_len = m->data_len - meta.l3_offset;
      hash = kIpv4 ? FlowHashIpv4(l3, l3_len) : FlowHashIpv6(l3, l3_len);
    }
    member = path->members[PickMember(hash, path->count)];
  }
  return &state.adjacency(member);
}

template <bool kIpv4, bool kAllFast>
void Worker::ForwardBurst(rte_mbuf** pkts, const Meta* meta, const uint8_t* index,
                          const lpm::NextHop* nh, uint16_t n) {
  // kAllFast: every packet of the burst took the fast path (the common
  // case), so packet j is pkts[j], untagged, its IPv4 header at 14: no
  // index or meta to load.
  auto packet = [&](uint16_t j) { return kAllFast ? pkts[j] : pkts[index[j]]; };
  auto meta_of = [&](uint16_t j) {
    return kAllFast ? Meta{kEthernetHeaderBytes, false} : meta[index[j]];
  };
  // Locals, not members: the packet writes below go through uint8_t*, which
  // may alias anything, so members would be reloaded after every store.
  const ForwardingState& state = *env_->state;
  const uint32_t* const egress_mtu = env_->egress_mtu;
  PacketsBytes* const neighbors = counters_->neighbors;
  TxBuffer* const tx_buffers = tx_;
  // First every packet's adjacency, then the rewrites: the dependent loads
  // (path, member, adjacency) of different packets overlap instead of
  // stalling each rewrite in turn.
  const Adjacency* adjs[kBurst];
  for (uint16_t j = 0; j < n; ++j) adjs[j] = Resolve<kIpv4>(state, packet(j), meta_of(j), nh[j]);

  // Class counters are summed here and added once per burst.
  uint64_t class_packets[kEgressClassCount] = {};
  uint64_t class_bytes[kEgressClassCount] = {};
  for (uint16_t j = 0; j < n; ++j) {
    rte_mbuf* m = packet(j);
    const Meta mt = meta_of(j);
    const Adjacency* adj = adjs[j];
    if (adj == nullptr) [[unlikely]] {
      Dispose(m, Reason::kNoRoute);
      continue;
    }
    uint8_t* l3 = rte_pktmbuf_mtod_offset(m, uint8_t*, mt.l3_offset);
    uint32_t ip_len = kIpv4 ? LoadBe16(l3 + 2) : kIpv6HeaderBytes + LoadBe16(l3 + 4);
    const uint16_t port = adj->port;
    if (ip_len > egress_mtu[port]) [[unlikely]] {
      Dispose(m, Reason::kTooBig);
      continue;
    }
    // Ethernet padding after a short IP packet is not part of it.
    uint32_t frame_len = mt.l3_offset + ip_len;
    if (m->pkt_len > frame_len) [[unlikely]]
      rte_pktmbuf_trim(m, m->pkt_len - frame_len);

    if constexpr (kIpv4) {
      DecrementTtl(l3);
    } else {
      DecrementHopLimit(l3);
    }
    TagChange change = TagChangeFor(mt.tagged, adj->vlan);
    if (change == TagChange::kAdd) [[unlikely]] {
      if (rte_pktmbuf_prepend(m, kVlanTagBytes) == nullptr) {
        Dispose(m, Reason::kNoHeadroom);
        continue;
      }
    } else if (change == TagChange::kRemove) [[unlikely]] {
      rte_pktmbuf_adj(m, kVlanTagBytes);
    }
    WriteEthernet(rte_pktmbuf_mtod(m, uint8_t*), *adj, change);

    const uint32_t bytes = m->pkt_len;
    const size_t cls = static_cast<size_t>(adj->egress_class);
    class_packets[cls] += 1;
    class_bytes[cls] += bytes;
    // Per packet and branch-free: a run-length sum mispredicts on traffic
    // that alternates between neighbours.
    neighbors[adj->neighbor].Add(bytes);

    TxBuffer& tx = tx_buffers[port];
    tx.pkts[tx.count++] = m;
    tx.bytes += bytes;
    if (tx.count == kBurst) Flush(port);
  }
  WorkerCounters& c = *counters_;
  for (size_t k = 0; k < kEgressClassCount; ++k) {
    c.classes[k].packets.Add(class_packets[k]);
    c.classes[k].bytes.Add(class_bytes[k]);
  }
}

void Worker::Dispose(rte_mbuf* m, Reason reason) {
  counters_->reasons[static_cast<size_t>(reason)].Add(1);
  if (IsPunt(reason)) {
    m->hash.usr = static_cast<uint32_t>(reason);  // read by the control thread
    if (rte_ring_sp_enqueue(punt_ring_, m) == 0) return;
    counters_->reasons[static_cast<size_t>(Reason::kPuntRingFull)].Add(1);
  }
  rte_pktmbuf_free(m);
}

void Worker::Flush(uint16_t port) {
  TxBuffer& tx = tx_[port];
  if (tx.count == 0) return;
  uint16_t sent = rte_eth_tx_burst(port, tx_queue_, tx.pkts, tx.count);
  uint64_t unsent_bytes = 0;
  for (uint16_t i = sent; i < tx.count; ++i) {
    unsent_bytes += tx.pkts[i]->pkt_len;
    rte_pktmbuf_free(tx.pkts[i]);
  }
  PortCounters& pc = counters_->ports[port];
  pc.tx.packets.Add(sent);
  pc.tx.bytes.Add(tx.bytes - unsent_bytes);
  if (sent < tx.count)
    counters_->reasons[static_cast<size_t>(Reason::kTxFull)].Add(tx.count - sent);
  tx.count = 0;
  tx.bytes = 0;
}

void Worker::FlushAll() {
  for (uint16_t p = 0; p < kMaxPorts; ++p) {
    if (tx_[p].count != 0) Flush(p);
  }
}

}  // namespace edgefwd::dataplane
