// Keeps dpdk-dumpcap from freeing its capture pool under a worker.
//
// dpdk-dumpcap (a secondary process) stops a capture with a request that
// rte_pdump's multi-process handler in edgefwd answers right after removing
// its rx/tx callbacks. DPDK 22.11 does not wait for a worker that is still
// inside one of those callbacks (lib/pdump/rte_pdump.c,
// pdump_register_rx_callbacks / pdump_register_tx_callbacks), and
// dpdk-dumpcap frees its capture ring and mempool as soon as the answer
// arrives (app/dumpcap/main.c: cleanup_pdump_resources, rte_ring_free,
// rte_mempool_free). DPDK zeroes freed memory, so a worker still copying a
// packet into that pool allocates from a zeroed mempool (ops index 0, a
// segfault in the first registered mempool driver) or writes to a zeroed
// mbuf (buf_addr 0).
//
// edgefwd holds back rte_pdump's answers until every worker has passed a
// quiescent state, i.e. finished the burst (and the callbacks) it was in.
#pragma once

#include "lpm/qsbr.h"

namespace edgefwd::dataplane {

// `workers`: the domain in which every worker reports a quiescent state
// between bursts. Set after rte_pdump_init(); nullptr after
// rte_pdump_uninit() (then answers are no longer held back).
void SetPdumpBarrier(lpm::QsbrDomain* workers);

}  // namespace edgefwd::dataplane
