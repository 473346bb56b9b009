#include "dataplane/daemon.h"

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>
#include <rte_ring.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "control/control_plane.h"
#include "dataplane/pdump_barrier.h"
#include "dataplane/ports.h"
#include "dataplane/stats.h"
#include "dataplane/worker.h"

namespace edgefwd::dataplane {
namespace {

constexpr uint32_t kPuntRingSize = 1024;
constexpr uint32_t kMaxPaths = 1u << 16;
constexpr int kControlPollMs = 5;
constexpr auto kLinkPollInterval = std::chrono::milliseconds(500);

std::atomic<bool> g_stop_requested{false};
void OnSignal(int) {
  g_stop_requested.store(true);
}

void* HugepageAlloc(size_t bytes, size_t align, void*) {
  return rte_malloc_socket("edgefwd_lpm", bytes, align, SOCKET_ID_ANY);
}
void HugepageFree(void* p, void*) {
  rte_free(p);
}

struct WorkerSlot {
  unsigned lcore = 0;
  std::vector<RxQueueId> rx;
  WorkerCounters* counters = nullptr;
  rte_ring* punt_ring = nullptr;
  std::unique_ptr<Worker> worker;
};

int Fail(const std::string& msg) {
  std::fprintf(stderr, "edgefwd: %s\n", msg.c_str());
  return 1;
}

// Worker lcores and their rx queues: from the config, or by default every
// worker polls queue w of every port that has one (RSS spreads the flows).
absl::StatusOr<std::vector<WorkerSlot>> PlanWorkers(const Config& cfg) {
  std::vector<WorkerSlot> slots;
  if (cfg.workers.empty()) {
    unsigned lcore;
    RTE_LCORE_FOREACH_WORKER(lcore) {
      WorkerSlot s;
      s.lcore = lcore;
      slots.push_back(std::move(s));
    }
    if (slots.empty())
      return absl::InvalidArgumentError(
          "no worker lcore: give EAL at least two lcores (-l MAIN,WORKER...)");
    return slots;
  }
  for (const WorkerConfig& w : cfg.workers) {
    if (w.lcore == rte_get_main_lcore() || !rte_lcore_is_enabled(w.lcore))
      return absl::InvalidArgumentError(
          absl::StrFormat("%s:%u: workers.lcore: lcore %u is not an EAL worker lcore (see -l)",
                          cfg.path.c_str(), w.line, w.lcore));
    WorkerSlot s;
    s.lcore = w.lcore;
    slots.push_back(std::move(s));
  }
  return slots;
}

void AssignQueues(const Config& cfg, const std::vector<std::unique_ptr<Port>>& ports,
                  std::vector<WorkerSlot>& slots) {
  if (cfg.workers.empty()) {
    for (const auto& p : ports)
      for (uint16_t q = 0; q < p->rx_queues; ++q) slots[q % slots.size()].rx.push_back({p->id, q});
    return;
  }
  for (size_t w = 0; w < cfg.workers.size(); ++w) {
    for (const RxQueueRef& ref : cfg.workers[w].rx) {
      for (const auto& p : ports)
        if (p->name == ref.port) slots[w].rx.push_back({p->id, ref.queue});
    }
  }
}

class Daemon {
 public:
  Daemon(const Config& cfg, const Options& opts) : cfg_(cfg), opts_(opts) {}
  ~Daemon();
  int Run();

 private:
  absl::Status Setup();
  // The control plane's view of a config: neighbours on running ports.
  absl::StatusOr<control::ControlSpec> BuildSpec(const Config& cfg) const;
  // `reload`: re-reads the config file; ports, workers, addresses and the
  // set of neighbour names are fixed at start (counters are laid out per
  // neighbour), the rest (neighbour MAC/class/VLAN, groups, route files) is
  // handed to the control plane, which applies the difference.
  absl::StatusOr<control::ControlSpec> ReloadSpec() const;
  void ControlLoop();
  void DrainPuntRings();
  // Returns true if some link changed state.
  bool PollLinks(bool force);
  void Shutdown();

