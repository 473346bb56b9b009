#include "dataplane/stats.h"

#include <rte_ethdev.h>

#include <atomic>
#include <cctype>

#include "absl/strings/str_format.h"

namespace edgefwd::dataplane {
namespace {

std::atomic<const StatsSource*> g_telemetry_source{nullptr};

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string Name(std::string_view v) {
  return std::string(v.data(), v.size());
}

// DPDK telemetry accepts only [A-Za-z0-9_] in dictionary keys (a neighbour
// called "transit-a" would be dropped silently): others become '_'.
std::string TelemetryKey(const std::string& name) {
  std::string key = name;
  for (char& c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return key;
}

double BusyRatio(const StatsSnapshot::WorkerStats& w) {
  uint64_t turns = w.busy_turns + w.idle_turns;
  return turns == 0 ? 0.0 : double(w.busy_turns) / double(turns);
}

// Telemetry takes a fresh snapshot per request: the cost is a sum over a
// few workers, off the fast path.
bool Snapshot(StatsSnapshot* out) {
  const StatsSource* src = g_telemetry_source.load(std::memory_order_acquire);
  if (src == nullptr) return false;
  *out = src->Take();
  return true;
}

int TelemetryPorts(const char*, const char*, rte_tel_data* d) {
  StatsSnapshot s;
  if (!Snapshot(&s)) return -1;
  rte_tel_data_start_dict(d);
  for (const auto& p : s.ports) {
    rte_tel_data* port = rte_tel_data_alloc();
    rte_tel_data_start_dict(port);
    rte_tel_data_add_dict_u64(port, "id", p.id);
    rte_tel_data_add_dict_u64(port, "link_up", p.link_up);
    rte_tel_data_add_dict_u64(port, "rx_packets", p.rx_packets);
    rte_tel_data_add_dict_u64(port, "rx_bytes", p.rx_bytes);
    rte_tel_data_add_dict_u64(port, "tx_packets", p.tx_packets);
    rte_tel_data_add_dict_u64(port, "tx_bytes", p.tx_bytes);
    rte_tel_data_add_dict_u64(port, "nic_missed", p.nic_missed);
    rte_tel_data_add_dict_u64(port, "nic_rx_errors", p.nic_rx_errors);
    rte_tel_data_add_dict_u64(port, "nic_tx_errors", p.nic_tx_errors);
    rte_tel_data_add_dict_container(d, TelemetryKey(p.name).c_str(), port, 0);
  }
  return 0;
}

int TelemetryClasses(const char*, const char*, rte_tel_data* d) {
  StatsSnapshot s;
  if (!Snapshot(&s)) return -1;
  rte_tel_data_start_dict(d);
  for (size_t c = 0; c < kEgressClassCount; ++c) {
    std::string name = Name(ToString(static_cast<EgressClass>(c)));
    rte_tel_data_add_dict_u64(d, (name + "_packets").c_str(), s.classes[c].packets);
    rte_tel_data_add_dict_u64(d, (name + "_bytes").c_str(), s.classes[c].bytes);
  }
  return 0;
}

int TelemetryNeighbors(const char*, const char*, rte_tel_data* d) {
  StatsSnapshot s;
  if (!Snapshot(&s)) return -1;
  rte_tel_data_start_dict(d);
  for (const auto& n : s.neighbors) {
    rte_tel_data* nd = rte_tel_data_alloc();
    rte_tel_data_start_dict(nd);
    rte_tel_data_add_dict_string(nd, "class", Name(ToString(n.egress_class)).c_str());
    rte_tel_data_add_dict_u64(nd, "packets", n.packets);
    rte_tel_data_add_dict_u64(nd, "bytes", n.bytes);
    rte_tel_data_add_dict_container(d, TelemetryKey(n.name).c_str(), nd, 0);
  }
  return 0;
}

int TelemetryDrops(const char*, const char*, rte_tel_data* d) {
  StatsSnapshot s;
  if (!Snapshot(&s)) return -1;
  rte_tel_data_start_dict(d);
  for (size_t r = 0; r < kReasonCount; ++r)
    rte_tel_data_add_dict_u64(d, Name(kReasonNames[r]).c_str(), s.reasons[r]);
  return 0;
}

int TelemetryWorkers(const char*, const char*, rte_tel_data* d) {
  StatsSnapshot s;
  if (!Snapshot(&s)) return -1;
  rte_tel_data_start_dict(d);
  for (const auto& w : s.workers) {
    rte_tel_data* wd = rte_tel_data_alloc();
    rte_tel_data_start_dict(wd);
    rte_tel_data_add_dict_u64(wd, "lookups", w.lookups);
    rte_tel_data_add_dict_u64(wd, "busy_turns", w.busy_turns);
    rte_tel_data_add_dict_u64(wd, "idle_turns", w.idle_turns);
    // Telemetry in 22.11 has no doubles in dicts: per mille.
    rte_tel_data_add_dict_u64(wd, "busy_per_mille", uint64_t(BusyRatio(w) * 1000));
    rte_tel_data_add_dict_u64(wd, "packets", w.packets);
    // cycles[stage] / timed_packets = cycles per packet in that stage.
    rte_tel_data_add_dict_u64(wd, "timed_packets", w.timed_packets);
    rte_tel_data* cycles = rte_tel_data_alloc();
    rte_tel_data_start_dict(cycles);
    for (size_t k = 0; k < WorkerCounters::kStageCount; ++k)
      rte_tel_data_add_dict_u64(cycles, kStageNames[k], w.stage_cycles[k]);
    rte_tel_data_add_dict_container(wd, "cycles", cycles, 0);
    rte_tel_data_add_dict_container(d, absl::StrFormat("lcore%u", w.lcore).c_str(), wd, 0);
  }
  return 0;
}

}  // namespace

StatsSnapshot StatsSource::Take() const {
  StatsSnapshot s;
  for (const Port* p : ports) {
    StatsSnapshot::PortStats ps;
    ps.name = p->name;
    ps.id = p->id;
    ps.link_up = p->link_up;
    for (const WorkerInfo& w : workers) {
      const PortCounters& pc = w.counters->ports[p->id];
      ps.rx_packets += pc.rx.packets.Read();
      ps.rx_bytes += pc.rx.bytes.Read();
      ps.tx_packets += pc.tx.packets.Read();
      ps.tx_bytes += pc.tx.bytes.Read();
    }
    rte_eth_stats es;
    if (p->started && rte_eth_stats_get(p->id, &es) == 0) {
      ps.nic_missed = es.imissed;
      ps.nic_rx_errors = es.ierrors;
      ps.nic_tx_errors = es.oerrors;
    }
    s.ports.push_back(std::move(ps));
  }
  s.neighbors.resize(neighbors.size());
  for (size_t n = 0; n < neighbors.size(); ++n) {
    s.neighbors[n].name = neighbors[n].name;
    s.neighbors[n].egress_class = neighbors[n].egress_class;
  }
  for (const WorkerInfo& w : workers) {
    const WorkerCounters& c = *w.counters;
    for (size_t r = 0; r < kReasonCount; ++r) s.reasons[r] += c.reasons[r].Read();
    for (size_t k = 0; k < kEgressClassCount; ++k) {
      s.classes[k].packets += c.classes[k].packets.Read();
      s.classes[k].bytes += c.classes[k].bytes.Read();
    }
    for (size_t n = 0; n < neighbors.size(); ++n) {
      s.neighbors[n].packets += c.neighbors[n].packets.Read();
      s.neighbors[n].bytes += c.neighbors[n].bytes.Read();
    }
    StatsSnapshot::WorkerStats ws;
    ws.lcore = w.lcore;
    ws.lookups = c.lookups.Read();
    ws.busy_turns = c.busy_turns.Read();
    ws.idle_turns = c.idle_turns.Read();
    ws.packets = c.packets.Read();
    ws.timed_packets = c.timed_packets.Read();
    for (size_t k = 0; k < WorkerCounters::kStageCount; ++k)
      ws.stage_cycles[k] = c.stage_cycles[k].Read();
    s.workers.push_back(ws);
  }
  if (punts_drained != nullptr) s.punts_drained = punts_drained->load(std::memory_order_relaxed);
  return s;
}

std::string ToJson(const StatsSnapshot& s) {
  std::string out = "{\"ports\":{";
  for (size_t i = 0; i < s.ports.size(); ++i) {
    const auto& p = s.ports[i];
    out += absl::StrFormat(
        "%s%s:{\"id\":%u,\"link_up\":%s,\"rx_packets\":%u,\"rx_bytes\":%u,\"tx_packets\":%u,"
        "\"tx_bytes\":%u,\"nic_missed\":%u,\"nic_rx_errors\":%u,\"nic_tx_errors\":%u}",
        i ? "," : "", Quote(p.name), p.id, p.link_up ? "true" : "false", p.rx_packets, p.rx_bytes,
        p.tx_packets, p.tx_bytes, p.nic_missed, p.nic_rx_errors, p.nic_tx_errors);
  }
  out += "},\"drops\":{";
  for (size_t r = 0; r < kReasonCount; ++r)
    out += absl::StrFormat("%s\"%s\":%u", r ? "," : "", Name(kReasonNames[r]), s.reasons[r]);
  out += "},\"classes\":{";
  for (size_t c = 0; c < kEgressClassCount; ++c)
    out += absl::StrFormat("%s\"%s\":{\"packets\":%u,\"bytes\":%u}", c ? "," : "",
                           Name(ToString(static_cast<EgressClass>(c))), s.classes[c].packets,
                           s.classes[c].bytes);
  out += "},\"neighbors\":{";
  for (size_t n = 0; n < s.neighbors.size(); ++n) {
    const auto& nb = s.neighbors[n];
    out += absl::StrFormat("%s%s:{\"class\":\"%s\",\"packets\":%u,\"bytes\":%u}", n ? "," : "",
                           Quote(nb.name), Name(ToString(nb.egress_class)), nb.packets, nb.bytes);
  }
  out += "},\"workers\":[";
  for (size_t w = 0; w < s.workers.size(); ++w) {
    const auto& wk = s.workers[w];
    out += absl::StrFormat(
        "%s{\"lcore\":%u,\"packets\":%u,\"lookups\":%u,\"busy_turns\":%u,"
        "\"idle_turns\":%u,\"busy_ratio\":%.4f,\"timed_packets\":%u,\"cycles\":{",
        w ? "," : "", wk.lcore, wk.packets, wk.lookups, wk.busy_turns, wk.idle_turns, BusyRatio(wk),
        wk.timed_packets);
    for (size_t k = 0; k < WorkerCounters::kStageCount; ++k)
      out += absl::StrFormat("%s\"%s\":%u", k ? "," : "", kStageNames[k], wk.stage_cycles[k]);
    out += "}}";
  }
  out += absl::StrFormat(
      "],\"punts_drained\":%u,\"mempool\":{\"size\":%u,\"avail_at_start\":%u,"
      "\"avail_at_stop\":%u}}",
      s.punts_drained, s.mempool_size, s.mempool_avail_at_start, s.mempool_avail_at_stop);
  return out;
}

std::string ToText(const StatsSnapshot& s) {
  std::string out;
  for (const auto& p : s.ports)
    out += absl::StrFormat(
        "port %-12s rx %12u pkts %15u bytes   tx %12u pkts %15u bytes   nic missed %u%s\n", p.name,
        p.rx_packets, p.rx_bytes, p.tx_packets, p.tx_bytes, p.nic_missed,
        p.link_up ? "" : "   (link down)");
  for (size_t c = 0; c < kEgressClassCount; ++c)
    out += absl::StrFormat("class %-8s %12u pkts %15u bytes\n",
                           Name(ToString(static_cast<EgressClass>(c))), s.classes[c].packets,
                           s.classes[c].bytes);
  for (const auto& n : s.neighbors)
    out += absl::StrFormat("neighbor %-20s %-8s %12u pkts %15u bytes\n", n.name,
                           Name(ToString(n.egress_class)), n.packets, n.bytes);
  for (size_t r = 0; r < kReasonCount; ++r) {
    if (s.reasons[r] != 0)
      out += absl::StrFormat("not forwarded: %-26s %12u\n", Name(kReasonNames[r]), s.reasons[r]);
  }
  for (const auto& w : s.workers) {
    out += absl::StrFormat("worker lcore %-3u lookups %12u busy %5.1f%%", w.lcore, w.lookups,
                           100.0 * BusyRatio(w));
    if (w.timed_packets != 0) {
      out += "   cycles/packet";
      for (size_t k = 0; k < WorkerCounters::kStageCount; ++k)
        out += absl::StrFormat(" %s %.1f", kStageNames[k],
                               double(w.stage_cycles[k]) / w.timed_packets);
    }
    out += "\n";
  }
  out += absl::StrFormat("punts drained %u\n", s.punts_drained);
  if (s.mempool_size != 0)
    out += absl::StrFormat("mempool size %u, available at start %u, at stop %u\n", s.mempool_size,
                           s.mempool_avail_at_start, s.mempool_avail_at_stop);
  return out;
}

void RegisterTelemetry(const StatsSource* source) {
  bool first = g_telemetry_source.exchange(source) == nullptr;
  if (!first || source == nullptr) return;
  rte_telemetry_register_cmd("/edgefwd/ports", TelemetryPorts,
                             "edgefwd per-port rx/tx packets and bytes. No parameters");
  rte_telemetry_register_cmd("/edgefwd/classes", TelemetryClasses,
                             "edgefwd packets and bytes per egress class. No parameters");
  rte_telemetry_register_cmd("/edgefwd/neighbors", TelemetryNeighbors,
                             "edgefwd packets and bytes per neighbour. No parameters");
  rte_telemetry_register_cmd("/edgefwd/drops", TelemetryDrops,
                             "edgefwd packets not forwarded, by reason. No parameters");
  rte_telemetry_register_cmd("/edgefwd/workers", TelemetryWorkers,
                             "edgefwd per-worker lookups and busy/idle loop turns. No parameters");
}

}  // namespace edgefwd::dataplane
