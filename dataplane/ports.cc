#include "dataplane/ports.h"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"

namespace edgefwd::dataplane {
namespace {

constexpr uint32_t kL2Overhead = 14 + 4 + 4;  // Ethernet + 802.1Q + CRC

std::string Errno(int rc) {
  return rte_strerror(rc < 0 ? -rc : rc);
}

absl::Status PortError(const Port& p, const std::string& what, int rc) {
  return absl::InternalError(
      absl::StrFormat("port '%s': %s: %s", p.name.c_str(), what.c_str(), Errno(rc).c_str()));
}

// The ethdev name of a device string: "net_pcap0,rx_pcap=x" -> "net_pcap0".
std::string DeviceName(const std::string& device) {
  return device.substr(0, device.find(','));
}

// Drivers whose link status is not a link: set up by dev_start, down by
// dev_stop, nothing else. net_pcap's status is also written by *other*
// processes: its dev_close runs its dev_stop even in a secondary process
// (drivers/net/pcap/pcap_ethdev.c eth_dev_close, DPDK 22.11), and a
// secondary's rte_eal_cleanup() closes every vdev it attached. So when
// dpdk-dumpcap (a secondary) exits, it writes "link down" into the port's
// shared ethdev data while our port keeps running, and edgefwd withdrew the
// port's neighbours. For these drivers the link is what we did to the port.
bool LinkFollowsStart(const std::string& driver) {
  return driver == "net_pcap";
}

int OnLinkStateChange(uint16_t, rte_eth_event_type, void* ctx, void*) {
  static_cast<Port*>(ctx)->link_event.store(true, std::memory_order_release);
  return 0;
}

}  // namespace

absl::StatusOr<std::vector<std::unique_ptr<Port>>> ProbePorts(const Config& cfg, uint16_t workers) {
  std::vector<std::unique_ptr<Port>> ports;
  for (const PortConfig& pc : cfg.ports) {
    auto port = std::make_unique<Port>();
    port->name = pc.name;
    std::string dev_name = DeviceName(pc.device);
    uint16_t id;
    // Devices named on the EAL command line (-a, --vdev) or found on the PCI
    // bus are probed already; others are hot-plugged from the config string.
    if (rte_eth_dev_get_port_by_name(dev_name.c_str(), &id) != 0) {
      int rc = rte_dev_probe(pc.device.c_str());
      if (rc != 0)
        return absl::NotFoundError(absl::StrFormat("port '%s': cannot probe device '%s': %s",
                                                   pc.name.c_str(), pc.device.c_str(),
                                                   Errno(rc).c_str()));
      if (rte_eth_dev_get_port_by_name(dev_name.c_str(), &id) != 0)
        return absl::NotFoundError(
            absl::StrFormat("port '%s': device '%s' probed but no ethdev named '%s'",
                            pc.name.c_str(), pc.device.c_str(), dev_name.c_str()));
    }
    if (id >= kMaxPorts)
      return absl::ResourceExhaustedError(absl::StrFormat(
          "port '%s': DPDK port id %u above edgefwd's limit %u", pc.name.c_str(), id, kMaxPorts));
    port->id = id;
    rte_eth_dev_info info;
    int rc = rte_eth_dev_info_get(id, &info);
    if (rc != 0) return PortError(*port, "dev_info", rc);
    port->driver = info.driver_name;
    port->link_follows_start = LinkFollowsStart(port->driver);
    // Default layout: one rx queue per worker, as many as the device has.
    port->rx_queues = pc.rx_queues.value_or(std::min<uint16_t>(workers, info.max_rx_queues));
    if (port->rx_queues > info.max_rx_queues)
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: ports '%s'.rx_queues: %u, but device '%s' has at most %u", cfg.path.c_str(),
          pc.name.c_str(), port->rx_queues, pc.device.c_str(), info.max_rx_queues));
    port->tx_queues = std::max<uint16_t>(pc.tx_queues.value_or(workers), workers);
    if (port->tx_queues > info.max_tx_queues)
      return absl::InvalidArgumentError(absl::StrFormat(
          "port '%s': %u workers need %u tx queues, device '%s' has at most %u", pc.name.c_str(),
          workers, port->tx_queues, pc.device.c_str(), info.max_tx_queues));
    port->mtu = pc.mtu;
    if (info.max_mtu != 0 && pc.mtu > info.max_mtu)
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: ports '%s'.mtu: %u is above device '%s' maximum %u", cfg.path.c_str(),
          pc.name.c_str(), pc.mtu, pc.device.c_str(), info.max_mtu));
    for (uint16_t v : pc.vlans) port->vlans.set(v);
    port->mac_override = pc.mac;
    ports.push_back(std::move(port));
  }
  return ports;
}

uint16_t MbufDataRoom(const Config& cfg) {
  uint32_t mtu = 1500;
  for (const PortConfig& p : cfg.ports) mtu = std::max(mtu, p.mtu);
  return uint16_t(
      std::max<uint32_t>(RTE_MBUF_DEFAULT_BUF_SIZE, RTE_PKTMBUF_HEADROOM + mtu + kL2Overhead));
}

uint32_t MbufsNeeded(const std::vector<std::unique_ptr<Port>>& ports, uint16_t workers,
                     uint32_t punt_ring_size) {
  uint32_t n = 0;
  for (const auto& p : ports) {
    n += uint32_t(p->rx_queues) * p->rx_descriptors + uint32_t(p->tx_queues) * p->tx_descriptors;
    n += uint32_t(workers) * 32;  // tx buffers
  }
  n += uint32_t(workers) * (32 + punt_ring_size);
  n += (workers + 1) * 256;  // per-lcore mempool caches
  n += 1024;
  return n;
}

