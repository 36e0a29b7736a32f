# The shape of `lanyard-bench channel --json` (never its figures), for the smoke test:
#   lanyard-bench channel --json <tiny sizes> --channels 2 | jq -e -s -f bench_channel_shape.jq
# Run with -s (slurp) so that no output at all, or more than one object, fails too.
def summary: (type == "object") and ([.median, .p95, .p99, .min, .max, .runs] | all(type == "number"));
def pair: (.lanyard | summary) and (.mbedtls | summary);
# The product API (app::device -> node::node) is the third contender of each data-path figure.
# The lower-level channel's twin (the A/A control) runs beside it.
def trio: pair and (.device_node | summary) and (.lanyard_twin | summary);
length == 1 and (.[0] |
  (.cipher_suite | type == "string")
  and (.bulk_mb_per_s | trio) and (.bulk_cpu_percent | trio)
  and (.small_messages_per_s | trio) and (.small_messages_per_s.mbedtls_unbuffered | summary)
  and (.small_cpu_percent | trio) and (.rtt_us | trio)
  and (.receive_bulk_mb_per_s | (.device_node | summary) and (.lanyard | summary))
  and (.receive_bulk_cpu_percent | (.device_node | summary) and (.lanyard | summary))
  and ([.bulk_ratio_vs_mbedtls, .small_ratio_vs_mbedtls, .small_ratio_vs_mbedtls_unbuffered,
        .rtt_median_ratio_vs_mbedtls, .device_node_bulk_ratio_vs_lanyard,
        .device_node_small_ratio_vs_lanyard, .device_node_rtt_median_ratio_vs_lanyard,
        .device_node_bulk_ratio_vs_mbedtls, .receive_bulk_ratio_vs_mbedtls,
        .receive_bulk_lanyard_ratio_vs_mbedtls]
       | all(type == "number"))
  and (.per_round_ratios_vs_lanyard | [.device_node, .lanyard_twin]
       | all((.bulk | summary) and (.small_messages | summary) and (.rtt_median | summary)))
  and (.params | ([.bulk_send_window, .small_send_window] | all(type == "number"))
       and (.max_replay_bytes | [.lanyard_app, .lanyard_accessory, .device, .node]
            | all(type == "number"))
       and (.receive | (.lanyard | type == "string") and (.device_node | type == "string")))
  and ([.heap_bytes_per_idle_channel.app, .heap_bytes_per_idle_channel.accessory]
       | all(type == "number"))
  and (.concurrent_channels | (.requested == 2) and (.established == 2)
       and ([.accessory_sessions, .accessory_idle_cpu_percent, .accessory_rss_per_channel_bytes,
             .setup_seconds] | all(type == "number")))
  and (.goals | (.bulk_ratio_vs_mbedtls_min | type == "number")
       and (.bulk_ratio_vs_mbedtls_met | type == "boolean")
       and .accessory_heap_bytes_per_idle_channel_max == 49152
       and (.accessory_heap_bytes_per_idle_channel_met | type == "boolean")
       and .device_node_vs_lanyard_drop_max == 0.05
       and ([.device_node_bulk_vs_lanyard_met, .device_node_small_vs_lanyard_met,
             .device_node_rtt_vs_lanyard_met, .lanyard_twin_bulk_vs_lanyard_met,
             .lanyard_twin_small_vs_lanyard_met, .lanyard_twin_rtt_vs_lanyard_met,
             .device_node_verdicts_resolvable,
             .receive_bulk_ratio_vs_mbedtls_met]
            | all(type == "boolean"))
       and .receive_bulk_ratio_vs_mbedtls_min == 0.85)
  and .failed_runs == 0)
