# shellcheck shell=bash
# The relay's MQTT broker in the lab's cloud host (docs/design/relay.md, "Accounts, topics and
# ACLs"): mosquitto with TLS only (port 8883 on 198.18.5.2 and 2001:2:0:5::2), no anonymous
# clients, a password file and the two-line ACL a deployment uses. Sourced by the relay lab tests
# after lab.sh; lab_down kills the broker with the lab.
#
#   broker_start USER:PASSWORD...   writes the CA, the broker's certificate, the accounts and the
#                                   ACL under $BROKER_DIR, starts mosquitto, waits for its port
#   broker_stop / broker_restart    (restart keeps accounts and certificates)
#   broker_sub HOST USER PASS TOPIC OUTFILE [ARGS...]  mosquitto_sub in the background (pid)
#   broker_pub HOST USER PASS TOPIC MESSAGE            mosquitto_pub, TLS, QoS 1
#   wait_grep FILE REGEX [TIMEOUT_S=20]                 polls until a line of FILE matches
BROKER_DIR="$LAB_DIR/cloud/broker"
BROKER_HOST=198.18.5.2
BROKER_PORT=8883
BROKER_PID=

_broker_certs() {
  local d=$BROKER_DIR
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=lanyard lab relay CA" -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null || return 1
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$BROKER_HOST" \
    -keyout "$d/broker.key" -out "$d/broker.csr" 2>/dev/null || return 1
  printf 'subjectAltName=IP:%s,IP:2001:2:0:5::2\n' "$BROKER_HOST" >"$d/san.ext"
  openssl x509 -req -in "$d/broker.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -days 2 -extfile "$d/san.ext" -out "$d/broker.crt" 2>/dev/null || return 1
}

broker_start() {
  local account user pass
  mkdir -p "$BROKER_DIR"
  if [[ ! -f $BROKER_DIR/broker.conf ]]; then
    _broker_certs || { echo "FAILED: cannot make the broker's certificates (openssl)"; return 1; }
    : >"$BROKER_DIR/passwd"
    for account in "$@"; do
      user=${account%%:*} pass=${account#*:}
      mosquitto_passwd -b "$BROKER_DIR/passwd" "$user" "$pass" ||
        { echo "FAILED: mosquitto_passwd for $user"; return 1; }
    done
    # A client reads only its own account's tree (%u: the authenticated user name; a client id
    # is not authenticated); anyone authenticated may publish into an inbox.
    cat >"$BROKER_DIR/acl" <<ACL
pattern read lanyard/v1/%u/#
pattern write lanyard/v1/#
ACL
    cat >"$BROKER_DIR/broker.conf" <<CONF
per_listener_settings false
allow_anonymous false
password_file $BROKER_DIR/passwd
acl_file $BROKER_DIR/acl
persistence false
log_dest file $BROKER_DIR/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
user root
set_tcp_nodelay true
listener $BROKER_PORT $BROKER_HOST
cafile $BROKER_DIR/ca.crt
certfile $BROKER_DIR/broker.crt
keyfile $BROKER_DIR/broker.key
tls_version tlsv1.2
listener $BROKER_PORT 2001:2:0:5::2
cafile $BROKER_DIR/ca.crt
certfile $BROKER_DIR/broker.crt
keyfile $BROKER_DIR/broker.key
tls_version tlsv1.2
CONF
    chmod 600 "$BROKER_DIR/passwd" "$BROKER_DIR/acl" "$BROKER_DIR"/*.key
  fi
  BROKER_PID=$(lab_spawn cloud "$BROKER_DIR/mosquitto.out" mosquitto -c "$BROKER_DIR/broker.conf")
  local end=$((SECONDS + 10))
  until lab_exec cloud bash -c "exec 3<>/dev/tcp/$BROKER_HOST/$BROKER_PORT" 2>/dev/null; do
    if ((SECONDS > end)) || ! kill -0 "$BROKER_PID" 2>/dev/null; then
      echo "FAILED: mosquitto did not open $BROKER_HOST:$BROKER_PORT; its log:"
      tail -n 20 "$BROKER_DIR/mosquitto.log"
      return 1
    fi
    sleep 0.05
  done
}

broker_stop() {
  [[ -n $BROKER_PID ]] || return 0
  kill -TERM "$BROKER_PID" 2>/dev/null || true
  local end=$((SECONDS + 5))
  while kill -0 "$BROKER_PID" 2>/dev/null && ((SECONDS < end)); do sleep 0.05; done
  kill -KILL "$BROKER_PID" 2>/dev/null || true
  BROKER_PID=
}

broker_restart() { broker_stop && broker_start; }

_broker_tls() { echo "-h $BROKER_HOST -p $BROKER_PORT --cafile $BROKER_DIR/ca.crt -q 1"; }

broker_sub() { # HOST USER PASS TOPIC OUTFILE [ARGS...]
  local host=$1 user=$2 pass=$3 topic=$4 out=$5
  shift 5
  # shellcheck disable=SC2046
  lab_spawn "$host" "$out" mosquitto_sub $(_broker_tls) -u "$user" -P "$pass" -t "$topic" -v "$@"
}

broker_pub() { # HOST USER PASS TOPIC MESSAGE
  # shellcheck disable=SC2046
  lab_exec "$1" mosquitto_pub $(_broker_tls) -u "$2" -P "$3" -t "$4" -m "$5"
}

wait_grep() { # FILE REGEX [TIMEOUT_S=20]
  local end=$((SECONDS + ${3:-20}))
  until grep -Eq -- "$2" "$1" 2>/dev/null; do
    ((SECONDS < end)) || { echo "FAILED: nothing matching /$2/ in ${1##*/}; its tail:"; tail -n 15 "$1" 2>/dev/null; exit 1; }
    sleep 0.05
  done
}
