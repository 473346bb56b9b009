// libFuzzer target for the control protocol: request parsing, and the whole
// command path (parse + dispatch) on a small real control plane. Whatever the
// bytes, the reply is one well-framed response and nothing crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "control/control_plane.h"
#include "control/protocol.h"
#include "lpm/ipv4_table.h"
#include "lpm/ipv6_table.h"
#include "lpm/qsbr.h"

namespace {

using namespace edgefwd;

struct World {
  World()
      : qsbr(1),
        v4(lpm::Ipv4Table::Create(lpm::TableConfig{}, &qsbr)),
        v6(lpm::Ipv6Table::Create(lpm::TableConfig{}, &qsbr)),
        state(&qsbr, 4096) {
    control::ControlSpec spec;
    control::NeighborSpec a;
    a.name = "peer-x";
    a.egress_class = dataplane::EgressClass::kPeering;
    control::NeighborSpec b;
    b.name = "transit-a";
    b.port = 1;
    spec.neighbors = {a, b};
    spec.groups = {{"both", {{"peer-x", 1}, {"transit-a", 2}}}};
    cp = std::move(*control::ControlPlane::Create(spec, {&qsbr, v4.get(), v6.get(), &state}));
  }
  lpm::QsbrDomain qsbr;
  std::unique_ptr<lpm::Ipv4Table> v4;
  std::unique_ptr<lpm::Ipv6Table> v6;
  dataplane::ForwardingState state;
  std::unique_ptr<control::ControlPlane> cp;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Only in-process commands: `load` and `reload` would touch the file
  // system, and the fuzzer must not read arbitrary paths.
  if (text.find("load") != std::string_view::npos) return 0;
  (void)control::ParseRequestLine(text);
  control::ResponseReader reader;
  reader.Feed(world->cp->Execute(text));
  if (!reader.done() || reader.malformed()) std::abort();
  world->cp->Poll(0);
  return 0;
}
