#include "tests/bench/bench_report.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_format.h"

namespace edgefwd::bench {
namespace {

// The headline row of each family (the targets): IPv4 uniform-routed,
// IPv6 uniform-prefix, both batch 64.
TraceKind HeadlineTrace(const FamilyResult& fam) {
  return fam.family == "ipv4" ? TraceKind::kUniformRouted : TraceKind::kUniformPrefix;
}

const StructureResult* Edgefwd(const FamilyResult& fam) {
  for (const auto& s : fam.structures) {
    if (s.name == "edgefwd" && s.ok) return &s;
  }
  return nullptr;
}

double Rate(const StructureResult& s, TraceKind t, size_t batch) {
  auto it = s.mlps.find({t, batch});
  return it == s.mlps.end() ? -1 : it->second;
}

struct Best {
  double mlps = -1;
  const StructureResult* s = nullptr;
};
Best BestDpdk(const FamilyResult& fam, TraceKind t, size_t batch) {
  Best b;
  for (const auto& s : fam.structures) {
    if (s.name == "edgefwd" || !s.ok) continue;
    double r = Rate(s, t, batch);
    if (r > b.mlps) b = {r, &s};
  }
  return b;
}

std::string Num(double v, int decimals = 1) {
  return v < 0 || std::isnan(v) ? "-" : absl::StrFormat("%.*f", decimals, v);
}
std::string Rate(double per_s) {
  if (per_s < 0) return "-";
  if (per_s >= 1e6) return absl::StrFormat("%.2fM", per_s / 1e6);
  if (per_s >= 1e3) return absl::StrFormat("%.1fk", per_s / 1e3);
  return absl::StrFormat("%.0f", per_s);
}
std::string Json(double v, int decimals = 3) {
  return v < 0 || std::isnan(v) || std::isinf(v) ? "null" : absl::StrFormat("%.*f", decimals, v);
}
std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

double ReaderPct(const ChurnResult& c) {
  return c.ran && c.reader_idle_mlps > 0 ? 100.0 * c.reader_churn_mlps / c.reader_idle_mlps : -1;
}
// The reader's rate while the writer churns a copy it does not read.
double ControlPct(const ChurnResult& c) {
  return c.ran && c.reader_idle_mlps > 0 && c.reader_control_mlps > 0
             ? 100.0 * c.reader_control_mlps / c.reader_idle_mlps
             : -1;
}

}  // namespace

void PrintFamily(const FamilyResult& fam, const RunInfo& info) {
  std::printf("\n== %s: %zu routes from %s; lookups on lcore %d, %s\n",
              fam.family == "ipv4" ? "IPv4" : "IPv6", fam.routes, info.table_source.c_str(),
              info.lookup_core, info.memory_mode.c_str());
  std::printf(
      "Lookup rate, Mlookups per CPU second of the lookup thread (median of %d passes of ~%.2f "
      "s); build and update rates also per CPU second\n",
      info.cfg.passes, info.cfg.pass_seconds);
  std::string header = absl::StrFormat("%-15s %5s", "trace", "batch");
  for (const auto& s : fam.structures) header += absl::StrFormat(" %15s", s.name);
  header += absl::StrFormat(" %15s %6s", "best DPDK", "ratio");
  std::printf("%s\n", header.c_str());
  const StructureResult* e = Edgefwd(fam);
  for (TraceKind t : kAllTraces) {
    for (size_t batch : kBatches) {
      std::string line = absl::StrFormat("%-15s %5zu", TraceName(t), batch);
      for (const auto& s : fam.structures) line += absl::StrFormat(" %15s", Num(Rate(s, t, batch)));
      Best b = BestDpdk(fam, t, batch);
      double ratio = e != nullptr && b.mlps > 0 ? Rate(*e, t, batch) / b.mlps : -1;
      line += absl::StrFormat(" %15s %6s", Num(b.mlps), Num(ratio, 2));
      if (t == HeadlineTrace(fam) && batch == 64) line += "  <- headline";
      std::printf("%s\n", line.c_str());
    }
  }
  std::printf("\n%-16s %-32s %10s %9s %11s %11s  %s\n", "structure", "variant", "memory MiB",
              "build s", "updates/s", "spot check", "notes");
  for (const auto& s : fam.structures) {
    std::string check =
        s.sample == 0 ? "-"
                      : absl::StrFormat("%lu bad", static_cast<unsigned long>(s.disagreements));
    std::string notes = s.ok ? "" : "NOT RUN: " + s.error;
    notes += s.notes;
    if (s.update_failures > 0) {
      notes += absl::StrFormat(" %lu update calls failed",
                               static_cast<unsigned long>(s.update_failures));
    }
    std::printf("%-16s %-32s %10s %9s %11s %11s  %s\n", s.name.c_str(), s.variant.c_str(),
                Num(s.memory_mib).c_str(), Num(s.build_s, 3).c_str(), Rate(s.updates_per_s).c_str(),
                check.c_str(), notes.c_str());
  }
  const ChurnResult& c = fam.edgefwd_churn;
  if (c.ran) {
    std::printf(
        "edgefwd churn: %s changes/s alone, %s/s with a reader on core %d; reader %.1f Mlps idle, "
        "%.1f Mlps under churn (%.1f%%)%s\n",
        Rate(c.updates_per_s_alone).c_str(), Rate(c.updates_per_s_with_reader).c_str(),
        info.cfg.reader_core, c.reader_idle_mlps, c.reader_churn_mlps, ReaderPct(c),
        c.failures > 0 ? absl::StrFormat(", %lu failed calls", (unsigned long)c.failures).c_str()
                       : "");
    if (ControlPct(c) >= 0) {
      std::printf(
          "  control: reader %.1f Mlps (%.1f%%) while the writer churns a copy it does not read "
          "(the share lost to the writer's use of caches and memory, not to its stores)\n",
          c.reader_control_mlps, ControlPct(c));
    }
  }
  if (!fam.screening.empty()) {
    std::printf("DPDK variants screened on %s, batch 64 (best scalar and best vector run above):\n",
                TraceName(HeadlineTrace(fam)));
    std::string last_error;
    for (const auto& s : fam.screening) {
      if (s.mlps < 0 && s.error == last_error) continue;  // same reason for the whole size
      last_error = s.mlps < 0 ? s.error : "";
      std::printf("  %-9s %-16s %s\n", s.name.c_str(), s.variant.c_str(),
                  s.mlps < 0 ? ("n/a: " + s.error).c_str() : (Num(s.mlps) + " Mlps").c_str());
    }
  }
}

std::string JsonSummary(const std::vector<FamilyResult>& families, const RunInfo& info) {
  std::string out = "{";
  double build_total = 0, min_updates = -1, min_reader_pct = -1;
  uint64_t disagreements = 0;
  bool build_ok = true;
  for (const auto& fam : families) {
    const StructureResult* e = Edgefwd(fam);
    TraceKind t = HeadlineTrace(fam);
    Best b = BestDpdk(fam, t, 64);
    double em = e != nullptr ? Rate(*e, t, 64) : -1;
    const ChurnResult& c = fam.edgefwd_churn;
    out += JsonString(fam.family) + ": {";
    out += "\"ratio_vs_best_dpdk\": " + Json(em > 0 && b.mlps > 0 ? em / b.mlps : -1);
    out += ", \"headline\": " + JsonString(std::string(TraceName(t)) + " batch 64");
    out += ", \"edgefwd_mlps\": " + Json(em, 1);
    out += ", \"best_dpdk_mlps\": " + Json(b.mlps, 1);
    out += ", \"best_dpdk\": " +
           (b.s ? JsonString(b.s->name + " (" + b.s->variant + ")") : std::string("null"));
    out += ", \"memory_mib\": " + Json(e ? e->memory_mib : -1, 2);
    out += ", \"measured_memory_mib\": " + Json(e ? e->measured_memory_mib : -1, 2);
    out += ", \"best_dpdk_memory_mib\": " + Json(b.s ? b.s->memory_mib : -1, 1);
    out += ", \"build_s\": " + Json(e ? e->build_s : -1, 4);
    out += ", \"routes\": " + std::to_string(fam.routes);
    out += ", \"updates_per_s\": " + Json(c.ran ? c.updates_per_s_alone : -1, 0);
    out += ", \"updates_per_s_with_reader\": " + Json(c.ran ? c.updates_per_s_with_reader : -1, 0);
    out += ", \"reader_rate_under_churn_pct\": " + Json(ReaderPct(c), 1);
    out += ", \"reader_rate_under_control_churn_pct\": " + Json(ControlPct(c), 1);
    uint64_t fam_bad = 0;
    for (const auto& s : fam.structures) fam_bad += s.disagreements;
    out += ", \"disagreements\": " + std::to_string(fam_bad);
    // Every row: edgefwd vs the best DPDK structure for that row.
    out += ", \"rows\": [";
    bool first = true;
    for (TraceKind tr : kAllTraces) {
      for (size_t batch : kBatches) {
        Best rb = BestDpdk(fam, tr, batch);
        double er = e != nullptr ? Rate(*e, tr, batch) : -1;
        out += first ? "" : ", ";
        first = false;
        out += absl::StrFormat(
            "{\"trace\": \"%s\", \"batch\": %zu, \"edgefwd_mlps\": %s, \"best_dpdk_mlps\": %s, "
            "\"best_dpdk\": %s, \"ratio\": %s}",
            TraceName(tr), batch, Json(er, 1), Json(rb.mlps, 1),
            rb.s ? JsonString(rb.s->name) : "null",
            Json(er > 0 && rb.mlps > 0 ? er / rb.mlps : -1));
      }
    }
    out += "]},";
    if (e != nullptr && e->build_s >= 0) {
      build_total += e->build_s;
    } else {
      build_ok = false;
    }
    if (c.ran) {
      min_updates = min_updates < 0 ? c.updates_per_s_with_reader
                                    : std::min(min_updates, c.updates_per_s_with_reader);
      double pct = ReaderPct(c);
      min_reader_pct = min_reader_pct < 0 ? pct : std::min(min_reader_pct, pct);
    }
    disagreements += fam_bad;
  }
  out += " \"build_s\": " + Json(build_ok ? build_total : -1, 4);
  out += ", \"updates_per_s\": " + Json(min_updates, 0);
  out += ", \"reader_rate_under_churn_pct\": " + Json(min_reader_pct, 1);
  out += ", \"disagreements\": " + std::to_string(disagreements);
  out += ", \"table\": " + JsonString(info.table_source);
  out += ", \"memory_mode\": " + JsonString(info.memory_mode);
  out += ", \"lookup_cpu_share_pct\": " + Json(LookupTimeShare().Percent(), 1);
  out += ", \"quick\": " + std::string(info.cfg.quick ? "true" : "false");
  out += "}";
  return out;
}

}  // namespace edgefwd::bench
