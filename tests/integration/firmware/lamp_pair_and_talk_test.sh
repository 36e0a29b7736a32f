# The firmware lamp (examples/firmware_lamp/firmware_lamp.cpp: lanyard::firmware and the
# embedded mDNS responder in one poll loop) with NO avahi-daemon on its host, against the real
# app side on the phone: avahi-browse sees it with TXT id/pv/sf=1; `lanyard pair PAYLOAD`
# finds it by DNS-SD and pairs, verified against the payload; the window closes (sf=0 seen by
# avahi-browse); `lanyard connect` finds it by id and drives the lamp; a neighbour with the
# payload cannot pair after the owner; a restart keeps the controller and the session resets
# cleanly on the app side.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
LAMP=${LAMP:?LAMP must name the firmware-lamp binary}
LANYARD=${BUILD:?BUILD}/bin/lanyard
[[ -x $LAMP && -x $LANYARD ]] || { echo "FAILED: $LAMP or $LANYARD not built"; exit 1; }

no_avahi_on_accessory
state=$LAB_DIR/lamp-state
# lamp NAME: the lamp on wlan0, JSON lines to $LAB_DIR/NAME.json. Prints the pid.
lamp() {
  # shellcheck disable=SC2016
  lab_spawn accessory "$LAB_DIR/$1.err" bash -c 'exec "$0" "$@" >"'"$LAB_DIR/$1.json"'"' \
    "$LAMP" --interface wlan0 --state-dir "$state" --port 4433 --device-id fw-lamp-1 \
    --instance "Firmware Lamp"
}
pid=$(lamp lamp1)
wait_json lamp1 '.event=="started" and (.setup_payload|startswith("LNY1:"))'
wait_json lamp1 '.event=="announced" and .interface=="wlan0"'
payload=$(jq -r 'select(.event=="started")|.setup_payload' "$LAB_DIR/lamp1.json")

# sf_seen VALUE: until the phone's avahi-browse resolves fw-lamp-1 with TXT sf=VALUE.
sf_seen() {
  local start=$SECONDS
  until lab_exec phone avahi-browse -rpt _lanyard._tcp >"$LAB_DIR/ab.txt" 2>/dev/null &&
    grep '^=;wlan0;IPv4;.*"id=fw-lamp-1"' "$LAB_DIR/ab.txt" | grep -q "\"sf=$1\""; do
    ((SECONDS - start < 30)) ||
      { echo "FAILED: avahi-browse never saw sf=$1"; cat "$LAB_DIR/ab.txt" "$LAB_DIR/lamp1.json"; exit 1; }
    sleep 0.2
  done
  echo "ok: avahi-browse sees fw-lamp-1 with sf=$1 (within $((SECONDS - start)) s)"
}
sf_seen 1

# 1. Pair by DNS-SD with the payload (the QR code's text).
out=$(lab_exec phone "$LANYARD" pair "$payload" --trust-store "$LAB_DIR/ts" \
  --identity-dir "$LAB_DIR/ctl-owner" --name owner-phone --timeout 30 --json) ||
  { echo "FAILED: pair: $out"; cat "$LAB_DIR/lamp1.json" "$LAB_DIR/lamp1.err"; exit 1; }
jq -e '.device_id=="fw-lamp-1" and .pinned_by=="verified" and .role=="admin"' <<<"$out" >/dev/null ||
  { echo "FAILED: unexpected pairing result $out"; exit 1; }
wait_json lamp1 '.event=="paired" and .name=="owner-phone" and .role=="admin"' 5
echo "ok: paired by DNS-SD: $out"
sf_seen 0

# 2. The channel, found by id: three commands, each acknowledged and answered in order.
out=$( (printf 'on\nbrightness 40\nblink\n'; sleep 2) | lab_exec phone "$LANYARD" connect fw-lamp-1 \
  --json --trust-store "$LAB_DIR/ts" --identity-dir "$LAB_DIR/ctl-owner" --timeout 30) ||
  { echo "FAILED: connect: $out"; cat "$LAB_DIR/lamp1.json"; exit 1; }
jq -se '[.[]|select(.event=="acked")|.seq]==[0,1,2] and
        [.[]|select(.event=="message")|.text]==["state on 100","state on 40",
          "error: unknown command (on, off, brightness N)"]' <<<"$out" >/dev/null ||
  { echo "FAILED: connect did not get the three answers in order:"; echo "$out"; exit 1; }
echo "ok: on / brightness 40 / blink answered in order"

