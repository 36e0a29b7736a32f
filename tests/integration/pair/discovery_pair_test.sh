# `lanyard pair` without --address, in the lab: the phone browses _lanyard._tcp and finds the
# accessory (the simulator, provisioned, on the home LAN) by its TXT id — the payload's, or the
# one typed with the 8-digit code — pairs by proof and pins it. An id nobody advertises is
# refused with an actionable message. Run through run-in-lab (lab.sh loaded, lab up). Needs
# BUILD and MAKE_PAYLOAD.
LANYARD=${BUILD:?BUILD}/bin/lanyard
SIM=$BUILD/bin/lanyard-accessory-sim
command -v jq >/dev/null || { echo "FAILED: jq is not installed (scripts/bootstrap)"; exit 1; }
export LANYARD_INTERFACE_KINDS=wlan0=wifi,p2p0=p2p,ap0=softap,sap0=softap,cell0=cellular

acc=$LAB_DIR/acc
lab_exec accessory "$SIM" set-wifi --state-dir "$acc" --ssid HomeLAN >/dev/null
lab_spawn accessory "$LAB_DIR/sim.log" "$SIM" --state-dir "$acc" --kind lamp --id acc-1 \
  --json-events >/dev/null
for _ in $(seq 200); do grep -q '"event":"advertised"' "$LAB_DIR/sim.log" && break; sleep 0.1; done
grep -q '"event":"advertised"' "$LAB_DIR/sim.log" || { cat "$LAB_DIR/sim.log"; echo "FAILED: not advertised"; exit 1; }
payload=$(jq -R -r 'fromjson? | select(.event=="payload") | .value' "$LAB_DIR/sim.log" | head -n 1)
code=$(lab_exec accessory "$SIM" ctl --state-dir "$acc" status | jq -r .setup_code)

out=$(lab_exec phone "$LANYARD" pair "$payload" --trust-store "$LAB_DIR/ts" \
  --identity-dir "$LAB_DIR/controller" --timeout 30 --json) ||
  { echo "FAILED: pair: $out"; tail -n 20 "$LAB_DIR/sim.log"; exit 1; }
jq -e '.device_id=="acc-1" and .pinned_by=="verified" and .role=="admin" and (.address|test("5577$"))' \
  <<<"$out" >/dev/null || { echo "FAILED: unexpected result $out"; exit 1; }
echo "ok: by payload: $out"
acc_fp=$(jq -r .fingerprint <<<"$out")

out=$(lab_exec phone "$LANYARD" pair --code "$code" acc-1 --trust-store "$LAB_DIR/ts-code" \
  --identity-dir "$LAB_DIR/controller2" --timeout 30 --json) ||
  { echo "FAILED: pair --code: $out"; tail -n 20 "$LAB_DIR/sim.log"; exit 1; }
jq -e '.device_id=="acc-1" and .pinned_by=="code" and .role=="user"' <<<"$out" >/dev/null ||
  { echo "FAILED: unexpected result $out"; exit 1; }
echo "ok: by code and id: $out"

# The admin lists the controllers, the accessory found by its id again.
out=$(lab_exec phone "$LANYARD" controllers list acc-1 --trust-store "$LAB_DIR/ts" \
  --identity-dir "$LAB_DIR/controller" --timeout 20 --json) ||
  { echo "FAILED: controllers list: $out"; exit 1; }
jq -e 'length==2 and (map(.role)|sort)==["admin","user"]' <<<"$out" >/dev/null ||
  { echo "FAILED: controllers: $out"; exit 1; }
echo "ok: controllers list by id: $out"

# An id nobody advertises: refused after --timeout with an actionable message, nothing pinned.
other=$("$MAKE_PAYLOAD" payload acc-2 "$acc_fp")
if out=$(lab_exec phone "$LANYARD" pair "$other" --trust-store "$LAB_DIR/ts2" \
  --identity-dir "$LAB_DIR/controller" --timeout 3 2>&1); then
  echo "FAILED: pairing an absent accessory succeeded: $out"; exit 1
fi
[[ $out == *'no accessory with id "acc-2" found'* ]] || { echo "FAILED: message: $out"; exit 1; }
[[ ! -e $LAB_DIR/ts2 ]] || { echo "FAILED: a trust store was written"; exit 1; }
echo "ok: absent accessory refused"
