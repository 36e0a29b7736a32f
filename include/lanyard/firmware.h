/**
 * @file
 * The C interface of lanyard::firmware::accessory (include/lanyard/firmware/accessory.hpp): the
 * accessory side of Lanyard for firmware written in C, and for other languages' FFI. C99/C11
 * compatible; every function is also callable from C++ (and is noexcept there).
 *
 * One `lanyard_accessory` is the whole accessory protocol — TLS with pinned controller keys,
 * pairing with the setup secret, the sessions of several controllers, provisioning — driven from
 * one poll loop, sans-IO: the firmware owns the sockets and the clocks and hands bytes in and out.
 *
 *     lanyard_accessory_config cfg;
 *     lanyard_accessory_config_default(&cfg);       // settings: lanyard_accessory_settings_default
 *     cfg.platform = my_platform;                   // random, load, save, wall_clock, ...
 *     cfg.setup_secret = secret16;                  // the QR code's secret
 *     lanyard_accessory* acc;
 *     if (lanyard_accessory_create(&cfg, "lamp-1", &acc)) fail();  // identity in storage
 *     if (lanyard_accessory_start(acc, now_ms())) fail();
 *     loop:
 *       new TCP connection -> lanyard_accessory_accept(acc, now, &id)
 *       bytes read         -> lanyard_accessory_receive(acc, id, data, len, now, &taken);
 *                             keep what it did not take (lanyard_accessory_wants_input)
 *       EOF / error        -> lanyard_accessory_closed(acc, id, now)
 *       timer              -> lanyard_accessory_handle_deadline(acc, now) at next_deadline()
 *       after each call    -> write lanyard_accessory_output() of every connection (then
 *                             lanyard_accessory_consume_output() what the socket took), and
 *                             drain lanyard_accessory_poll_event()
 *       LANYARD_EVENT_CLOSE_CONNECTION -> write what output() still holds, close the socket,
 *                             lanyard_accessory_closed(acc, id, now)
 *       LANYARD_EVENT_MESSAGE -> the application; answer with lanyard_accessory_send()
 *
 * Time: `now_ms` arguments are milliseconds of a monotonic clock (CLOCK_MONOTONIC, a tick
 * counter): any origin, never going back. The wall clock (platform.wall_clock) is separate.
 *
 * Errors: every function that can fail returns an `int`: 0 on success, else one of the negative
 * LANYARD_E* values below. They are stable (never renumbered or reused): a value names a code of
 * one Lanyard error category (firmware, channel, pairing, TLS) as `-(base + code)`, where the
 * base is 100 for firmware_errc, 200 for channel_errc, 300 for pairing_errc and 400 for
 * tls_errc, so new codes of a category get their value without a new release of this list;
 * anything else is LANYARD_E_OTHER. lanyard_strerror() and lanyard_error_name() describe a
 * value with static strings.
 *
 * Memory: lanyard_accessory_create() (and _with_identity_dir()) makes the TLS context and
 * allocates the accessory and every table its settings size (connections with their TLS
 * engines and buffers, sessions with their buffers, pairing exchanges, controllers, events)
 * through the non-throwing operator new: if one allocation fails it returns
 * LANYARD_E_NO_MEMORY and nothing leaks (the failing-allocator test walks each one).
 * lanyard_accessory_start() allocates nothing, and nor does anything after it: connections,
 * pairings (a wrong setup secret too), failed handshakes (TLS failures keep their code only),
 * messages, administration and provisioning allocate nothing of Lanyard's, as long as the
 * loop drains lanyard_accessory_poll_event() after every call (events left to pile up grow
 * their ring rather than be lost). mbedTLS allocates through its own allocator (on
 * firmware, its MBEDTLS_MEMORY_BUFFER_ALLOC_C pool). The library is built without
 * exceptions, so an allocation that fails there terminates the program (std::terminate,
 * i.e. abort()) — nothing ever unwinds across this interface. Size the heap for the settings
 * chosen (docs/PERFORMANCE.md).
 *
 * Threads: one accessory is used from one thread at a time (the loop's); distinct accessories
 * are independent. The platform callbacks run on the calling thread, inside the call, and must
 * not call back into the accessory. lanyard_strerror()/lanyard_error_name() are safe anywhere.
 *
 * Pointers: unless said otherwise, pointers passed in are only read during the call (the
 * accessory copies what it keeps); pointers returned point into the accessory and stay valid
 * until the next call on the same accessory that is documented to invalidate them.
 */