# 3. A neighbour with the payload, after the owner: the window is closed, nothing pairs.
if out=$(lab_exec phone "$LANYARD" pair "$payload" --trust-store "$LAB_DIR/ts2" \
  --identity-dir "$LAB_DIR/ctl-neighbour" --timeout 6 --json); then
  echo "FAILED: a second controller paired with the payload after the owner: $out"; exit 1
fi
no_json lamp1 '.event=="paired" and .name!="owner-phone"'
echo "ok: the neighbour was refused: $(jq -c . <<<"$out" | head -c 200)"

# Controller administration from the owner's app (lanyard controllers ...), by DNS-SD.
owner=(--trust-store "$LAB_DIR/ts" --identity-dir "$LAB_DIR/ctl-owner" --timeout 30)
lab_exec phone "$LANYARD" controllers window fw-lamp-1 open 3 "${owner[@]}" >/dev/null ||
  { echo "FAILED: controllers window open"; cat "$LAB_DIR/lamp1.json"; exit 1; }
sf_seen 1
out=$(lab_exec phone "$LANYARD" pair "$payload" --trust-store "$LAB_DIR/ts3" \
  --identity-dir "$LAB_DIR/ctl-tablet" --name tablet --timeout 30 --json) ||
  { echo "FAILED: the tablet did not pair in the window the admin opened: $out"; exit 1; }
out=$(lab_exec phone "$LANYARD" controllers list fw-lamp-1 "${owner[@]}" --json) ||
  { echo "FAILED: controllers list: $out"; exit 1; }
jq -e 'length==2 and ([.[]|select(.name=="owner-phone")|.role]==["admin"]) and
       ([.[]|select(.name=="tablet")|.role]==["user"])' <<<"$out" >/dev/null ||
  { echo "FAILED: controllers list: $out"; exit 1; }
tablet_fp=$(jq -r '.[]|select(.name=="tablet")|.fingerprint' <<<"$out")
owner_fp=$(jq -r '.[]|select(.name=="owner-phone")|.fingerprint' <<<"$out")
if out=$(lab_exec phone "$LANYARD" controllers list fw-lamp-1 --trust-store "$LAB_DIR/ts3" \
  --identity-dir "$LAB_DIR/ctl-tablet" --timeout 30 --json 2>&1); then
  echo "FAILED: a user listed the controllers: $out"; exit 1
fi
grep -q not_admin <<<"$out" || { echo "FAILED: the user's refusal: $out"; exit 1; }
if out=$(lab_exec phone "$LANYARD" controllers remove fw-lamp-1 "$owner_fp" "${owner[@]}" --json 2>&1); then
  echo "FAILED: the only admin was removed: $out"; exit 1
fi
grep -q last_admin <<<"$out" || { echo "FAILED: the last admin's refusal: $out"; exit 1; }
lab_exec phone "$LANYARD" controllers remove fw-lamp-1 "$tablet_fp" "${owner[@]}" >/dev/null ||
  { echo "FAILED: controllers remove"; exit 1; }
if out=$( (printf 'on\n'; sleep 1) | lab_exec phone "$LANYARD" connect fw-lamp-1 --json \
  --trust-store "$LAB_DIR/ts3" --identity-dir "$LAB_DIR/ctl-tablet" --timeout 8 2>&1) &&
  grep -q '"event":"message"' <<<"$out"; then
  echo "FAILED: the removed tablet still talks to the lamp: $out"; exit 1
fi
echo "ok: the admin opened the window, listed, kept the last admin, removed the tablet, which is out"

# 4. Restart: the controller is kept, no payload, no setup mode; the app's session resets and
# the channel goes on.
stop_lamp lamp1 "$pid"
pid=$(lamp lamp2)
wait_json lamp2 '.event=="started" and .pairing_window_open==false and (has("setup_payload")|not)'
out=$( (printf 'off\n'; sleep 2) | lab_exec phone "$LANYARD" connect fw-lamp-1 \
  --json --trust-store "$LAB_DIR/ts" --identity-dir "$LAB_DIR/ctl-owner" --timeout 30) ||
  { echo "FAILED: connect after restart: $out"; cat "$LAB_DIR/lamp2.json"; exit 1; }
jq -se '[.[]|select(.event=="message")|.text]==["state off 100"]' <<<"$out" >/dev/null ||
  { echo "FAILED: after the restart: $out"; exit 1; }
stop_lamp lamp2 "$pid"
pass "firmware lamp (lanyard::firmware + embedded mDNS, no avahi-daemon): found by avahi-browse with sf=1, paired by DNS-SD with the payload, sf=0, driven by lanyard connect, neighbour refused, an admin manages controllers, restart keeps the controller; no C++ allocation after start-up"
