/* The C interface of lanyard::firmware (include/lanyard/firmware.h), compiled as C11 with
 * -Wall -Wextra -Werror -pedantic: an accessory over an in-memory platform, its settings
 * checked at start, the error strings, connections accepted beyond the cap (the oldest pending
 * one evicted), garbage bytes ending a connection with a TLS error, clean destruction. Full
 * pairing over the C interface is tests/unit/firmware/c_api_test.cpp (it needs a TLS client). */
#define _POSIX_C_SOURCE 200809L
#include <lanyard/firmware.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures = 0;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                     \
      ++failures;                                                                                  \
    }                                                                                              \
  } while (0)

#define REQUIRE(cond)                                                                              \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);                   \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

/* --- an in-memory platform ---------------------------------------------------------------- */

/* Three blobs: the controllers, and the identity's key and certificate (lanyard_accessory_create
 * keeps the identity in storage). */
enum { blob_controllers, blob_identity_key, blob_identity_cert, blob_count };

typedef struct memory_blob {
  uint8_t bytes[4096];
  size_t size;
  int present;
} memory_blob;

typedef struct memory_platform {
  memory_blob blobs[blob_count];
  int saves; /* of the controllers blob */
  uint64_t rng;
  int64_t wall;
} memory_platform;

/* A test's random source (xorshift64*): deterministic, not for real use. */
static int test_random(void* user, uint8_t* out, size_t len) {
  memory_platform* p = (memory_platform*)user;
  size_t k;
  for (k = 0; k < len; ++k) {
    p->rng ^= p->rng >> 12;
    p->rng ^= p->rng << 25;
    p->rng ^= p->rng >> 27;
    out[k] = (uint8_t)((p->rng * 2685821657736338717ULL) >> 56);
  }
  return 0;
}

static int blob_index(const char* key) {
  if (strcmp(key, LANYARD_STORAGE_KEY_CONTROLLERS) == 0) return blob_controllers;
  if (strcmp(key, "identity.key") == 0) return blob_identity_key;
  if (strcmp(key, "identity.crt") == 0) return blob_identity_cert;
  return -1;
}

static int test_load(void* user, const char* key, uint8_t* out, size_t capacity, size_t* size) {
  memory_platform* p = (memory_platform*)user;
  const int i = blob_index(key);
  if (i < 0 || !p->blobs[i].present) return 1;
  if (p->blobs[i].size > capacity) return -1;
  memcpy(out, p->blobs[i].bytes, p->blobs[i].size);
  *size = p->blobs[i].size;
  return 0;
}

static int test_save(void* user, const char* key, const uint8_t* data, size_t size) {
  memory_platform* p = (memory_platform*)user;
  const int i = blob_index(key);
  if (i < 0 || size > sizeof p->blobs[i].bytes) return -1;
  memcpy(p->blobs[i].bytes, data, size);
  p->blobs[i].size = size;
  p->blobs[i].present = 1;
  if (i == blob_controllers) ++p->saves;
  return 0;
}

static int64_t test_wall_clock(void* user) {
  return ((memory_platform*)user)->wall;
}

static lanyard_platform platform_of(memory_platform* p) {
  lanyard_platform seam;
  memset(&seam, 0, sizeof seam);
  seam.user = p;
  seam.random = test_random;
  seam.load = test_load;
  seam.save = test_save;
  seam.wall_clock = test_wall_clock;
  return seam;
}

/* --- the identity directory ----------------------------------------------------------------- */

static char identity_dir[64];

static void remove_identity_dir(void) {
  char path[128];
  snprintf(path, sizeof path, "%s/identity.key", identity_dir);
  remove(path);
  snprintf(path, sizeof path, "%s/identity.crt", identity_dir);
  remove(path);
  rmdir(identity_dir);
}