  const Config& cfg_;
  const Options& opts_;
  std::vector<std::unique_ptr<Port>> ports_;
  std::vector<WorkerSlot> workers_;
  rte_mempool* pool_ = nullptr;
  std::unique_ptr<lpm::QsbrDomain> qsbr_;
  std::unique_ptr<lpm::Ipv4Table> v4_;
  std::unique_ptr<lpm::Ipv6Table> v6_;
  std::unique_ptr<ForwardingState> state_;
  std::unique_ptr<control::ControlPlane> cp_;
  std::unique_ptr<WorkerEnv> env_;
  StatsSource stats_;
  std::atomic<uint64_t> punts_drained_{0};
  uint64_t avail_at_start_ = 0;
  bool workers_running_ = false;
  std::chrono::steady_clock::time_point last_link_poll_;
};

absl::StatusOr<control::ControlSpec> Daemon::BuildSpec(const Config& cfg) const {
  control::ControlSpec spec;
  for (const NeighborConfig& n : cfg.neighbors) {
    control::NeighborSpec ns;
    ns.name = n.name;
    ns.egress_class = n.egress_class;
    const Port* port = nullptr;
    for (const auto& p : ports_)
      if (p->name == n.port) port = p.get();
    if (port == nullptr)
      return absl::InvalidArgumentError(
          absl::StrFormat("%s:%u: neighbor '%s': port '%s' is not running", n.file.c_str(), n.line,
                          n.name.c_str(), n.port.c_str()));
    ns.port = port->id;
    ns.port_mac = port->mac;
    ns.vlan = n.vlan;
    ns.next_hop_v4 = n.ipv4;
    ns.next_hop_v6 = n.ipv6;
    ns.mac = n.mac;
    spec.neighbors.push_back(std::move(ns));
  }
  spec.groups = cfg.groups;
  spec.route_files = cfg.route_files;
  spec.socket_path = cfg.control_socket;
  spec.class_preference = cfg.class_preference;
  return spec;
}

absl::StatusOr<control::ControlSpec> Daemon::ReloadSpec() const {
  auto cfg = ReadConfigFile(opts_.config);
  if (!cfg.ok()) return cfg.status();
  auto restart = [&](const std::string& what) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: %s changed: restart edgefwd to apply it (nothing was changed)",
                        opts_.config.c_str(), what.c_str()));
  };
  if (cfg->ports.size() != cfg_.ports.size()) return restart("the port list");
  for (size_t i = 0; i < cfg->ports.size(); ++i) {
    const PortConfig& a = cfg->ports[i];
    const PortConfig& b = cfg_.ports[i];
    if (a.name != b.name || a.device != b.device || a.rx_queues != b.rx_queues ||
        a.tx_queues != b.tx_queues || a.mtu != b.mtu || a.vlans != b.vlans || a.ipv4 != b.ipv4 ||
        a.ipv6 != b.ipv6 || a.mac != b.mac)
      return restart("port '" + b.name + "'");
  }
  if (cfg->workers.size() != cfg_.workers.size()) return restart("the worker layout");
  if (cfg->neighbors.size() != cfg_.neighbors.size()) return restart("the set of neighbours");
  for (size_t i = 0; i < cfg->neighbors.size(); ++i) {
    if (cfg->neighbors[i].name != cfg_.neighbors[i].name) return restart("the set of neighbours");
  }
  return BuildSpec(*cfg);
}