#ifndef LANYARD_FIRMWARE_H
#define LANYARD_FIRMWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define LANYARD_NOEXCEPT noexcept
extern "C" {
#else
#define LANYARD_NOEXCEPT
#endif

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/** Return values. 0 is success; every error is negative and stable. */
enum lanyard_error {
  LANYARD_OK = 0,
  /** An error of a category this interface does not map (e.g. a verifier's std::errc). */
  LANYARD_E_OTHER = -1,
  /** Allocating the accessory failed (creation only; see Memory above). */
  LANYARD_E_NO_MEMORY = -2,
  /** A required pointer was NULL, or an enum argument out of range. Nothing was done. */
  LANYARD_E_INVALID_ARGUMENT = -3,

  /* lanyard.firmware (firmware_errc): -(100 + code) */
  /** Settings out of range: a capacity of 0, max_controllers > 255, or a receive window
   *  (max_replay_bytes) that cannot hold one message of max_message_bytes plus 32. */
  LANYARD_E_BAD_SETTINGS = -101,
  /** A platform callback the call needs is missing (random, load, save, wall_clock). */
  LANYARD_E_PLATFORM_INCOMPLETE = -102,
  /** platform.load / save returned a failure; nothing was changed. */
  LANYARD_E_STORAGE_FAILED = -103,
  /** A stored blob is damaged; never reset silently (a factory reset erases the key). */
  LANYARD_E_STORAGE_CORRUPT = -104,
  /** A stored blob holds more controllers than max_controllers. */
  LANYARD_E_STORAGE_OVER_CAPACITY = -105,
  /** platform.random failed. */
  LANYARD_E_RANDOM_FAILED = -106,
  /** No such connection (closed already, or never given): close the socket. */
  LANYARD_E_UNKNOWN_CONNECTION = -107,
  /** Every connection slot holds a session's connection: close the socket. Also the reason of
   *  the close_connection event of a pending connection evicted for a newer one. */
  LANYARD_E_TOO_MANY_CONNECTIONS = -108,
  /** No session with that controller (never connected, or dropped). */
  LANYARD_E_NO_SESSION = -109,
  /** lanyard_accessory_start() was not called, or failed. */
  LANYARD_E_NOT_STARTED = -110,
  /** A connection's TLS output buffer could not take a frame: that connection was closed; its
   *  session resumes on the next one. */
  LANYARD_E_OUTPUT_FULL = -111,
  /** Not enough memory for the accessory's tables (sized by its settings): from create. */
  LANYARD_E_NOT_ENOUGH_MEMORY = -112,
  /** The event queue was full and could not grow (no memory): a connection closed, a message
   *  lost. */
  LANYARD_E_EVENT_QUEUE_FULL = -113,

  /* lanyard.channel (channel_errc): -(200 + code); the ones a firmware sees most. */
  LANYARD_E_CHANNEL_PROTOCOL_VIOLATION = -201,
  LANYARD_E_CHANNEL_PEER_DEAD = -210,
  LANYARD_E_CHANNEL_HANDSHAKE_TIMEOUT = -211,
  LANYARD_E_CHANNEL_CLOSED_BY_PEER = -212,
  LANYARD_E_CHANNEL_NOT_PAIRED = -213,
  LANYARD_E_CHANNEL_TOO_MANY_SESSIONS = -214,
  LANYARD_E_CHANNEL_BUFFER_FULL = -220,
  LANYARD_E_CHANNEL_MESSAGE_TOO_LARGE = -221,
  LANYARD_E_CHANNEL_SESSION_CLOSED = -222,
  LANYARD_E_CHANNEL_SESSION_EXPIRED = -226,
  LANYARD_E_CHANNEL_CONNECTION_REPLACED = -229,

  /* lanyard.pairing (pairing_errc): -(300 + code) */
  LANYARD_E_PAIRING_WINDOW_CLOSED = -301,
  LANYARD_E_PAIRING_TOO_MANY_ATTEMPTS = -302,
  LANYARD_E_PAIRING_WRONG_PROOF = -304,
  LANYARD_E_PAIRING_CONTROLLERS_FULL = -307,
  LANYARD_E_PAIRING_TIMEOUT = -308,
  LANYARD_E_PAIRING_PROTOCOL_VIOLATION = -309,
  LANYARD_E_PAIRING_ACCESSORY_FAILURE = -312,

  /* lanyard.tls (tls_errc): -(400 + code) */
  LANYARD_E_TLS_HANDSHAKE_TIMEOUT = -401,
  LANYARD_E_TLS_ALPN_MISMATCH = -402,
  LANYARD_E_TLS_PEER_CERTIFICATE_MISSING = -403,
  LANYARD_E_TLS_HANDSHAKE_FAILED = -407,
  LANYARD_E_TLS_BAD_RECORD = -420,
  LANYARD_E_TLS_PROTOCOL_ERROR = -424,
  LANYARD_E_TLS_CLOSED_BY_PEER = -425,
  LANYARD_E_TLS_BAD_IDENTITY_FILE = -440,
  LANYARD_E_TLS_IDENTITY_PERMISSIONS = -441,
  LANYARD_E_TLS_IDENTITY_IO = -442,
  LANYARD_E_TLS_INVALID_DEVICE_ID = -443,
  LANYARD_E_TLS_CRYPTO_FAILURE = -444
};

/** The bases of the categories: an error `e` with LANYARD_E_FIRMWARE_BASE >= -e > ... */
#define LANYARD_E_FIRMWARE_BASE 100
#define LANYARD_E_CHANNEL_BASE 200
#define LANYARD_E_PAIRING_BASE 300
#define LANYARD_E_TLS_BASE 400

/** A sentence describing `error` (0: "success"; an unknown value: a generic sentence). A static
 *  string: never NULL, never freed, valid forever. Any thread. Built with
 *  LANYARD_ERROR_MESSAGES=OFF (no sentences, for a small firmware) it gives the code's stable
 *  name instead, as lanyard_error_name() does. */
const char* lanyard_strerror(int error) LANYARD_NOEXCEPT;

/** The stable name of `error`: "<category>.<code>", e.g. "firmware.bad_settings",
 *  "tls.handshake_failed", "pairing.wrong_proof", "channel.not_paired"; "ok" for 0; "other",
 *  "no_memory", "invalid_argument" for the generic values; "unknown" for a value this version
 *  does not know. A static string: never NULL, never freed. Any thread. */
const char* lanyard_error_name(int error) LANYARD_NOEXCEPT;

/* ------------------------------------------------------------------------------------------ */
/* The platform seam                                                                          */
/* ------------------------------------------------------------------------------------------ */

/** The name of the storage blob holding the paired controllers and the pairing window (the
 *  `key` argument of load/save). */
#define LANYARD_STORAGE_KEY_CONTROLLERS "controllers"

/**
 * What the firmware provides, as function pointers with a user pointer. Each callback gets
 * `user` as its first argument, runs inside the accessory call that needs it, on its thread, and
 * must not call the accessory. The accessory copies this struct at creation.
 */
typedef struct lanyard_platform {
  /** Passed to every callback. */
  void* user;
  /** Writes `len` random bytes (hardware RNG, or a DRBG seeded from it) to `out`; returns 0 on
   *  success, anything else on failure. Required. */
  int (*random)(void* user, uint8_t* out, size_t len);
  /** Reads blob `key` (a NUL-terminated name) into `out` (at most `capacity` bytes) and sets
   *  `*size` to its length. Returns 0 on success, 1 when there is no such blob (first boot,
   *  after a factory reset), anything else on failure. A blob longer than `capacity` is a
   *  failure. Required. */
  int (*load)(void* user, const char* key, uint8_t* out, size_t capacity, size_t* size);
  /** Replaces blob `key` with `size` bytes at `data` (valid during the call), atomically: a
   *  power cut leaves the old blob or the new one, never a mix. Returns 0 on success.
   *  Required. */
  int (*save)(void* user, const char* key, const uint8_t* data, size_t size);
  /** The wall clock: seconds since 1970-01-01 UTC. Without a real-time clock, the seconds since
   *  boot (a pairing window opened in an earlier boot then counts as expired). Required. */
  int64_t (*wall_clock)(void* user);
  /** Optional (NULL: provisioning is refused as not offered). Start joining the Wi-Fi network
   *  an admin sent in setup mode; report the outcome later with lanyard_accessory_wifi_joined()
   *  or lanyard_accessory_wifi_failed() (not from inside this callback). `ssid` (1..32 bytes:
   *  may contain any byte, so use `ssid_len`) and `passphrase` (empty for an open network) are
   *  also NUL-terminated; they stay valid, unchanged, until the outcome is reported. */
  void (*join_wifi)(void* user, const char* ssid, size_t ssid_len, const char* passphrase,
                    size_t passphrase_len);
  /** Optional (NULL: no confirmation pairing is offered). Show the verification code of a
   *  confirmation pairing (display, LED pattern). */
  void (*show_verification_code)(void* user, uint32_t code);
} lanyard_platform;

/* ------------------------------------------------------------------------------------------ */
/* Settings                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** Capacities and timings (accessory_settings). Fill with lanyard_accessory_settings_default()
 *  and change what you need: fields may be added at the end in later versions. Checked by
 *  lanyard_accessory_start() (LANYARD_E_BAD_SETTINGS). */
typedef struct lanyard_accessory_settings {
  /** Controllers' sessions kept at once. Default 4. */
  size_t max_sessions;
  /** Connections that are not a session's yet (handshake, pairing). A connection beyond
   *  max_sessions + max_pending closes the oldest of these. Default 2. */
  size_t max_pending;
  /** Paired controllers kept (1..255). Default 8. */
  size_t max_controllers;
  /** A session's replay buffer, which is also the receive window it announces; at least
   *  max_message_bytes + 32. Default 16384. */
  size_t max_replay_bytes;
  /** The largest application message either side may send. Default 4096. */
  size_t max_message_bytes;
  /** How long a session without a connection is kept for its controller to resume. Default
   *  600000 (10 minutes). */
  uint64_t session_linger_ms;
  /** From accept to the end of the TLS handshake (absolute). Default 10000. */
  uint32_t handshake_timeout_ms;
  /** From the handshake to the first channel frame, or the whole pairing exchange. Default
   *  30000. */
  uint32_t pairing_timeout_ms;
  /** The wait before the next proof is evaluated after a failed one, doubling up to the max.
   *  Defaults 250 and 8000. */
  uint32_t failure_delay_first_ms;
  uint32_t failure_delay_max_ms;
  /** The pairing window a first boot (no controllers) opens, in minutes. Default 15. */
  uint32_t setup_window_minutes;
  /** Close the pairing window once a controller paired (one pairing per button press).
   *  Default true. */
  bool close_window_after_pairing;
  /** The accessory is not on its home network yet: an admin may send it Wi-Fi credentials
   *  (needs platform.join_wifi). Default false. */
  bool provisioning;
} lanyard_accessory_settings;

/** Fills `*s` with the defaults above (firmware_session_profile()). `s` must not be NULL. */
void lanyard_accessory_settings_default(lanyard_accessory_settings* s) LANYARD_NOEXCEPT;

/** Everything an accessory is created with, except its identity. */
typedef struct lanyard_accessory_config {
  lanyard_platform platform;
  lanyard_accessory_settings settings;
  /** The 16-byte setup secret of the setup payload (QR code), copied at creation; NULL: none
   *  (then nobody can pair: the setup code's SPAKE2+ verifier is not offered through this
   *  interface yet). */
  const uint8_t* setup_secret;
} lanyard_accessory_config;

/** Zeroes `*c` (no callbacks, no secret) and fills c->settings with the defaults. */
void lanyard_accessory_config_default(lanyard_accessory_config* c) LANYARD_NOEXCEPT;

/* ------------------------------------------------------------------------------------------ */
/* Creation                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** An accessory (opaque). */
typedef struct lanyard_accessory lanyard_accessory;

/**
 * Creates an accessory whose identity (ECDSA P-256 key and self-signed certificate, what
 * controllers pin) is kept in directory `identity_dir` as identity.key (mode 0600) and
 * identity.crt, created on first use for `device_id` (1-64 characters of [A-Za-z0-9._:-])
 * (tls::identity::load_or_create). Copies `config` (the platform struct, the settings, the
 * secret); the strings are read during the call only. Settings are checked by start(), not here.
 *
 * On success `*out` is the new accessory (destroy it with lanyard_accessory_destroy()); on
 * failure `*out` is NULL. Errors: LANYARD_E_INVALID_ARGUMENT (a NULL pointer),
 * LANYARD_E_NO_MEMORY, and the identity's: LANYARD_E_TLS_IDENTITY_IO,
 * LANYARD_E_TLS_IDENTITY_PERMISSIONS, LANYARD_E_TLS_BAD_IDENTITY_FILE,
 * LANYARD_E_TLS_INVALID_DEVICE_ID, LANYARD_E_TLS_CRYPTO_FAILURE.
 *
 * For targets without a file system use lanyard_accessory_create(), which keeps the identity
 * in the platform's storage: bare-metal builds (cmake/toolchains/) do not define this one.
 */
int lanyard_accessory_create_with_identity_dir(const lanyard_accessory_config* config,
                                               const char* identity_dir, const char* device_id,
                                               lanyard_accessory** out) LANYARD_NOEXCEPT;

/**
 * Creates an accessory whose identity is kept in the platform's storage, through its load and
 * save callbacks (firmware/identity_store.hpp): two blobs, "identity.key" (the private key,
 * DER: a secret, never log it) and "identity.crt" (the certificate, DER). The first call makes
 * them for `device_id` with the platform's random callback and stores them; every later one
 * makes the same identity from them. A damaged or half-stored identity is an error, never
 * replaced (controllers pinned its key): erase both blobs to factory-reset. TLS draws its
 * randomness from platform.random too. Copies `config`; `device_id` is read during the call.
 *
 * On success `*out` is the new accessory (lanyard_accessory_destroy() it); on failure NULL.
 * Errors: LANYARD_E_INVALID_ARGUMENT (a NULL pointer), LANYARD_E_NO_MEMORY,
 * LANYARD_E_PLATFORM_INCOMPLETE (no load, save or random callback),
 * LANYARD_E_STORAGE_FAILED, LANYARD_E_STORAGE_CORRUPT,
 * LANYARD_E_TLS_INVALID_DEVICE_ID, LANYARD_E_TLS_CRYPTO_FAILURE.
 */
int lanyard_accessory_create(const lanyard_accessory_config* config, const char* device_id,
                             lanyard_accessory** out) LANYARD_NOEXCEPT;

/** Destroys `acc` and everything it holds (its connections end without a word: close their
 *  sockets). Every pointer it returned becomes invalid. NULL is ignored. */
void lanyard_accessory_destroy(lanyard_accessory* acc) LANYARD_NOEXCEPT;

/** The accessory's key fingerprint (SHA-256 of its SubjectPublicKeyInfo, what controllers pin)
 *  into `out[32]`. Errors: LANYARD_E_INVALID_ARGUMENT. */
int lanyard_accessory_fingerprint(const lanyard_accessory* acc, uint8_t out[32]) LANYARD_NOEXCEPT;

/**
 * Checks the settings and the platform, loads the controllers from storage and, on a first boot
 * (none paired), opens the pairing window for setup mode. Call once before anything else.
 * Errors: LANYARD_E_BAD_SETTINGS, LANYARD_E_PLATFORM_INCOMPLETE, LANYARD_E_STORAGE_FAILED,
 * LANYARD_E_STORAGE_CORRUPT, LANYARD_E_STORAGE_OVER_CAPACITY, and
 * LANYARD_E_PAIRING_TOO_MANY_ATTEMPTS when setup mode cannot reopen (the accessory still
 * starts; its pairing button reopens the window).
 */
int lanyard_accessory_start(lanyard_accessory* acc, uint64_t now_ms) LANYARD_NOEXCEPT;

/* ------------------------------------------------------------------------------------------ */
/* Connections                                                                                */
/* ------------------------------------------------------------------------------------------ */

/**
 * A new TCP connection: its handle in `*id` (a slot and a generation, so a handle kept after its
 * connection ended names nothing rather than the next connection). When every slot is taken
 * the oldest connection that is not a session's is closed for it (a
 * LANYARD_EVENT_CLOSE_CONNECTION with LANYARD_E_TOO_MANY_CONNECTIONS). Errors:
 * LANYARD_E_NOT_STARTED, LANYARD_E_TOO_MANY_CONNECTIONS (close the socket),
 * LANYARD_E_INVALID_ARGUMENT.
 */
int lanyard_accessory_accept(lanyard_accessory* acc, uint64_t now_ms,
                             uint32_t* id) LANYARD_NOEXCEPT;

/** `len` bytes read from connection `id`'s socket (`data` may be NULL when `len` is 0); how
 *  many it took goes to `*taken` (required). It takes fewer while a message of this
 *  connection waits for the application (from its LANYARD_EVENT_MESSAGE to the next
 *  lanyard_accessory_handle_deadline(), which lanyard_accessory_next_deadline() makes due at
 *  once): keep the rest, stop reading that socket, and offer the rest again once
 *  lanyard_accessory_wants_input() says so. The controller's window holds back what follows,
 *  so messages need neither copies nor a queue. A protocol failure is not an error here: it
 *  ends in a LANYARD_EVENT_CLOSE_CONNECTION. Errors: LANYARD_E_UNKNOWN_CONNECTION (close the
 *  socket), LANYARD_E_INVALID_ARGUMENT. */
int lanyard_accessory_receive(lanyard_accessory* acc, uint32_t id, const uint8_t* data, size_t len,
                              uint64_t now_ms, size_t* taken) LANYARD_NOEXCEPT;

/** 1 if lanyard_accessory_receive() would take bytes for connection `id` now, else 0 (also
 *  for an unknown id or a NULL `acc`). */
int lanyard_accessory_wants_input(lanyard_accessory* acc, uint32_t id) LANYARD_NOEXCEPT;

/** The bytes to write to connection `id`'s socket: returns a pointer to them and their number
 *  in `*len` (NULL and 0 when there are none, or `id` is unknown). The pointer stays valid until
 *  the next call on `acc` other than output(). `len` must not be NULL. */
const uint8_t* lanyard_accessory_output(const lanyard_accessory* acc, uint32_t id,
                                        size_t* len) LANYARD_NOEXCEPT;

/** The socket took the first `n` bytes of output(id) (at most the length output() gave). With
 *  room made, what waited for it goes on (the rest of a handshake flight, a session's next
 *  frames): call output() again. */
void lanyard_accessory_consume_output(lanyard_accessory* acc, uint32_t id, size_t n,
                                      uint64_t now_ms) LANYARD_NOEXCEPT;

/** Connection `id`'s socket is closed (EOF, error, or after LANYARD_EVENT_CLOSE_CONNECTION).
 *  Its session, if any, lingers for its controller to resume. Unknown ids are ignored. */
void lanyard_accessory_closed(lanyard_accessory* acc, uint32_t id,
                              uint64_t now_ms) LANYARD_NOEXCEPT;

/** When lanyard_accessory_handle_deadline() must run next, in the monotonic milliseconds of
 *  `now_ms` (rounded up); UINT64_MAX when nothing is scheduled. */
uint64_t lanyard_accessory_next_deadline(const lanyard_accessory* acc) LANYARD_NOEXCEPT;

/** Runs what is due at `now_ms` (timeouts, keep-alives, lingering sessions' ends). */
void lanyard_accessory_handle_deadline(lanyard_accessory* acc, uint64_t now_ms) LANYARD_NOEXCEPT;

/* ------------------------------------------------------------------------------------------ */
/* Events                                                                                     */
/* ------------------------------------------------------------------------------------------ */

typedef enum lanyard_event_kind {
  LANYARD_EVENT_NONE = 0,
  /** An application message from a paired controller (exactly once, in order per session):
   *  controller, seq, payload/payload_len. */
  LANYARD_EVENT_MESSAGE = 1,
  /** A controller proved the setup secret and is paired now: controller, role, method. */
  LANYARD_EVENT_PAIRED = 2,
  /** A pairing exchange failed (a wrong proof, a refusal, an abandoned exchange): controller,
   *  error, attempts_left. */
  LANYARD_EVENT_PAIRING_FAILED = 3,
  /** The controller's app no longer knew the session: the last `unacked` messages this side
   *  sent were not delivered. controller, unacked. */
  LANYARD_EVENT_SESSION_RESET = 4,
  /** The accessory forgot a controller's session (linger ran out, room for another, closed):
   *  controller, error (why; may be 0). */
  LANYARD_EVENT_SESSION_ENDED = 5,
  /** The accessory is done with a connection: write what output(connection) still holds (best
   *  effort), close the socket, then call lanyard_accessory_closed(). connection, error (0 for
   *  a normal end). */
  LANYARD_EVENT_CLOSE_CONNECTION = 6
} lanyard_event_kind;

/** LANYARD_EVENT_PAIRED's role. */
enum lanyard_role { LANYARD_ROLE_ADMIN = 0, LANYARD_ROLE_USER = 1 };
/** LANYARD_EVENT_PAIRED's method. */
enum lanyard_pairing_method {
  LANYARD_PAIRING_SETUP_SECRET = 1,
  LANYARD_PAIRING_SETUP_CODE = 2,
  LANYARD_PAIRING_CONFIRMATION = 3
};

/** One event (accessory_event). The fields a kind does not use are 0 / NULL. */
typedef struct lanyard_event {
  lanyard_event_kind kind;
  /** The controller's key fingerprint (every kind but CLOSE_CONNECTION). */
  uint8_t controller[32];
  /** MESSAGE: the message's sequence number in its session. */
  uint64_t seq;
  /** MESSAGE: the payload, in the accessory's memory (not copied): valid until the next call
   *  on `acc` other than lanyard_accessory_poll_event(). NULL if empty. Returning it counts as
   *  the application taking the message (it is acknowledged). */
  const uint8_t* payload;
  size_t payload_len;
  /** PAIRING_FAILED, SESSION_ENDED, CLOSE_CONNECTION: why, as a LANYARD_E* value (0: none). */
  int error;
  /** CLOSE_CONNECTION: the connection's handle. */
  uint32_t connection;
  /** PAIRING_FAILED: proofs left before the window locks. */
  uint32_t attempts_left;
  /** SESSION_RESET: messages sent but never acknowledged, hence not delivered. */
  uint64_t unacked;
  /** PAIRED: enum lanyard_role and enum lanyard_pairing_method. */
  int role;
  int method;
} lanyard_event;

/** Takes the next event into `*ev`: returns 1 if there was one, 0 if none (ev->kind is then
 *  LANYARD_EVENT_NONE), LANYARD_E_INVALID_ARGUMENT for NULL pointers. Drain after every call.
 *  A MESSAGE's payload stays valid until the next call other than poll_event(). */
int lanyard_accessory_poll_event(lanyard_accessory* acc, lanyard_event* ev) LANYARD_NOEXCEPT;

/* ------------------------------------------------------------------------------------------ */
/* The application                                                                            */
/* ------------------------------------------------------------------------------------------ */

/** Sends `len` bytes (copied) to the session of `controller` (32 bytes, the fingerprint of
 *  LANYARD_EVENT_MESSAGE / PAIRED), queued while it has no connection. Its sequence number in
 *  `*seq` if `seq` is not NULL. Errors: LANYARD_E_NO_SESSION, LANYARD_E_CHANNEL_MESSAGE_TOO_LARGE,
 *  LANYARD_E_CHANNEL_BUFFER_FULL (wait for acknowledgements), LANYARD_E_CHANNEL_SESSION_CLOSED,
 *  LANYARD_E_INVALID_ARGUMENT. */
int lanyard_accessory_send(lanyard_accessory* acc, const uint8_t controller[32],
                           const uint8_t* payload, size_t len, uint64_t now_ms,
                           uint64_t* seq) LANYARD_NOEXCEPT;

/** The Wi-Fi driver joined the network platform.join_wifi named: tells the admin that sent it,
 *  with the accessory's `count` addresses there (NUL-terminated IPv4/IPv6 literals, 1..8).
 *  Errors: the accessory's (LANYARD_E_NO_SESSION when the admin is gone, ...),
 *  LANYARD_E_INVALID_ARGUMENT. */
int lanyard_accessory_wifi_joined(lanyard_accessory* acc, const char* const* addresses,
                                  size_t count, uint64_t now_ms) LANYARD_NOEXCEPT;

/** Why joining Wi-Fi failed (provisioning_failure). */
enum lanyard_wifi_failure {
  LANYARD_WIFI_AUTH_ERROR = 0,
  LANYARD_WIFI_NETWORK_NOT_FOUND = 1,
  LANYARD_WIFI_TIMEOUT = 2
};

/** The Wi-Fi driver could not join (`why`: enum lanyard_wifi_failure): the admin is told; setup
 *  mode goes on. Errors: as wifi_joined; LANYARD_E_INVALID_ARGUMENT for another `why`. */
int lanyard_accessory_wifi_failed(lanyard_accessory* acc, int why,
                                  uint64_t now_ms) LANYARD_NOEXCEPT;

/** The pairing button: opens the pairing window (resetting the failure count: someone is at the
 *  accessory) for settings.setup_window_minutes. Errors: LANYARD_E_NOT_STARTED,
 *  LANYARD_E_STORAGE_FAILED, ... */
int lanyard_accessory_open_pairing_window(lanyard_accessory* acc, uint64_t now_ms) LANYARD_NOEXCEPT;

/* ------------------------------------------------------------------------------------------ */
/* State                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** True while an unknown controller may pair (for the TXT record's sf and the setup LED). */
bool lanyard_accessory_pairing_window_open(const lanyard_accessory* acc) LANYARD_NOEXCEPT;
/** Sessions held (lingering ones included). */
size_t lanyard_accessory_session_count(const lanyard_accessory* acc) LANYARD_NOEXCEPT;
/** Connections held (every stage, closing ones included). */
size_t lanyard_accessory_connection_count(const lanyard_accessory* acc) LANYARD_NOEXCEPT;
/** True if `controller` (32 bytes) has a session with a live connection. */
bool lanyard_accessory_connected(const lanyard_accessory* acc,
                                 const uint8_t controller[32]) LANYARD_NOEXCEPT;
/** Controllers paired with the accessory. */
size_t lanyard_accessory_controller_count(const lanyard_accessory* acc) LANYARD_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LANYARD_FIRMWARE_H */
