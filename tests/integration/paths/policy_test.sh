# Interface policies are enforced on the wire. --require cellular: the channel reaches the
# accessory through cell0 (a static path: its wlan0 address via the wan router) and sends not a
# single packet on wlan0, although wlan0 is up and the accessory is discovered there. With cell0
# down it waits, and says why naming the policy and cell0. --prohibit wifi: p2p0, nothing on
# wlan0. Counted with nft counters in the phone.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
start_accessory

ns=$(lab_ns phone)
ip netns exec "$ns" nft -f - <<NFT
table inet lanyard_pathtest {
  counter wlan0_out {}
  counter cell0_out {}
  counter p2p0_out {}
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "wlan0" tcp dport 7443 counter name "wlan0_out"
    oifname "cell0" tcp dport 7443 counter name "cell0_out"
    oifname "p2p0" tcp dport 7443 counter name "p2p0_out"
  }
}
NFT
packets() {
  ip netns exec "$ns" nft -j list counter inet lanyard_pathtest "$1" |
    jq '.nftables[] | select(.counter) | .counter.packets'
}
delivered() { # FILE N: N lines acknowledged and echoed
  jq -e -s --argjson n "$2" '([.[]|select(.event=="acked")]|length)==$n and
    ([.[]|select(.event=="message")]|length)==$n' "$1" >/dev/null
}

printf 'a\nb\nc\n' | connect "$LAB_DIR/cell.json" --require cellular \
  --static 198.18.1.3:7443@cell0 --timeout 30 ||
  { cat "$LAB_DIR/cell.json" "$LAB_DIR/cell.json.err"; echo "FAILED: --require cellular"; exit 1; }
delivered "$LAB_DIR/cell.json" 3 || { cat "$LAB_DIR/cell.json"; echo "FAILED: lines"; exit 1; }
jq -e -s '[.[]|select(.event=="path")|.to.interface]==["cell0"]' "$LAB_DIR/cell.json" >/dev/null ||
  { cat "$LAB_DIR/cell.json"; echo "FAILED: not on cell0"; exit 1; }
[[ $(packets wlan0_out) == 0 ]] || { echo "FAILED: $(packets wlan0_out) packets on wlan0"; exit 1; }
(($(packets cell0_out) > 0)) || { echo "FAILED: nothing counted on cell0"; exit 1; }
echo "ok: --require cellular: $(packets cell0_out) packets on cell0, none on wlan0"

printf 'd\n' | connect "$LAB_DIR/p2p.json" --prohibit wifi --timeout 30 ||
  { cat "$LAB_DIR/p2p.json" "$LAB_DIR/p2p.json.err"; echo "FAILED: --prohibit wifi"; exit 1; }
delivered "$LAB_DIR/p2p.json" 1 || { cat "$LAB_DIR/p2p.json"; echo "FAILED: line"; exit 1; }
jq -e -s '[.[]|select(.event=="path")|.to.interface]==["p2p0"]' "$LAB_DIR/p2p.json" >/dev/null ||
  { cat "$LAB_DIR/p2p.json"; echo "FAILED: not on p2p0"; exit 1; }
[[ $(packets wlan0_out) == 0 ]] || { echo "FAILED: $(packets wlan0_out) packets on wlan0"; exit 1; }
echo "ok: --prohibit wifi: on p2p0, none on wlan0"

lab_link_down phone cell0
if printf 'e\n' | connect "$LAB_DIR/down.json" --require cellular \
  --static 198.18.1.3:7443@cell0 --timeout 5; then
  echo "FAILED: connected with cell0 down"; exit 1
fi
jq -e -s 'any(.[]; .event=="state" and .state=="waiting") and
  ([.[]|select(.event=="path")]|length)==0' "$LAB_DIR/down.json" >/dev/null ||
  { cat "$LAB_DIR/down.json"; echo "FAILED: expected waiting"; exit 1; }
# The channel says why, as data: no viable path, and cell0 among the paths it rejected.
jq -e -s 'any(.[]; .event=="diagnostic" and .code=="lanyard.channel.no_viable_path" and
  ([.fields.rejected_interface]|flatten|index("cell0")) != null)' "$LAB_DIR/down.json" >/dev/null ||
  { cat "$LAB_DIR/down.json" "$LAB_DIR/down.json.err"; echo "FAILED: no no_viable_path naming cell0"; exit 1; }
[[ $(packets wlan0_out) == 0 ]] || { echo "FAILED: $(packets wlan0_out) packets on wlan0"; exit 1; }
echo "PASSED: policies enforced on the wire; waiting names the policy and cell0"