absl::Status Daemon::Setup() {
  auto slots = PlanWorkers(cfg_);
  if (!slots.ok()) return slots.status();
  workers_ = std::move(*slots);
  const uint16_t n_workers = uint16_t(workers_.size());

  auto ports = ProbePorts(cfg_, n_workers);
  if (!ports.ok()) return ports.status();
  ports_ = std::move(*ports);
  AssignQueues(cfg_, ports_, workers_);

  uint32_t n_mbufs = MbufsNeeded(ports_, n_workers, kPuntRingSize);
  pool_ = rte_pktmbuf_pool_create("edgefwd_mbufs", n_mbufs, 256, 0, MbufDataRoom(cfg_),
                                  rte_socket_id());
  if (pool_ == nullptr)
    return absl::ResourceExhaustedError(
        absl::StrFormat("cannot create a pool of %u mbufs: %s (more hugepage memory, -m?)", n_mbufs,
                        rte_strerror(rte_errno)));
  // Every mbuf is in the pool now; at stop, once the ports are closed, all
  // must be back (some PMDs fill rx rings or, like net_pcap's infinite_rx,
  // preload packets at queue setup, so this is the only point to compare).
  avail_at_start_ = rte_mempool_avail_count(pool_);
  for (auto& p : ports_) {
    absl::Status s = ConfigurePort(*p, pool_);
    if (!s.ok()) return s;
  }

  // The FIB: LPM tables in hugepage memory, paths and adjacencies.
  qsbr_ = std::make_unique<lpm::QsbrDomain>(n_workers);
  lpm::TableConfig tc;
  tc.memory = {HugepageAlloc, HugepageFree, nullptr};
  v4_ = lpm::Ipv4Table::Create(tc, qsbr_.get());
  v6_ = lpm::Ipv6Table::Create(tc, qsbr_.get());
  if (!v4_ || !v6_) return absl::ResourceExhaustedError("cannot allocate the LPM tables");
  state_ = std::make_unique<ForwardingState>(qsbr_.get(), kMaxPaths);

  auto spec = BuildSpec(cfg_);
  if (!spec.ok()) return spec.status();
  for (const NeighborConfig& n : cfg_.neighbors)
    stats_.neighbors.push_back({n.name, n.egress_class, n.port});
  auto cp = control::ControlPlane::Create(
      std::move(*spec), control::Fib{qsbr_.get(), v4_.get(), v6_.get(), state_.get()});
  if (!cp.ok()) return cp.status();
  cp_ = std::move(*cp);
  // Operators want to know how long a restart keeps the table away.
  const auto load_start = std::chrono::steady_clock::now();
  if (absl::Status s = cp_->LoadRouteFiles(); !s.ok()) return s;
  const std::chrono::duration<double> load_time = std::chrono::steady_clock::now() - load_start;
  std::printf(
      "edgefwd: loaded %zu routes from %zu route file(s) in %.2f s (%zu IPv4, %zu IPv6 in the "
      "FIB)\n",
      cp_->route_count(), cfg_.route_files.size(), load_time.count(), v4_->route_count(),
      v6_->route_count());
  cp_->SetReloadProvider([this] { return ReloadSpec(); });
  if (absl::Status s = cp_->StartSocket(); !s.ok()) return s;

  // Worker environment: everything read-only while they run.
  env_ = std::make_unique<WorkerEnv>();
  env_->v4 = v4_.get();
  env_->v6 = v6_.get();
  env_->state = state_.get();
  env_->qsbr = qsbr_.get();
  for (const PortConfig& pc : cfg_.ports) {
    for (lpm::Ipv4Address a : pc.ipv4) {
      if (!env_->local.Add(a))
        return absl::InvalidArgumentError("more than 16 local IPv4 addresses");
    }
    for (const lpm::Ipv6Address& a : pc.ipv6) {
      if (!env_->local.Add(a))
        return absl::InvalidArgumentError("more than 16 local IPv6 addresses");
    }
  }
  for (const auto& p : ports_) {
    PortEnv pe;
    pe.configured = true;
    pe.rx_checksum_offload = p->rx_checksum_offload;
    pe.mtu = p->mtu;
    pe.vlans = p->vlans;
    env_->SetPort(p->id, pe);
  }

  for (size_t w = 0; w < workers_.size(); ++w) {
    WorkerSlot& s = workers_[w];
    s.counters = static_cast<WorkerCounters*>(rte_zmalloc_socket(
        "edgefwd_counters", sizeof(WorkerCounters), 64, rte_lcore_to_socket_id(s.lcore)));
    std::string ring_name = absl::StrFormat("edgefwd_punt%u", s.lcore);
    s.punt_ring = rte_ring_create(ring_name.c_str(), kPuntRingSize, rte_lcore_to_socket_id(s.lcore),
                                  RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (s.counters == nullptr || s.punt_ring == nullptr)
      return absl::ResourceExhaustedError("cannot allocate worker counters / punt ring");
    s.worker = std::make_unique<Worker>(env_.get(), s.rx, uint16_t(w), s.counters, s.punt_ring,
                                        qsbr_->RegisterReader());
    stats_.workers.push_back({s.lcore, s.counters});
  }
  for (const auto& p : ports_) stats_.ports.push_back(p.get());
  stats_.punts_drained = &punts_drained_;
  cp_->SetStatsProvider([this](bool json) {
    StatsSnapshot s = stats_.Take();
    return json ? ToJson(s) : ToText(s);
  });
  RegisterTelemetry(&stats_);

  for (auto& p : ports_) {
    absl::Status s = StartPort(*p);
    if (!s.ok()) return s;
    std::printf("edgefwd: %s\n", DescribePort(*p).c_str());
  }
  PollLinks(/*force=*/true);
  // Capture with dpdk-dumpcap; needs the multi-process channel, so not with
  // --in-memory (then capture is off, forwarding is not affected).
  if (rte_pdump_init() != 0)
    std::printf("edgefwd: packet capture (rte_pdump) unavailable: %s\n", rte_strerror(rte_errno));
  else
    SetPdumpBarrier(qsbr_.get());
  return absl::OkStatus();
}

bool Daemon::PollLinks(bool force) {
  bool changed = false;
  auto now = std::chrono::steady_clock::now();
  bool poll_due = force || now - last_link_poll_ >= kLinkPollInterval;
  if (poll_due) last_link_poll_ = now;
  for (auto& p : ports_) {
    bool event = p->link_event.exchange(false, std::memory_order_acq_rel);
    if (!event && !(poll_due && (!p->lsc_interrupt || force))) continue;
    if (!RefreshLink(*p) && !force) continue;
    std::printf("edgefwd: port '%s' link %s\n", p->name.c_str(), p->link_up ? "up" : "down");
    std::fflush(stdout);
    changed = true;
    for (const NeighborConfig& n : cfg_.neighbors) {
      if (n.port != p->name) continue;
      absl::Status s = cp_->SetNeighborUp(n.name, p->link_up);
      if (!s.ok())
        std::fprintf(stderr, "edgefwd: neighbour %s: %s\n", n.name.c_str(),
                     std::string(s.message()).c_str());
    }
  }
  return changed;
}

void Daemon::DrainPuntRings() {
  void* pkts[kBurst];
  for (WorkerSlot& s : workers_) {
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst(s.punt_ring, pkts, kBurst, nullptr)) != 0) {
      // The exception path (ARP/ND, ICMP, to the kernel) will take these;
      // for now they are counted (by reason, by the worker) and freed.
      rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(pkts), n);
      punts_drained_.fetch_add(n, std::memory_order_relaxed);
    }
  }
}

