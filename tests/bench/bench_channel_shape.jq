# The shape of `lanyard-bench channel --json` (never its figures), for the smoke test:
#   lanyard-bench channel --json <tiny sizes> --channels 2 | jq -e -s -f bench_channel_shape.jq
# Run with -s (slurp) so that no output at all, or more than one object, fails too.
def summary: (type == "object") and ([.median, .p95, .p99, .min, .max, .runs] | all(type == "number"));
def pair: (.lanyard | summary) and (.mbedtls | summary);
length == 1 and (.[0] |
  (.cipher_suite | type == "string")
  and (.bulk_mb_per_s | pair) and (.bulk_cpu_percent | pair)
  and (.small_messages_per_s | pair) and (.small_messages_per_s.mbedtls_unbuffered | summary)
  and (.rtt_us | pair)
  and ([.bulk_ratio_vs_mbedtls, .small_ratio_vs_mbedtls, .small_ratio_vs_mbedtls_unbuffered,
        .rtt_median_ratio_vs_mbedtls]
       | all(type == "number"))
  and ([.heap_bytes_per_idle_channel.app, .heap_bytes_per_idle_channel.accessory]
       | all(type == "number"))
  and (.concurrent_channels | (.requested == 2) and (.established == 2)
       and ([.accessory_sessions, .accessory_idle_cpu_percent, .accessory_rss_per_channel_bytes,
             .setup_seconds] | all(type == "number")))
  and (.goals | (.bulk_ratio_vs_mbedtls_min | type == "number")
       and (.bulk_ratio_vs_mbedtls_met | type == "boolean")
       and .accessory_heap_bytes_per_idle_channel_max == 49152
       and (.accessory_heap_bytes_per_idle_channel_met | type == "boolean"))
  and .failed_runs == 0)
