# shellcheck shell=bash
# Shared by the relay lab tests that run a real node (examples/minimal_accessory) and
# `lanyard connect` (sourced after broker.sh): the accessory starts and the phone pairs
# (../paths/common.sh), then the phone, its admin, sets the relay up.
#
#   relay_node_setup [USER:PASSWORD...]   the accessory's account (its inbox id) and the
#                                         household's (home1) plus these; sets INBOX, TS
source "$(dirname "${BASH_SOURCE[0]}")/../paths/common.sh"

relay_node_setup() {
  start_accessory
  TS=(--trust-store "$LAB_DIR/ts" --identity-dir "$LAB_DIR/controller")
  INBOX=$(lab_exec phone "$LANYARD" relay inbox minimal-1 "${TS[@]}") ||
    { echo "FAILED: lanyard relay inbox"; exit 1; }
  [[ $INBOX =~ ^[A-Z2-7]{26}$ ]] || { echo "FAILED: inbox '$INBOX'"; exit 1; }
  broker_start "$INBOX:acc-secret" "home1:home-secret" "$@" || exit 1
  printf 'acc-secret\n' >"$LAB_DIR/acc.pw"
  printf 'home-secret\n' >"$LAB_DIR/home.pw"
  lab_exec phone "$LANYARD" relay set minimal-1 "${TS[@]}" --broker "$BROKER_HOST" \
    --ca "$BROKER_DIR/ca.crt" --accessory-password-file "$LAB_DIR/acc.pw" \
    --household-account home1 --household-password-file "$LAB_DIR/home.pw" --timeout 30 \
    >"$LAB_DIR/relay-set.out" 2>&1 ||
    { cat "$LAB_DIR/relay-set.out"; echo "FAILED: relay set"; exit 1; }
  wait_grep "$LAB_DIR/acc.log" '^relay: connected'
}

# relay_leave_home: cellular stops reaching the home, p2p0 and wlan0 go down.
relay_leave_home() {
  lab_cell_home off
  lab_link_down phone p2p0
  lab_link_down phone wlan0
}