void Daemon::ControlLoop() {
  using Clock = std::chrono::steady_clock;
  uint64_t last_rx = 0;
  auto last_rx_change = Clock::now();
  while (!g_stop_requested.load()) {
    cp_->Poll(kControlPollMs);
    DrainPuntRings();
    if (PollLinks(false)) last_rx_change = Clock::now();  // idle counts from link-up
    if (opts_.exit_when_idle_ms != 0) {
      uint64_t rx = 0;
      for (const WorkerSlot& s : workers_)
        for (const auto& p : ports_) rx += s.counters->ports[p->id].rx.packets.Read();
      if (rx != last_rx) {
        last_rx = rx;
        last_rx_change = Clock::now();
      } else if (Clock::now() - last_rx_change >=
                 std::chrono::milliseconds(opts_.exit_when_idle_ms)) {
        std::printf("edgefwd: no packet for %u ms, stopping\n", opts_.exit_when_idle_ms);
        break;
      }
    }
  }
}

void Daemon::Shutdown() {
  if (workers_running_) {
    env_->stop.store(true);
    rte_eal_mp_wait_lcore();  // each worker drains its tx buffers on the way out
    workers_running_ = false;
  }
  if (!workers_.empty() && workers_.front().punt_ring != nullptr) DrainPuntRings();
  if (pool_ != nullptr) {
    for (auto& p : ports_) StopAndClosePort(*p);
  }
}

Daemon::~Daemon() {
  RegisterTelemetry(nullptr);
  SetPdumpBarrier(nullptr);  // before qsbr_ goes, on every path (also failed launches)
  cp_.reset();
  if (qsbr_) {
    for (size_t i = 0; i < workers_.size(); ++i) qsbr_->UnregisterReader(i);
    qsbr_->Synchronize();
  }
  for (WorkerSlot& s : workers_) {
    rte_ring_free(s.punt_ring);
    rte_free(s.counters);
  }
  state_.reset();
  v4_.reset();
  v6_.reset();
  qsbr_.reset();
  rte_mempool_free(pool_);
}

int Daemon::Run() {
  absl::Status s = Setup();
  if (!s.ok()) {
    Shutdown();
    return Fail(std::string(s.message()));
  }
  for (WorkerSlot& w : workers_) {
    int rc = rte_eal_remote_launch(Worker::RunOnLcore, w.worker.get(), w.lcore);
    if (rc != 0) {
      Shutdown();
      return Fail(
          absl::StrFormat("cannot launch worker on lcore %u: %s", w.lcore, rte_strerror(-rc)));
    }
    workers_running_ = true;
    std::printf("edgefwd: worker on lcore %u polls %zu rx queue(s)\n", w.lcore, w.rx.size());
  }
  std::fflush(stdout);
  ControlLoop();
  Shutdown();
  if (rte_pdump_uninit() != 0) { /* capture was not enabled */
  }
  SetPdumpBarrier(nullptr);

  StatsSnapshot snap = stats_.Take();
  snap.mempool_size = pool_->size;
  snap.mempool_avail_at_start = avail_at_start_;
  snap.mempool_avail_at_stop = rte_mempool_avail_count(pool_);
  std::printf("edgefwd: final counters\n%s", ToText(snap).c_str());
  if (!opts_.stats_json.empty()) {
    std::ofstream out(opts_.stats_json);
    out << ToJson(snap) << "\n";
    if (!out) return Fail("cannot write " + opts_.stats_json);
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

int RunDaemon(const Config& config, const Options& options) {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  Daemon daemon(config, options);
  return daemon.Run();
}

}  // namespace edgefwd::dataplane
