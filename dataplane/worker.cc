#include "dataplane/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "dataplane/pipeline/flow_hash.h"
#include "dataplane/pipeline/ipv4_check.h"
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
  rte_mbuf* pkts[kBurst];
  env_->qsbr->Online(reader_);
  while (!env_->stop.load(std::memory_order_relaxed)) {
    bool busy = false;
    for (const RxQueueId& q : rx_) {
      uint64_t t0 = rte_rdtsc();
      uint16_t n = rte_eth_rx_burst(q.port, q.queue, pkts, kBurst);
      if (n == 0) continue;
      counters_->stage_cycles[WorkerCounters::kRx].Add(rte_rdtsc() - t0);
      busy = true;
      ProcessBurst(q.port, pkts, n);
    }
    uint64_t now = rte_rdtsc();
    if (now - last_drain >= drain_cycles) {
      FlushAll();
      last_drain = rte_rdtsc();
      counters_->stage_cycles[WorkerCounters::kTx].Add(last_drain - now);
    }
    (busy ? counters_->busy_turns : counters_->idle_turns).Add(1);
    // Between bursts this worker holds no pointer into the FIB.
    env_->qsbr->Quiescent(reader_);
  }
  FlushAll();
  env_->qsbr->Offline(reader_);
  return 0;
}

void Worker::ProcessBurst(uint16_t in_port, rte_mbuf** pkts, uint16_t n) {
  const PortEnv& in = env_->ports[in_port];
  Meta meta[kBurst];
  lpm::Ipv4Address v4_dst[kBurst];
  lpm::Ipv6Address v6_dst[kBurst];
  lpm::NextHop v4_nh[kBurst];
  lpm::NextHop v6_nh[kBurst];
  uint8_t v4_index[kBurst];
  uint8_t v6_index[kBurst];
  uint16_t n4 = 0, n6 = 0;

  WorkerCounters& c = *counters_;
  const uint64_t t_start = rte_rdtsc();
  uint64_t rx_bytes = 0;
  for (uint16_t i = 0; i < n && i < kPrefetchAhead; ++i)
    rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  // Step 1-2: parse and check every packet; collect destinations.
  for (uint16_t i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
    rte_mbuf* m = pkts[i];
    rx_bytes += m->pkt_len;
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    // The checks compare header lengths with the whole frame but read only
    // headers, which must sit in the first segment.
    uint32_t len = m->pkt_len;
    if (m->data_len < len && m->data_len < kContiguousHeaderBytes) len = m->data_len;
    EthernetInfo eth;
    EthernetOutcome eo = ParseEthernet(frame, len, in.vlans, &eth);
    meta[i] = Meta{eth.l3_offset, eth.tagged};
    const uint8_t* l3 = frame + eth.l3_offset;
    uint32_t l3_len = len - eth.l3_offset;
    if (eo == EthernetOutcome::kIpv4) {
      Ipv4Outcome o =
          CheckIpv4(l3, l3_len, in.rx_checksum_offload && NicCheckedIpv4(m), env_->local);
      if (o != Ipv4Outcome::kForward) {
        Dispose(m, ToReason(o));
        continue;
      }
      v4_dst[n4] = LoadBe32(l3 + 16);
      v4_index[n4++] = i;
    } else if (eo == EthernetOutcome::kIpv6) {
      Ipv6Outcome o = CheckIpv6(l3, l3_len, env_->local);
      if (o != Ipv6Outcome::kForward) {
        Dispose(m, ToReason(o));
        continue;
      }
      std::memcpy(v6_dst[n6].data(), l3 + 24, 16);
      v6_index[n6++] = i;
    } else {
      Dispose(m, ToReason(eo));
    }
  }
  c.ports[in_port].rx.packets.Add(n);
  c.ports[in_port].rx.bytes.Add(rx_bytes);
  c.packets.Add(n);
  const uint64_t t_checked = rte_rdtsc();

  // Step 3: one bulk lookup per family for the whole burst.
  if (n4 != 0) env_->v4->LookupBurst(v4_dst, v4_nh, n4);
  if (n6 != 0) env_->v6->LookupBurst(v6_dst, v6_nh, n6);
  c.lookups.Add(n4 + n6);
  const uint64_t t_looked_up = rte_rdtsc();

  // Steps 4-6: next hop, rewrite, tx buffer (full buffers are sent here and
  // counted as forward time; the timer drain is counted as tx).
  if (n4 != 0) ForwardBurst<true>(pkts, meta, v4_index, v4_nh, n4);
  if (n6 != 0) ForwardBurst<false>(pkts, meta, v6_index, v6_nh, n6);
  const uint64_t t_end = rte_rdtsc();
  c.stage_cycles[WorkerCounters::kCheck].Add(t_checked - t_start);
  c.stage_cycles[WorkerCounters::kLookup].Add(t_looked_up - t_checked);
  c.stage_cycles[WorkerCounters::kForward].Add(t_end - t_looked_up);
}

