# `lanyard pair PAYLOAD` without --address, in the lab: the phone browses _lanyard._tcp, finds
# the accessory whose TXT id is the payload's, connects and pins it as verified. Run through
# run-in-lab (lab.sh loaded, lab up). Needs BUILD, TLS_ECHO_SERVER, MAKE_PAYLOAD.
LANYARD=${BUILD:?BUILD}/bin/lanyard
here=$(dirname "${BASH_SOURCE[0]}")
ctl_fp=$("$MAKE_PAYLOAD" identity "$LAB_DIR/controller" controller-test)
lab_spawn accessory "$LAB_DIR/srv.log" "$TLS_ECHO_SERVER" --dir "$LAB_DIR/acc" \
  --device-id acc-1 --pin "$ctl_fp" >/dev/null
for _ in $(seq 100); do grep -q '^fingerprint ' "$LAB_DIR/srv.log" && break; sleep 0.1; done
port=$(sed -n 's/^port //p' "$LAB_DIR/srv.log")
acc_fp=$(sed -n 's/^fingerprint //p' "$LAB_DIR/srv.log")
[[ -n $port && -n $acc_fp ]] || { echo "FAILED: tls_echo_server did not start"; exit 1; }
# Both global addresses listen (whichever instance resolves first is tried first).
lab_spawn accessory "$LAB_DIR/fwd.log" python3 "$here/forward.py" 198.18.1.3 5577 "$port" >/dev/null
lab_spawn accessory "$LAB_DIR/fwd.log" python3 "$here/forward.py" 2001:2:0:1::3 5577 "$port" \
  >/dev/null
for _ in $(seq 100); do (($(grep -c listening "$LAB_DIR/fwd.log") == 2)) && break; sleep 0.1; done
lab_spawn accessory "$LAB_DIR/adv.log" "$LANYARD" advertise Lamp _lanyard._tcp 5577 id=acc-1 \
  --interface wlan0 >/dev/null

payload=$("$MAKE_PAYLOAD" payload acc-1 "$acc_fp")
out=$(lab_exec phone "$LANYARD" pair "$payload" --trust-store "$LAB_DIR/ts" \
  --identity-dir "$LAB_DIR/controller" --timeout 30 --json) ||
  { echo "FAILED: pair: $out"; cat "$LAB_DIR/srv.log"; exit 1; }
jq -e '.device_id=="acc-1" and .pinned_by=="verified" and (.address=="198.18.1.3:5577" or .address=="[2001:2:0:1::3]:5577")' \
  <<<"$out" >/dev/null || { echo "FAILED: unexpected result $out"; exit 1; }
echo "ok: $out"

# An id nobody advertises: refused after --timeout with an actionable message, nothing pinned.
other=$("$MAKE_PAYLOAD" payload acc-2 "$acc_fp")
if out=$(lab_exec phone "$LANYARD" pair "$other" --trust-store "$LAB_DIR/ts2" \
  --identity-dir "$LAB_DIR/controller" --timeout 3 2>&1); then
  echo "FAILED: pairing an absent accessory succeeded: $out"; exit 1
fi
[[ $out == *'no accessory with id "acc-2" found'* ]] || { echo "FAILED: message: $out"; exit 1; }
[[ ! -e $LAB_DIR/ts2 ]] || { echo "FAILED: a trust store was written"; exit 1; }
echo "ok: absent accessory refused"