absl::Status ConfigurePort(Port& port, rte_mempool* pool) {
  rte_eth_dev_info info;
  int rc = rte_eth_dev_info_get(port.id, &info);
  if (rc != 0) return PortError(port, "dev_info", rc);

  rte_eth_conf conf;
  std::memset(&conf, 0, sizeof(conf));
  // RSS where the device hashes: spreads flows over queues, and the hash
  // picks path members for free.
  uint64_t rss_hf =
      (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
  if (rss_hf != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
    port.rss = true;
    if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_RSS_HASH)
      conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_RSS_HASH;
  } else if (port.rx_queues > 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("port '%s': %u rx queues but device has no RSS to spread packets over them",
                        port.name.c_str(), port.rx_queues));
  }
  if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
    conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
    port.rx_checksum_offload = true;
  }
  // Every mbuf comes from one pool with refcount 1: the NIC may free in bulk.
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
    port.fast_free = true;
  }
  // Frames over one mbuf (jumbo MTU on small mbufs, or vdevs that chain).
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  if (*info.dev_flags & RTE_ETH_DEV_INTR_LSC) {
    conf.intr_conf.lsc = 1;
    port.lsc_interrupt = true;
  }
  if (port.mtu + kL2Overhead <= info.max_rx_pktlen) conf.rxmode.mtu = port.mtu;

  rc = rte_eth_dev_configure(port.id, port.rx_queues, port.tx_queues, &conf);
  if (rc != 0) return PortError(port, "configure", rc);
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(port.id, &port.rx_descriptors, &port.tx_descriptors);
  if (rc != 0) return PortError(port, "adjust descriptors", rc);
  int socket = rte_eth_dev_socket_id(port.id);
  if (socket < 0) socket = 0;
  rte_eth_rxconf rxconf = info.default_rxconf;
  rxconf.offloads = conf.rxmode.offloads;
  for (uint16_t q = 0; q < port.rx_queues; ++q) {
    rc = rte_eth_rx_queue_setup(port.id, q, port.rx_descriptors, socket, &rxconf, pool);
    if (rc != 0) return PortError(port, absl::StrFormat("rx queue %u", q), rc);
  }
  rte_eth_txconf txconf = info.default_txconf;
  txconf.offloads = conf.txmode.offloads;
  for (uint16_t q = 0; q < port.tx_queues; ++q) {
    rc = rte_eth_tx_queue_setup(port.id, q, port.tx_descriptors, socket, &txconf);
    if (rc != 0) return PortError(port, absl::StrFormat("tx queue %u", q), rc);
  }
  // The MTU is also enforced in software on egress; devices that cannot set
  // it (some vdevs) keep working.
  rc = rte_eth_dev_set_mtu(port.id, port.mtu);
  if (rc != 0 && rc != -ENOTSUP)
    return PortError(port, absl::StrFormat("set mtu %u", port.mtu), rc);
  if (port.mac_override) {
    rte_ether_addr mac;
    std::memcpy(mac.addr_bytes, port.mac_override->data(), 6);
    rc = rte_eth_dev_default_mac_addr_set(port.id, &mac);
    // Some vdevs (net_pcap, net_null) have no MAC filter to program; the
    // override is then only our source MAC, which is all they need.
    if (rc != 0 && rc != -ENOTSUP)
      return PortError(port, "set MAC " + FormatMac(*port.mac_override), rc);
  }
  rte_ether_addr hw_mac;
  rc = rte_eth_macaddr_get(port.id, &hw_mac);
  if (rc != 0) return PortError(port, "read MAC", rc);
  std::memcpy(port.mac.data(), hw_mac.addr_bytes, 6);
  if (port.mac_override) port.mac = *port.mac_override;
  if (port.lsc_interrupt) {
    rc = rte_eth_dev_callback_register(port.id, RTE_ETH_EVENT_INTR_LSC, OnLinkStateChange, &port);
    if (rc != 0) return PortError(port, "register link-state callback", rc);
  }
  return absl::OkStatus();
}

absl::Status StartPort(Port& port) {
  int rc = rte_eth_dev_start(port.id);
  if (rc != 0) return PortError(port, "start", rc);
  port.started = true;
  RefreshLink(port);
  return absl::OkStatus();
}

void StopAndClosePort(Port& port) {
  if (port.lsc_interrupt)
    rte_eth_dev_callback_unregister(port.id, RTE_ETH_EVENT_INTR_LSC, OnLinkStateChange, &port);
  if (port.started) rte_eth_dev_stop(port.id);
  port.started = false;
  rte_eth_dev_close(port.id);
}

bool RefreshLink(Port& port) {
  bool up = port.started;
  if (!port.link_follows_start) {
    rte_eth_link link;
    std::memset(&link, 0, sizeof(link));
    if (rte_eth_link_get_nowait(port.id, &link) != 0) return false;
    up = link.link_status == RTE_ETH_LINK_UP;
  }
  if (up == port.link_up) return false;
  port.link_up = up;
  return true;
}

std::string DescribePort(const Port& p) {
  return absl::StrFormat(
      "port '%s' (id %u, %s, %s): %u rx / %u tx queues, mtu %u, rss %s, rx ipv4 checksum %s, "
      "link %s",
      p.name.c_str(), p.id, p.driver.c_str(), FormatMac(p.mac).c_str(), p.rx_queues, p.tx_queues,
      p.mtu, p.rss ? "on" : "off (software hash)", p.rx_checksum_offload ? "nic" : "software",
      p.link_follows_start ? (p.link_up ? "up (while started: no physical link)" : "down")
      : p.lsc_interrupt    ? (p.link_up ? "up (lsc irq)" : "down (lsc irq)")
                           : (p.link_up ? "up (polled)" : "down (polled)"));
}

}  // namespace edgefwd::dataplane
