# Lab test (sourced by tests/lab/run-in-lab): the relay's broker as deployed (docs/design/
# relay.md): TLS only, no anonymous clients, and the ACL under which a client with valid
# credentials reads nothing but its own account's tree. The accessory's account, a household's
# account (the controllers) and a stranger's, each with its own password; cellular reaches only
# the cloud.
source "$(dirname "${BASH_SOURCE[0]}")/broker.sh"
D="$LAB_DIR/relay"
mkdir -p "$D"
ACC=V6VXVBK453VV45SV5WCBPUPTEC # an accessory's inbox id is its account (crypto::relay_inbox)
lab_cell_home off
broker_start "$ACC:acc-secret" "home1:home-secret" "stranger:stranger-secret"

subscribed() { # COUNT: the broker saw COUNT subscribers connect
  local end=$((SECONDS + 10))
  until (($(grep -c 'New client connected' "$BROKER_DIR/mosquitto.log") >= $1)); do
    ((SECONDS < end)) || { echo "FAILED: $1 subscribers did not connect; broker log:"; tail -n 20 "$BROKER_DIR/mosquitto.log"; tail -n 5 "$D"/*.sub; exit 1; }
    sleep 0.05
  done
  sleep 0.3 # connected, then subscribed: the SUBSCRIBE follows the CONNACK
}

broker_sub accessory "$ACC" acc-secret "lanyard/v1/$ACC/#" "$D/acc.sub" >/dev/null
broker_sub phone home1 home-secret 'lanyard/v1/home1/#' "$D/home.sub" >/dev/null
# The stranger asks for everything, and for the other accounts' trees by name.
broker_sub phone stranger stranger-secret '#' "$D/stranger.sub" -t 'lanyard/v1/#' \
  -t "lanyard/v1/$ACC/#" -t 'lanyard/v1/home1/#' >/dev/null
# The accessory, too, reads nothing but its own tree.
broker_sub accessory "$ACC" acc-secret 'lanyard/v1/home1/#' "$D/acc-other.sub" >/dev/null
subscribed 4

broker_pub phone home1 home-secret "lanyard/v1/$ACC/OPEN" "open-from-home" || { echo "FAILED: the household cannot publish into the accessory's inbox"; exit 1; }
broker_pub accessory "$ACC" acc-secret "lanyard/v1/home1/PHONEINBOX" "accept-from-acc" || { echo "FAILED: the accessory cannot publish into the household's inbox"; exit 1; }
# A stranger may write into an inbox (an OPEN the accessory refuses without a relay key)...
broker_pub phone stranger stranger-secret "lanyard/v1/$ACC/OPEN" "open-from-stranger"
# ...but not outside the relay's tree: the broker drops it.
broker_pub phone home1 home-secret "elsewhere/x" "outside-the-tree" || true
wait_grep "$D/acc.sub" "open-from-home"
wait_grep "$D/acc.sub" "open-from-stranger"
wait_grep "$D/home.sub" "accept-from-acc"
# A message the stranger may read arrives after every other message (in order, one broker), so
# "nothing before it" is checked without a sleep: its own account's tree.
broker_pub phone home1 home-secret "lanyard/v1/stranger/MARK" "marker"
wait_grep "$D/stranger.sub" "marker"
broker_pub accessory "$ACC" acc-secret "lanyard/v1/$ACC/MARK" "acc-marker"
wait_grep "$D/acc.sub" "acc-marker"
if grep -v marker "$D/stranger.sub" | grep -q .; then
  echo "FAILED: the stranger read other accounts' messages:"; cat "$D/stranger.sub"; exit 1
fi
if [[ -s $D/acc-other.sub ]]; then
  echo "FAILED: the accessory read the household's tree:"; cat "$D/acc-other.sub"; exit 1
fi
if grep -q outside-the-tree "$D"/*.sub; then echo "FAILED: a publish outside lanyard/v1/ was delivered"; exit 1; fi
echo "ok: each account reads only its own tree; inboxes take publishes from any account"

# No way in without TLS and a valid password.
if broker_pub phone stranger wrong-password "lanyard/v1/$ACC/x" "x" 2>"$D/badpass.err"; then
  echo "FAILED: a wrong password was accepted"; exit 1
fi
if lab_exec phone mosquitto_pub -h "$BROKER_HOST" -p "$BROKER_PORT" --cafile "$BROKER_DIR/ca.crt" \
  -t "lanyard/v1/$ACC/x" -m x 2>"$D/anon.err"; then
  echo "FAILED: an anonymous client was accepted"; exit 1
fi
if lab_exec phone mosquitto_pub -h "$BROKER_HOST" -p 1883 -u home1 -P home-secret \
  -t "lanyard/v1/$ACC/x" -m x 2>"$D/plain.err"; then
  echo "FAILED: the broker took a connection without TLS"; exit 1
fi
echo "ok: a wrong password, an anonymous client and plain MQTT are refused"

# Cellular reaches the broker and not the home.
if lab_ping phone cell0 198.18.1.3 1 2>/dev/null; then echo "FAILED: cellular reaches the home"; exit 1; fi
echo "PASSED"
