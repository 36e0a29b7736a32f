// lanyard-bench's frame: each benchmark is a file bench_NAME.cpp registering itself here. A
// benchmark measures Lanyard and a baseline side by side in the same run and reports figures
// per contender plus the ratios its goal names, as one JSON object (--json) or a line each.
#pragma once

#include "cli/args.hpp"
#include "cli/json.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace lanyard::bench {

/// Median, p95 (nearest-rank), min, max and count of a sample.
struct summary {
  double median = 0;
  double p95 = 0;
  double p99 = 0;
  double min = 0;
  double max = 0;
  std::size_t runs = 0;
};

summary summarize(std::vector<double> samples);

/// Writes `{"median": …, "p95": …, "p99": …, "min": …, "max": …, "runs": …}`.
void write_summary(cli::json_writer& w, const summary& s);

struct benchmark {
  std::string_view name;
  std::string_view summary;
  std::string_view usage;
  cli::arg_spec spec; // --json is added by the frame
  /// Runs the benchmark; fills `out` with one JSON object and `lines` with human lines.
  /// Returns 0, or non-zero after printing a one-line reason to stderr.
  int (*run)(const cli::parsed_args& args, cli::json_writer& out, std::vector<std::string>& lines);
};

struct benchmark_registrar {
  explicit benchmark_registrar(const benchmark& b);
};

} // namespace lanyard::bench
