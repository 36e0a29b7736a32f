// lanyard-bench NAME [--json] [options]: runs one benchmark (or `all`).
#include "bench.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lanyard::bench {
namespace {

std::vector<const benchmark*>& registry() {
  static std::vector<const benchmark*> r;
  return r;
}

} // namespace

benchmark_registrar::benchmark_registrar(const benchmark& b) {
  registry().push_back(&b);
}

summary summarize(std::vector<double> samples) {
  summary s;
  s.runs = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  // Nearest-rank percentiles: the value below which p% of the samples lie.
  auto rank = [&](double p) {
    auto idx = static_cast<std::size_t>(std::ceil(p / 100.0 * samples.size()));
    return samples[std::clamp<std::size_t>(idx, 1, samples.size()) - 1];
  };
  const std::size_t n = samples.size();
  s.median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  s.p95 = rank(95);
  s.p99 = rank(99);
  s.min = samples.front();
  s.max = samples.back();
  return s;
}

void write_summary(cli::json_writer& w, const summary& s) {
  w.begin_object()
      .key("median")
      .value(s.median)
      .key("p95")
      .value(s.p95)
      .key("p99")
      .value(s.p99)
      .key("min")
      .value(s.min)
      .key("max")
      .value(s.max)
      .key("runs")
      .value(static_cast<std::uint64_t>(s.runs))
      .end_object();
}

} // namespace lanyard::bench

int main(int argc, char** argv) {
  using namespace lanyard;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto& reg = bench::registry();
  std::sort(reg.begin(), reg.end(), [](auto* a, auto* b) { return a->name < b->name; });
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::printf("usage: lanyard-bench NAME [--json] [options]   (NAME --help for options)\n\n"
                "Each benchmark measures Lanyard and a baseline side by side in one run.\n\n");
    for (auto* b : reg)
      std::printf("  %-10.*s %.*s\n", static_cast<int>(b->name.size()), b->name.data(),
                  static_cast<int>(b->summary.size()), b->summary.data());
    return args.empty() ? 2 : 0;
  }
  for (auto* b : reg) {
    if (b->name != args[0]) continue;
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (std::find(rest.begin(), rest.end(), "--help") != rest.end()) {
      std::printf("%.*s", static_cast<int>(b->usage.size()), b->usage.data());
      return 0;
    }
    cli::arg_spec spec = b->spec;
    spec.options.push_back({"json"});
    cli::parsed_args parsed;
    std::string error;
    if (!cli::parse_args(spec, rest, parsed, error)) {
      std::fprintf(stderr, "lanyard-bench %s: %s\n", args[0].c_str(), error.c_str());
      return 2;
    }
    cli::json_writer out;
    std::vector<std::string> lines;
    // A benchmark that fails before it has figures returns non-zero with `out` empty; one that
    // completed but had failed runs (counted in its JSON) fills `out` and returns non-zero: its
    // figures are printed all the same, and the exit status says that runs failed.
    const int rc = b->run(parsed, out, lines);
    if (rc != 0 && out.str().empty()) return rc;
    if (parsed.has("json")) {
      std::printf("%s\n", out.str().c_str());
    } else {
      for (const auto& l : lines)
        std::printf("%s\n", l.c_str());
    }
    return rc;
  }
  std::fprintf(stderr, "lanyard-bench: unknown benchmark '%s' (see --help)\n", args[0].c_str());
  return 2;
}