// The path member for the packet, or nullptr when there is no route. The
// flow hash is computed only for a path with several members: most paths
// have one, and hashing the 5-tuple in software (no RSS hash on vdevs) would
// cost every packet.
template <bool kIpv4>
const Adjacency* Worker::Resolve(const rte_mbuf* m, const Meta& meta, lpm::NextHop nh) const {
  const ForwardingState& state = *env_->state;
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

template <bool kIpv4>
void Worker::ForwardBurst(rte_mbuf** pkts, const Meta* meta, const uint8_t* index,
                          const lpm::NextHop* nh, uint16_t n) {
  // First every packet's adjacency, then the rewrites: the dependent loads
  // (path, member, adjacency) of different packets overlap instead of
  // stalling each rewrite in turn.
  const Adjacency* adjs[kBurst];
  for (uint16_t j = 0; j < n; ++j) adjs[j] = Resolve<kIpv4>(pkts[index[j]], meta[index[j]], nh[j]);

  WorkerCounters& c = *counters_;
  // Class counters are summed here and added once per burst.
  uint64_t class_packets[kEgressClassCount] = {};
  uint64_t class_bytes[kEgressClassCount] = {};
  for (uint16_t j = 0; j < n; ++j) {
    rte_mbuf* m = pkts[index[j]];
    const Meta& mt = meta[index[j]];
    const Adjacency* adj = adjs[j];
    if (adj == nullptr) {
      Dispose(m, Reason::kNoRoute);
      continue;
    }
    uint8_t* l3 = rte_pktmbuf_mtod_offset(m, uint8_t*, mt.l3_offset);
    uint32_t ip_len = kIpv4 ? LoadBe16(l3 + 2) : kIpv6HeaderBytes + LoadBe16(l3 + 4);
    if (ip_len > env_->ports[adj->port].mtu) {
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

    uint32_t bytes = m->pkt_len;
    size_t cls = static_cast<size_t>(adj->egress_class);
    class_packets[cls] += 1;
    class_bytes[cls] += bytes;
    // Per packet and branch-free: a run-length sum mispredicts on traffic
    // that alternates between neighbours.
    c.neighbors[adj->neighbor].Add(bytes);

    TxBuffer& tx = tx_[adj->port];
    tx.pkts[tx.count++] = m;
    if (tx.count == kBurst) Flush(adj->port);
  }
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
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < tx.count; ++i) bytes += tx.pkts[i]->pkt_len;
  uint16_t sent = rte_eth_tx_burst(port, tx_queue_, tx.pkts, tx.count);
  uint64_t unsent_bytes = 0;
  for (uint16_t i = sent; i < tx.count; ++i) {
    unsent_bytes += tx.pkts[i]->pkt_len;
    rte_pktmbuf_free(tx.pkts[i]);
  }
  PortCounters& pc = counters_->ports[port];
  pc.tx.packets.Add(sent);
  pc.tx.bytes.Add(bytes - unsent_bytes);
  if (sent < tx.count)
    counters_->reasons[static_cast<size_t>(Reason::kTxFull)].Add(tx.count - sent);
  tx.count = 0;
}

void Worker::FlushAll() {
  for (uint16_t p = 0; p < kMaxPorts; ++p) {
    if (tx_[p].count != 0) Flush(p);
  }
}

}  // namespace edgefwd::dataplane
