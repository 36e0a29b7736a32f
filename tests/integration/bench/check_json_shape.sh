#!/usr/bin/env bash
# check_json_shape.sh NAME COMMAND... : runs a benchmark and checks its --json object's shape.
set -euo pipefail
name=$1
shift
out=$("$@") # exit 77 (no lab possible here) passes through as CTest's skip
echo "$out"
declare -A filter=(
  [handshake]='.iterations as $it
               | ([.full_ms.lanyard.median, .full_ms.mbedtls.median, .resumed_ms.lanyard.median,
                   .resumed_ms.mbedtls.median, .full_ratio_vs_mbedtls, .resumed_ratio_vs_mbedtls,
                   .resumed_over_full] | all(type=="number"))
               and (.goals | .full_ratio_vs_mbedtls_max==1.1 and .resumed_ratio_vs_mbedtls_max==1.1
                    and (.full_ratio_vs_mbedtls_met | type=="boolean")
                    and (.resumed_ratio_vs_mbedtls_met | type=="boolean"))
               and .failed_runs==0 and .plain_io=="buffered"
               and ([.full_ms[], .resumed_ms[]] | all(.runs==$it))'
  [discovery]='([.advertise_to_resolved_ms.lanyard.median, .advertise_to_resolved_ms.lanyard.p95,
                .advertise_to_resolved_ms.avahi.median, .advertise_to_resolved_ms.avahi.p95,
                .txt_update_ms.lanyard.median, .txt_update_ms.avahi.median, .ratio_vs_avahi]
               | all(type=="number")) and .failed_runs==0
               and (.goals | (.advertise_to_resolved_met | type=="boolean")
                    and (.txt_update_met | type=="boolean"))'
  [failover]='([.link_down.lanyard.median_ms, .link_down.mptcp.median_ms, .link_down.mptcp.p95_ms,
               .blackhole.lanyard.median_ms, .blackhole.mptcp.median_ms, .blackhole.mptcp.p95_ms,
               .link_down_ratio_vs_mptcp, .blackhole_ratio_vs_mptcp] | all(type=="number"))
               and .failed_runs==0 and (.results | length > 0)
               and all(.results[]; (.stall_ms.median | type=="number") and .failed_runs==0)
               and all(.delays[]; .available) and (.goals | length > 0)
               and all(.goals[]; .met | type=="boolean")'
  [relay]='def s: [.median, .p95, .p99, .min, .max, .runs] | all(type=="number");
           (.round_trip_us | (.direct | s) and (.relay | s) and (.relay_over_direct | type=="number"))
           and ([.bulk_kib_per_s.direct, .bulk_kib_per_s.relay, .bulk_kib_per_s.relay_over_direct]
                | all(type=="number"))
           and (.last_local_path_goes_us | (.gap | s) and (.stall | s))
           and (.idle | .connected==.accessories and (.broker_bytes_per_accessory | type=="number")
                and (.goal.met | type=="boolean"))
           and .failed_runs==0 and .round_trip_us.relay.runs==.setup.rounds'
  [pairing]='def s: [.median, .p95, .p99, .min, .max, .runs] | all(type=="number");
             ([.wall_ms, .handshake_ms, .accessory_cpu_ms, .app_cpu_ms]
              | all(.[] | .full_handshake, .payload_pairing, .code_pairing; s))
             and (.exchange_ms | (.payload_pairing | s) and (.code_pairing | s))
             and ([.pieces_ms.pbkdf2, .pieces_ms.spake2_verifier_respond, .pieces_ms.store_pair]
                  | all(s))
             and ([.payload_over_handshake, .code_over_handshake] | all(type=="number"))
             and (.goals | .payload_over_handshake_max==1.2 and .code_over_handshake_max==2
                  and (.payload_over_handshake_met | type=="boolean")
                  and (.code_over_handshake_met | type=="boolean"))
             and .failed_runs==0 and .wall_ms.code_pairing.runs==.runs
             and .accessory_pairings==2*.runs'
)
[[ -n ${filter[$name]:-} ]] || { echo "check_json_shape: no shape for '$name'"; exit 2; }
jq -e "${filter[$name]}" <<<"$out" >/dev/null ||
  { echo "FAILED: lanyard-bench $name --json does not have the documented shape"; exit 1; }
echo "PASS: lanyard-bench $name --json shape"