static const uint8_t secret[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static lanyard_accessory* create(memory_platform* mem, const lanyard_accessory_settings* s) {
  lanyard_accessory_config cfg;
  lanyard_accessory* acc = NULL;
  int rc;
  lanyard_accessory_config_default(&cfg);
  cfg.platform = platform_of(mem);
  cfg.setup_secret = secret;
  if (s) cfg.settings = *s;
  rc = lanyard_accessory_create_with_identity_dir(&cfg, identity_dir, "lamp-c", &acc);
  if (rc != LANYARD_OK)
    fprintf(stderr, "create: %s (%s)\n", lanyard_error_name(rc), lanyard_strerror(rc));
  REQUIRE(rc == LANYARD_OK);
  REQUIRE(acc != NULL);
  return acc;
}

/* --- the tests ------------------------------------------------------------------------------ */

static void test_errors_and_settings(void) {
  lanyard_accessory_settings s;
  memory_platform mem;
  lanyard_accessory* acc;
  lanyard_accessory_config cfg;
  uint32_t id = 0;
  lanyard_event ev;

  /* The strings. */
  CHECK(strcmp(lanyard_error_name(LANYARD_OK), "ok") == 0);
  CHECK(strcmp(lanyard_strerror(LANYARD_OK), "success") == 0);
  CHECK(strcmp(lanyard_error_name(LANYARD_E_BAD_SETTINGS), "firmware.bad_settings") == 0);
  CHECK(strcmp(lanyard_error_name(LANYARD_E_NOT_ENOUGH_MEMORY), "firmware.not_enough_memory") == 0);
  CHECK(strcmp(lanyard_error_name(LANYARD_E_EVENT_QUEUE_FULL), "firmware.event_queue_full") == 0);
  CHECK(strcmp(lanyard_error_name(LANYARD_E_TLS_HANDSHAKE_FAILED), "tls.handshake_failed") == 0);
  CHECK(strcmp(lanyard_error_name(LANYARD_E_PAIRING_WRONG_PROOF), "pairing.wrong_proof") == 0);
  CHECK(strcmp(lanyard_error_name(LANYARD_E_CHANNEL_NOT_PAIRED), "channel.not_paired") == 0);
  CHECK(strcmp(lanyard_error_name(LANYARD_E_OTHER), "other") == 0);
  CHECK(strcmp(lanyard_error_name(-99999), "unknown") == 0);
  CHECK(strcmp(lanyard_error_name(12), "unknown") == 0);
  CHECK(strcmp(lanyard_error_name(-(LANYARD_E_CHANNEL_BASE + 99)), "unknown") == 0);
  CHECK(lanyard_strerror(-99999) != NULL);

  /* The defaults are the firmware profile. */
  lanyard_accessory_settings_default(&s);
  CHECK(s.max_sessions == 4);
  CHECK(s.max_pending == 2);
  CHECK(s.max_controllers == 8);
  CHECK(s.max_replay_bytes == 16384);
  CHECK(s.max_message_bytes == 4096);
  CHECK(s.handshake_timeout_ms == 10000);
  CHECK(s.close_window_after_pairing);
  CHECK(!s.provisioning);

  /* Arguments. */
  CHECK(lanyard_accessory_create_with_identity_dir(NULL, identity_dir, "x", &acc) ==
        LANYARD_E_INVALID_ARGUMENT);
  lanyard_accessory_config_default(&cfg);
  CHECK(lanyard_accessory_create_with_identity_dir(&cfg, identity_dir, "not a device id!", &acc) ==
        LANYARD_E_TLS_INVALID_DEVICE_ID);
  CHECK(acc == NULL);
  lanyard_accessory_destroy(NULL);

  /* No sessions: bad settings, with its sentence. */
  memset(&mem, 0, sizeof mem);
  mem.rng = 0x9e3779b97f4a7c15ULL;
  mem.wall = 1800000000;
  s.max_sessions = 0;
  acc = create(&mem, &s);
  CHECK(lanyard_accessory_start(acc, 1000) == LANYARD_E_BAD_SETTINGS);
  CHECK(strstr(lanyard_strerror(LANYARD_E_BAD_SETTINGS), "settings out of range") != NULL);
  CHECK(lanyard_accessory_accept(acc, 1000, &id) == LANYARD_E_NOT_STARTED);
  lanyard_accessory_destroy(acc);

  /* A window too small for one message. */
  lanyard_accessory_settings_default(&s);
  s.max_replay_bytes = s.max_message_bytes;
  acc = create(&mem, &s);
  CHECK(lanyard_accessory_start(acc, 1000) == LANYARD_E_BAD_SETTINGS);
  lanyard_accessory_destroy(acc);

  /* No storage: the platform is incomplete. */
  lanyard_accessory_config_default(&cfg);
  acc = NULL;
  REQUIRE(lanyard_accessory_create_with_identity_dir(&cfg, identity_dir, "lamp-c", &acc) ==
          LANYARD_OK);
  CHECK(lanyard_accessory_start(acc, 1000) == LANYARD_E_PLATFORM_INCOMPLETE);
  CHECK(!lanyard_accessory_pairing_window_open(acc));
  CHECK(lanyard_accessory_poll_event(acc, &ev) == 0);
  CHECK(ev.kind == LANYARD_EVENT_NONE);
  lanyard_accessory_destroy(acc);
}

static void test_connections(void) {
  lanyard_accessory_settings s;
  memory_platform mem;
  lanyard_accessory* acc;
  uint32_t ids[3];
  uint32_t extra = 0;
  lanyard_event ev;
  size_t taken = 0;
  int closes = 0;
  int tls_closes = 0;
  size_t len = 0;
  const uint8_t* out;
  uint8_t fp[32];
  uint8_t zero[32];
  static const char garbage[] = "GET / HTTP/1.1\r\nHost: lamp\r\n\r\n";
  int k;

  memset(&mem, 0, sizeof mem);
  mem.rng = 0x243f6a8885a308d3ULL;
  mem.wall = 1800000000;
  lanyard_accessory_settings_default(&s);
  s.max_sessions = 1;
  s.max_pending = 1;
  acc = create(&mem, &s);

  REQUIRE(lanyard_accessory_start(acc, 1000) == LANYARD_OK);
  CHECK(lanyard_accessory_pairing_window_open(acc)); /* first boot: setup mode */
  CHECK(mem.saves >= 1 && mem.blobs[blob_controllers].present);
  CHECK(lanyard_accessory_session_count(acc) == 0);
  CHECK(lanyard_accessory_controller_count(acc) == 0);
  CHECK(lanyard_accessory_next_deadline(acc) == UINT64_MAX);
  memset(zero, 0, sizeof zero);
  REQUIRE(lanyard_accessory_fingerprint(acc, fp) == LANYARD_OK);
  CHECK(memcmp(fp, zero, sizeof fp) != 0);

  /* Two slots (max_sessions + max_pending): the third connection evicts the oldest. */
  for (k = 0; k < 3; ++k)
    REQUIRE(lanyard_accessory_accept(acc, 2000 + (uint64_t)k, &ids[k]) == LANYARD_OK);
  CHECK(lanyard_accessory_connection_count(acc) == 2);
  CHECK(lanyard_accessory_next_deadline(acc) == 2000 + s.handshake_timeout_ms + 1);
  while (lanyard_accessory_poll_event(acc, &ev) == 1) {
    CHECK(ev.kind == LANYARD_EVENT_CLOSE_CONNECTION);
    CHECK(ev.connection == ids[0]);
    CHECK(ev.error == LANYARD_E_TOO_MANY_CONNECTIONS);
    ++closes;
  }
  CHECK(closes == 1);
  /* The evicted handle names nothing now, even though its slot was reused. */
  CHECK(ids[2] != ids[0]);
  CHECK(lanyard_accessory_receive(acc, ids[0], (const uint8_t*)"x", 1, 2100, &taken) ==
        LANYARD_E_UNKNOWN_CONNECTION);
  CHECK(taken == 0);
  CHECK(lanyard_accessory_wants_input(acc, ids[0]) == 0);
  /* Where the taken count goes is required. */
  CHECK(lanyard_accessory_receive(acc, ids[1], (const uint8_t*)"x", 1, 2100, NULL) ==
        LANYARD_E_INVALID_ARGUMENT);
  lanyard_accessory_closed(acc, ids[0], 2100); /* ignored */
  CHECK(lanyard_accessory_connection_count(acc) == 2);

  /* Garbage instead of a TLS ClientHello: the connection ends with a TLS error. */
  CHECK(lanyard_accessory_wants_input(acc, ids[1]) == 1);
  CHECK(lanyard_accessory_receive(acc, ids[1], (const uint8_t*)garbage, sizeof garbage - 1, 2200,
                                  &taken) == LANYARD_OK);
  CHECK(taken == sizeof garbage - 1);
  while (lanyard_accessory_poll_event(acc, &ev) == 1) {
    CHECK(ev.kind == LANYARD_EVENT_CLOSE_CONNECTION);
    CHECK(ev.connection == ids[1]);
    CHECK(ev.error <= -(LANYARD_E_TLS_BASE + 1) && ev.error > -(LANYARD_E_TLS_BASE + 100));
    CHECK(strncmp(lanyard_error_name(ev.error), "tls.", 4) == 0);
    fprintf(stderr, "garbage: %s (%s)\n", lanyard_error_name(ev.error), lanyard_strerror(ev.error));
    ++tls_closes;
    /* The driver writes what is left (a TLS alert, perhaps), then closes the socket. */
    out = lanyard_accessory_output(acc, ev.connection, &len);
    CHECK((out == NULL) == (len == 0));
    lanyard_accessory_consume_output(acc, ev.connection, len, 2200);
    lanyard_accessory_closed(acc, ev.connection, 2200);
  }
  CHECK(tls_closes == 1);
  CHECK(lanyard_accessory_connection_count(acc) == 1);

  /* A free slot again: no eviction. */
  REQUIRE(lanyard_accessory_accept(acc, 2300, &extra) == LANYARD_OK);
  CHECK(lanyard_accessory_poll_event(acc, &ev) == 0);
  CHECK(lanyard_accessory_connection_count(acc) == 2);

  /* The silent ones time out. */
  lanyard_accessory_handle_deadline(acc, 2300 + s.handshake_timeout_ms + 1);
  closes = 0;
  while (lanyard_accessory_poll_event(acc, &ev) == 1) {
    if (ev.kind == LANYARD_EVENT_CLOSE_CONNECTION) {
      ++closes;
      lanyard_accessory_closed(acc, ev.connection, 2300 + s.handshake_timeout_ms + 1);
    }
  }
  CHECK(closes == 2);
  CHECK(lanyard_accessory_connection_count(acc) == 0);

  /* The application side without sessions. */
  CHECK(lanyard_accessory_send(acc, zero, (const uint8_t*)"on", 2, 3000, NULL) ==
        LANYARD_E_NO_SESSION);
  CHECK(lanyard_accessory_send(acc, NULL, NULL, 0, 3000, NULL) == LANYARD_E_INVALID_ARGUMENT);
  CHECK(lanyard_accessory_wifi_failed(acc, 7, 3000) == LANYARD_E_INVALID_ARGUMENT);
  CHECK(!lanyard_accessory_connected(acc, zero));
  CHECK(lanyard_accessory_open_pairing_window(acc, 3000) == LANYARD_OK);
  CHECK(lanyard_accessory_pairing_window_open(acc));

  lanyard_accessory_destroy(acc);

  /* A second boot over the same storage: it loads what the first saved. */
  acc = create(&mem, &s);
  CHECK(lanyard_accessory_start(acc, 5000) == LANYARD_OK);
  lanyard_accessory_destroy(acc);

  /* Damaged storage is reported, never reset. */
  mem.blobs[blob_controllers].bytes[mem.blobs[blob_controllers].size / 2] ^= 0x40;
  acc = create(&mem, &s);
  CHECK(lanyard_accessory_start(acc, 6000) == LANYARD_E_STORAGE_CORRUPT);
  lanyard_accessory_destroy(acc);
}

/* lanyard_accessory_create: the identity in the platform's storage, made once and the same at
 * every later creation; without storage callbacks it cannot be made. */
static void test_identity_in_storage(void) {
  memory_platform mem;
  lanyard_accessory_config cfg;
  lanyard_accessory* acc = NULL;
  uint8_t first[32];
  uint8_t again[32];
  memset(&mem, 0, sizeof mem);
  mem.rng = 0x9e3779b97f4a7c15ULL;
  mem.wall = 1800000000;
  lanyard_accessory_config_default(&cfg);
  cfg.platform = platform_of(&mem);
  cfg.setup_secret = secret;
  REQUIRE(lanyard_accessory_create(&cfg, "lamp-s", &acc) == LANYARD_OK);
  CHECK(mem.blobs[blob_identity_key].present && mem.blobs[blob_identity_cert].present);
  REQUIRE(lanyard_accessory_fingerprint(acc, first) == LANYARD_OK);
  CHECK(lanyard_accessory_start(acc, 1000) == LANYARD_OK);
  lanyard_accessory_destroy(acc);

  acc = NULL;
  REQUIRE(lanyard_accessory_create(&cfg, "lamp-s", &acc) == LANYARD_OK);
  REQUIRE(lanyard_accessory_fingerprint(acc, again) == LANYARD_OK);
  CHECK(memcmp(first, again, sizeof first) == 0);
  lanyard_accessory_destroy(acc);

  /* A damaged key: reported, never replaced. */
  mem.blobs[blob_identity_key].bytes[9] ^= 0x5a;
  acc = NULL;
  CHECK(lanyard_accessory_create(&cfg, "lamp-s", &acc) == LANYARD_E_STORAGE_CORRUPT);
  CHECK(acc == NULL);

  /* No storage callbacks: nowhere to keep an identity. */
  cfg.platform.load = NULL;
  CHECK(lanyard_accessory_create(&cfg, "lamp-s", &acc) == LANYARD_E_PLATFORM_INCOMPLETE);
  CHECK(lanyard_accessory_create(NULL, "lamp-s", &acc) == LANYARD_E_INVALID_ARGUMENT);
}

int main(void) {
  strcpy(identity_dir, "/tmp/lanyard-c-api-XXXXXX");
  REQUIRE(mkdtemp(identity_dir) != NULL);
  test_errors_and_settings();
  test_connections();
  test_identity_in_storage();
  remove_identity_dir();
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("firmware C API: all checks passed\n");
  return 0;
}
