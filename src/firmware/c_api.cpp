// The C interface of lanyard::firmware::accessory (include/lanyard/firmware.h): a thin layer
// that converts C types to C++ ones and error_codes to stable negative ints. Built, as the rest
// of lanyard::firmware, without exceptions: nothing can unwind across it; the one allocation it
// reports (the handle) uses nothrow new.
#include <lanyard/firmware.h>

#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/error_condition.hpp> // LANYARD_ERROR_MESSAGES
#include <lanyard/core/error_detail.hpp>
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/firmware/accessory.hpp>
#include <lanyard/firmware/error.hpp>
#include <lanyard/firmware/identity_store.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/tls_engine/identity.hpp>
#if !defined(LANYARD_NO_IDENTITY_FILES)
#include <lanyard/tls_engine/identity_files.hpp>
#endif

#include <array>
#include <chrono>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace fw = lanyard::firmware;
namespace core = lanyard::core;
namespace tls = lanyard::tls;

struct lanyard_accessory {
  lanyard_platform platform{};
  core::fingerprint key;
  std::optional<fw::accessory> acc;
};

namespace {

// --- errors ----------------------------------------------------------------------------------

struct code_text {
  int code;
  const char* name;
  const char* text; // nullptr without the sentences (LANYARD_ERROR_MESSAGES=OFF)
};

// The sentences are left out with the categories' (cmake/Options.cmake): lanyard_strerror()
// then gives the code's stable name.
#if LANYARD_ERROR_MESSAGES
#define LANYARD_C_TEXT(text) text
#else
#define LANYARD_C_TEXT(text) nullptr
#endif

// The codes of each category, with their stable names and sentences (static: no allocation).
constexpr code_text firmware_codes[] = {
    {1, "firmware.bad_settings",
     LANYARD_C_TEXT(
         "firmware accessory settings out of range (a capacity of 0, max_controllers above 255, or "
         "a receive window that cannot hold one message of the maximum size)")},
    {2, "firmware.platform_incomplete",
     LANYARD_C_TEXT(
         "the firmware platform seam lacks a callback this needs (storage, wall clock or random "
         "source)")},
    {3, "firmware.storage_failed",
     LANYARD_C_TEXT("the platform's storage failed to read or write; nothing was changed")},
    {4, "firmware.storage_corrupt",
     LANYARD_C_TEXT(
         "stored accessory state is damaged (magic, version, length or checksum); it was left as "
         "it is: a factory reset (erasing it) is a person's decision")},
    {5, "firmware.storage_over_capacity",
     LANYARD_C_TEXT("stored accessory state holds more controllers than max_controllers")},
    {6, "firmware.random_failed", LANYARD_C_TEXT("the platform's random source failed")},
    {7, "firmware.unknown_connection",
     LANYARD_C_TEXT("no such connection (closed already): close the socket")},
    {8, "firmware.too_many_connections",
     LANYARD_C_TEXT(
         "every connection slot is taken: the connection was closed to make room (or refused)")},
    {9, "firmware.no_session", LANYARD_C_TEXT("no session with this controller")},
    {10, "firmware.not_started",
     LANYARD_C_TEXT("the firmware accessory was not started (start not called, or it failed)")},
    {11, "firmware.output_full",
     LANYARD_C_TEXT(
         "a connection's TLS output buffer could not take a frame (tls_output_bytes too small): "
         "the connection was closed, its session resumes on the next one")},
    {12, "firmware.not_enough_memory",
     LANYARD_C_TEXT(
         "not enough memory to start the firmware accessory (its tables, sized by its settings)")},
    {13, "firmware.event_queue_full",
     LANYARD_C_TEXT(
         "the accessory's event queue is full (events not drained): the connection was closed and "
         "a message lost")},
};

constexpr code_text channel_codes[] = {
    {1, "channel.protocol_violation",
     LANYARD_C_TEXT("a frame arrived that the session's state does not allow")},
    {2, "channel.frame_too_large",
     LANYARD_C_TEXT("a frame announced a body longer than the maximum")},
    {3, "channel.unknown_frame_type", LANYARD_C_TEXT("a frame of an unknown type")},
    {4, "channel.bad_version", LANYARD_C_TEXT("a frame of another protocol version")},
    {5, "channel.frame_truncated", LANYARD_C_TEXT("a frame shorter than its type requires")},
    {6, "channel.frame_trailing_bytes", LANYARD_C_TEXT("a frame longer than its type allows")},
    {7, "channel.invalid_frame_field",
     LANYARD_C_TEXT("a frame field holds a value the protocol forbids")},
    {8, "channel.sequence_out_of_window",
     LANYARD_C_TEXT("a sequence number outside the acceptable window")},
    {9, "channel.session_not_owned",
     LANYARD_C_TEXT("a HELLO asked to resume another controller's session")},
    {10, "channel.peer_dead",
     LANYARD_C_TEXT("no bytes from the peer for longer than the keep-alive timeout")},
    {11, "channel.handshake_timeout",
     LANYARD_C_TEXT("the channel handshake (HELLO/WELCOME) timed out")},
    {12, "channel.closed_by_peer", LANYARD_C_TEXT("the peer closed the channel with an error")},
    {13, "channel.not_paired", LANYARD_C_TEXT("the controller is not paired: it must pair first")},
    {14, "channel.too_many_sessions",
     LANYARD_C_TEXT("the accessory holds as many live sessions as it allows")},
    {20, "channel.buffer_full",
     LANYARD_C_TEXT("the replay buffer is full: wait for acknowledgements before sending more")},
    {21, "channel.message_too_large",
     LANYARD_C_TEXT("the message is larger than the maximum message size")},
    {22, "channel.session_closed", LANYARD_C_TEXT("the session has ended")},
    {23, "channel.invalid_state",
     LANYARD_C_TEXT("the call is not valid in the session's current state")},
    {24, "channel.session_reset",
     LANYARD_C_TEXT("the peer lost the session before acknowledging the message")},
    {25, "channel.no_viable_path", LANYARD_C_TEXT("no candidate path to the accessory")},
    {26, "channel.session_expired",
     LANYARD_C_TEXT("the disconnected session was kept, then dropped")},
    {27, "channel.no_session", LANYARD_C_TEXT("no session with this controller")},
    {28, "channel.too_many_waiting_sends", LANYARD_C_TEXT("too many sends are waiting for room")},
    {29, "channel.connection_replaced",
     LANYARD_C_TEXT("the connection was taken over by a newer connection of the same controller")},
    {30, "channel.host_not_resolved", LANYARD_C_TEXT("the host name did not resolve")},
    {31, "channel.not_discovered", LANYARD_C_TEXT("no reachable path to the accessory is known")},
};

constexpr code_text pairing_codes[] = {
    {1, "pairing.window_closed",
     LANYARD_C_TEXT("no pairing window is open: press the pairing button")},
    {2, "pairing.too_many_attempts",
     LANYARD_C_TEXT(
         "20 proofs failed: the pairing window stays closed until reopened at the accessory or by "
         "an admin")},
    {3, "pairing.invalid_timeout",
     LANYARD_C_TEXT("a pairing window timeout outside 3..15 minutes")},
    {4, "pairing.wrong_proof",
     LANYARD_C_TEXT("the setup secret or code does not match this accessory's")},
    {5, "pairing.accessory_unverified",
     LANYARD_C_TEXT("the accessory did not prove the setup secret or code")},
    {6, "pairing.method_not_supported",
     LANYARD_C_TEXT("the accessory does not offer this way of pairing")},
    {7, "pairing.controllers_full",
     LANYARD_C_TEXT(
         "the accessory holds as many paired controllers as it can: an admin must remove one")},
    {8, "pairing.timeout", LANYARD_C_TEXT("the pairing exchange did not finish in time")},
    {9, "pairing.protocol_violation",
     LANYARD_C_TEXT("a pairing frame was malformed or out of order")},
    {11, "pairing.needs_full_handshake", LANYARD_C_TEXT("pairing needs a full TLS handshake")},
    {12, "pairing.accessory_failure",
     LANYARD_C_TEXT(
         "the accessory could not complete pairing (its storage failed); nothing was paired")},
    {13, "pairing.not_confirmed", LANYARD_C_TEXT("the user did not confirm the verification code")},
};

constexpr code_text tls_codes[] = {
    {1, "tls.handshake_timeout", LANYARD_C_TEXT("the TLS handshake did not complete in time")},
    {2, "tls.alpn_mismatch", LANYARD_C_TEXT("the peer does not speak ALPN lanyard/1")},
    {3, "tls.peer_certificate_missing", LANYARD_C_TEXT("the peer sent no certificate")},
    {4, "tls.peer_rejected_certificate", LANYARD_C_TEXT("the peer refused our certificate")},
    {5, "tls.peer_alert", LANYARD_C_TEXT("the peer aborted the TLS handshake with a fatal alert")},
    {6, "tls.peer_closed_during_handshake",
     LANYARD_C_TEXT("the peer closed the connection during the handshake")},
    {7, "tls.handshake_failed",
     LANYARD_C_TEXT(
         "TLS negotiation failed (not TLS, or no common version, cipher suite or curve)")},
    {8, "tls.bad_peer_certificate", LANYARD_C_TEXT("the peer's certificate is unusable")},
    {9, "tls.no_peer_verifier", LANYARD_C_TEXT("no pin verifier was configured")},
    {20, "tls.bad_record", LANYARD_C_TEXT("a TLS record failed authentication or was malformed")},
    {21, "tls.stream_truncated",
     LANYARD_C_TEXT("the peer closed the connection without a TLS close_notify")},
    {22, "tls.not_connected",
     LANYARD_C_TEXT("TLS used before a successful handshake, or after a failure")},
    {23, "tls.already_handshaken", LANYARD_C_TEXT("the TLS handshake was already done")},
    {24, "tls.protocol_error", LANYARD_C_TEXT("a TLS protocol failure")},
    {25, "tls.closed_by_peer", LANYARD_C_TEXT("the peer closed the TLS connection (close_notify)")},
    {40, "tls.bad_identity_file",
     LANYARD_C_TEXT(
         "identity.key or identity.crt cannot be parsed, do not belong together, or name another "
         "device id")},
    {41, "tls.identity_permissions",
     LANYARD_C_TEXT("identity.key is accessible by group or others: chmod 600 it")},
    {42, "tls.identity_io",
     LANYARD_C_TEXT("the identity directory or files cannot be created, read or written")},
    {43, "tls.invalid_device_id",
     LANYARD_C_TEXT("the device id is not 1-64 characters of [A-Za-z0-9._:-]")},
    {44, "tls.crypto_failure",
     LANYARD_C_TEXT("key generation, signing or the random generator failed")},
};

struct category_table {
  int base;
  const code_text* codes;
  std::size_t count;
};

constexpr category_table tables[] = {
    {LANYARD_E_FIRMWARE_BASE, firmware_codes, std::size(firmware_codes)},
    {LANYARD_E_CHANNEL_BASE, channel_codes, std::size(channel_codes)},
    {LANYARD_E_PAIRING_BASE, pairing_codes, std::size(pairing_codes)},
    {LANYARD_E_TLS_BASE, tls_codes, std::size(tls_codes)},
};

const code_text* find_code(int error) noexcept {
  if (error >= 0) return nullptr;
  const int positive = -error;
  for (const category_table& t : tables) {
    if (positive <= t.base || positive >= t.base + 100) continue;
    for (std::size_t k = 0; k < t.count; ++k)
      if (t.codes[k].code == positive - t.base) return &t.codes[k];
  }
  return nullptr;
}

// The C value of an error_code: -(base + value) in a mapped category, else LANYARD_E_OTHER.
int to_c(std::error_code ec) noexcept {
  if (!ec) return LANYARD_OK;
  int base = 0;
  if (ec.category() == fw::firmware_category())
    base = LANYARD_E_FIRMWARE_BASE;
  else if (ec.category() == core::channel_category())
    base = LANYARD_E_CHANNEL_BASE;
  else if (ec.category() == core::pairing_category())
    base = LANYARD_E_PAIRING_BASE;
  else if (ec.category() == tls::tls_category())
    base = LANYARD_E_TLS_BASE;
  if (base == 0 || ec.value() <= 0 || ec.value() >= 100) return LANYARD_E_OTHER;
  return -(base + ec.value());
}

// --- conversions -----------------------------------------------------------------------------

fw::accessory::time_point at(std::uint64_t now_ms) noexcept {
  return fw::accessory::time_point(std::chrono::milliseconds(static_cast<std::int64_t>(
      now_ms > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : now_ms)));
}

std::span<const std::byte> bytes_of(const std::uint8_t* data, std::size_t len) noexcept {
  if (!data || len == 0) return {};
  return {reinterpret_cast<const std::byte*>(data), len};
}

core::fingerprint fingerprint_of(const std::uint8_t* p) noexcept {
  core::fingerprint fp;
  std::memcpy(fp.bytes.data(), p, fp.bytes.size());
  return fp;
}

void put(std::uint8_t* out, const core::fingerprint& fp) noexcept {
  std::memcpy(out, fp.bytes.data(), fp.bytes.size());
}

// --- the platform's trampolines (user = the handle) ------------------------------------------

lanyard_accessory& self(void* user) noexcept {
  return *static_cast<lanyard_accessory*>(user);
}

int random_fill(void* user, unsigned char* out, std::size_t len) {
  const lanyard_platform& p = self(user).platform;
  return p.random(p.user, out, len);
}

int load(void* user, const char* key, std::byte* out, std::size_t capacity, std::size_t* size) {
  const lanyard_platform& p = self(user).platform;
  return p.load(p.user, key, reinterpret_cast<std::uint8_t*>(out), capacity, size);
}

int save(void* user, const char* key, const std::byte* data, std::size_t size) {
  const lanyard_platform& p = self(user).platform;
  return p.save(p.user, key, reinterpret_cast<const std::uint8_t*>(data), size);
}

std::chrono::system_clock::time_point wall_clock(void* user) {
  const lanyard_platform& p = self(user).platform;
  return std::chrono::system_clock::time_point(std::chrono::seconds(p.wall_clock(p.user)));
}

void join_wifi(void* user, const core::wifi_credentials_view& network) {
  const lanyard_platform& p = self(user).platform;
  // Both views are followed by a NUL (core::wifi_credentials_buffer), as firmware.h promises.
  p.join_wifi(p.user, network.ssid.data(), network.ssid.size(), network.passphrase.data(),
              network.passphrase.size());
}

void show_verification_code(void* user, std::uint32_t code) {
  const lanyard_platform& p = self(user).platform;
  p.show_verification_code(p.user, code);
}

// The C++ seam over the handle's C one: a missing C callback stays missing (start() reports
// platform_incomplete; join_wifi / show_verification_code keep their "not offered" meaning).
fw::platform seam_of(lanyard_accessory& h) noexcept {
  fw::platform p;
  p.user = &h;
  if (h.platform.random) p.random = {&random_fill, &h};
  if (h.platform.load) p.load = &load;
  if (h.platform.save) p.save = &save;
  if (h.platform.wall_clock) p.wall_clock = &wall_clock;
  if (h.platform.join_wifi) p.join_wifi = &join_wifi;
  if (h.platform.show_verification_code) p.show_verification_code = &show_verification_code;
  return p;
}

fw::accessory_settings settings_of(const lanyard_accessory_settings& c) {
  fw::accessory_settings s;
  s.max_sessions = c.max_sessions;
  s.max_pending = c.max_pending;
  s.max_controllers = c.max_controllers;
  s.session.max_replay_bytes = c.max_replay_bytes;
  s.session.max_message_size = c.max_message_bytes;
  s.session_linger = std::chrono::milliseconds(static_cast<std::int64_t>(
      c.session_linger_ms > 1'000'000'000'000ULL ? 1'000'000'000'000ULL // ~31 years: "forever"
                                                 : c.session_linger_ms));
  s.handshake_timeout = std::chrono::milliseconds(c.handshake_timeout_ms);
  s.pairing.timeout = std::chrono::milliseconds(c.pairing_timeout_ms);
  s.failure_delay_first = std::chrono::milliseconds(c.failure_delay_first_ms);
  s.failure_delay_max = std::chrono::milliseconds(c.failure_delay_max_ms);
  s.setup_window = std::chrono::minutes(c.setup_window_minutes);
  s.close_window_after_pairing = c.close_window_after_pairing;
  s.provisioning = c.provisioning;
  return s;
}

// Creates the handle around an identity; shared by every identity source (the platform's
// storage, a directory). TLS draws from the platform's random source when it has one.
int create_with_identity(const lanyard_accessory_config& config, const tls::identity& id,
                         lanyard_accessory** out) noexcept {
  core::error_detail error;
  tls::context_options options;
  // The C API reports codes (lanyard_strerror()): no sentence, so a failure allocates nothing.
  options.describe_failures = false;
  if (config.platform.random) options.entropy = {config.platform.random, config.platform.user};
  tls::context ctx = tls::context::create(id, std::move(options), error);
  if (error) return to_c(error.code);
  auto* h = new (std::nothrow) lanyard_accessory;
  if (!h) return LANYARD_E_NO_MEMORY;
  h->platform = config.platform;
  h->key = id.fingerprint();
  fw::pairing_secrets secrets;
  if (config.setup_secret) {
    std::array<std::uint8_t, 16> secret{};
    std::memcpy(secret.data(), config.setup_secret, secret.size());
    secrets.setup_secret = secret;
  }
  h->acc.emplace(std::move(ctx), seam_of(*h), std::move(secrets), settings_of(config.settings));
  if (!*h->acc) { // its tables could not be reserved: nothing is kept
    delete h;
    return LANYARD_E_NO_MEMORY;
  }
  *out = h;
  return LANYARD_OK;
}

} // namespace

extern "C" {

const char* lanyard_strerror(int error) noexcept {
  switch (error) {
  case LANYARD_OK:
    return "success";
  case LANYARD_E_OTHER:
    return "an error this interface does not classify";
  case LANYARD_E_NO_MEMORY:
    return "out of memory: the accessory could not be allocated";
  case LANYARD_E_INVALID_ARGUMENT:
    return "invalid argument (a NULL pointer or a value out of range)";
  default:
    break;
  }
  if (const code_text* c = find_code(error)) return c->text ? c->text : c->name;
  return "unknown lanyard error";
}

const char* lanyard_error_name(int error) noexcept {
  switch (error) {
  case LANYARD_OK:
    return "ok";
  case LANYARD_E_OTHER:
    return "other";
  case LANYARD_E_NO_MEMORY:
    return "no_memory";
  case LANYARD_E_INVALID_ARGUMENT:
    return "invalid_argument";
  default:
    break;
  }
  if (const code_text* c = find_code(error)) return c->name;
  return "unknown";
}

void lanyard_accessory_settings_default(lanyard_accessory_settings* s) noexcept {
  if (!s) return;
  const fw::accessory_settings d;
  *s = lanyard_accessory_settings{};
  s->max_sessions = d.max_sessions;
  s->max_pending = d.max_pending;
  s->max_controllers = d.max_controllers;
  s->max_replay_bytes = d.session.max_replay_bytes;
  s->max_message_bytes = d.session.max_message_size;
  s->session_linger_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(d.session_linger).count());
  s->handshake_timeout_ms = static_cast<std::uint32_t>(d.handshake_timeout.count());
  s->pairing_timeout_ms = static_cast<std::uint32_t>(d.pairing.timeout.count());
  s->failure_delay_first_ms = static_cast<std::uint32_t>(d.failure_delay_first.count());
  s->failure_delay_max_ms = static_cast<std::uint32_t>(d.failure_delay_max.count());
  s->setup_window_minutes = static_cast<std::uint32_t>(d.setup_window.count());
  s->close_window_after_pairing = d.close_window_after_pairing;
  s->provisioning = d.provisioning;
}

void lanyard_accessory_config_default(lanyard_accessory_config* c) noexcept {
  if (!c) return;
  *c = lanyard_accessory_config{};
  lanyard_accessory_settings_default(&c->settings);
}

int lanyard_accessory_create(const lanyard_accessory_config* config, const char* device_id,
                             lanyard_accessory** out) noexcept {
  if (out) *out = nullptr;
  if (!config || !device_id || !out) return LANYARD_E_INVALID_ARGUMENT;
  // The identity is read (or made and stored) through the platform's own callbacks.
  auto* scratch = new (std::nothrow) lanyard_accessory;
  if (!scratch) return LANYARD_E_NO_MEMORY;
  scratch->platform = config->platform;
  core::error_detail error;
  const tls::identity id = fw::load_or_create_identity(seam_of(*scratch), device_id, error);
  delete scratch;
  if (error || !id) return error ? to_c(error.code) : LANYARD_E_OTHER;
  return create_with_identity(*config, id, out);
}

// Hosts only: bare-metal builds have no identity files (src/tls_engine/CMakeLists.txt).
#if !defined(LANYARD_NO_IDENTITY_FILES)
int lanyard_accessory_create_with_identity_dir(const lanyard_accessory_config* config,
                                               const char* identity_dir, const char* device_id,
                                               lanyard_accessory** out) noexcept {
  if (out) *out = nullptr;
  if (!config || !identity_dir || !device_id || !out) return LANYARD_E_INVALID_ARGUMENT;
  core::error_detail error;
  const tls::identity id = tls::identity_files::load_or_create(identity_dir, device_id, error);
  if (error || !id) return error ? to_c(error.code) : LANYARD_E_OTHER;
  return create_with_identity(*config, id, out);
}
#endif

void lanyard_accessory_destroy(lanyard_accessory* acc) noexcept {
  delete acc;
}

int lanyard_accessory_fingerprint(const lanyard_accessory* acc, uint8_t out[32]) noexcept {
  if (!acc || !out) return LANYARD_E_INVALID_ARGUMENT;
  put(out, acc->key);
  return LANYARD_OK;
}

int lanyard_accessory_start(lanyard_accessory* acc, uint64_t now_ms) noexcept {
  if (!acc) return LANYARD_E_INVALID_ARGUMENT;
  return to_c(acc->acc->start(at(now_ms)));
}

int lanyard_accessory_accept(lanyard_accessory* acc, uint64_t now_ms, uint32_t* id) noexcept {
  if (!acc || !id) return LANYARD_E_INVALID_ARGUMENT;
  fw::connection_id c;
  if (std::error_code ec = acc->acc->accept(c, at(now_ms))) return to_c(ec);
  *id = c.value;
  return LANYARD_OK;
}

int lanyard_accessory_receive(lanyard_accessory* acc, uint32_t id, const uint8_t* data, size_t len,
                              uint64_t now_ms, size_t* taken) noexcept {
  if (taken) *taken = 0;
  if (!acc || !taken || (!data && len != 0)) return LANYARD_E_INVALID_ARGUMENT;
  const auto r = acc->acc->receive(fw::connection_id{id}, bytes_of(data, len), at(now_ms));
  *taken = r.taken;
  return to_c(r.error);
}

int lanyard_accessory_wants_input(lanyard_accessory* acc, uint32_t id) noexcept {
  return acc && acc->acc->wants_input(fw::connection_id{id}) ? 1 : 0;
}

const uint8_t* lanyard_accessory_output(const lanyard_accessory* acc, uint32_t id,
                                        size_t* len) noexcept {
  if (len) *len = 0;
  if (!acc || !len) return nullptr;
  const auto out = acc->acc->output(fw::connection_id{id});
  if (out.empty()) return nullptr;
  *len = out.size();
  return out.data();
}

void lanyard_accessory_consume_output(lanyard_accessory* acc, uint32_t id, size_t n,
                                      uint64_t now_ms) noexcept {
  if (!acc) return;
  const std::size_t held = acc->acc->output(fw::connection_id{id}).size();
  acc->acc->consume_output(fw::connection_id{id}, n < held ? n : held, at(now_ms));
}

void lanyard_accessory_closed(lanyard_accessory* acc, uint32_t id, uint64_t now_ms) noexcept {
  if (acc) acc->acc->closed(fw::connection_id{id}, at(now_ms));
}

uint64_t lanyard_accessory_next_deadline(const lanyard_accessory* acc) noexcept {
  if (!acc) return UINT64_MAX;
  const auto d = acc->acc->next_deadline();
  if (d == fw::accessory::time_point::max()) return UINT64_MAX;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(d.time_since_epoch()).count();
  return ms < 0 ? 0 : static_cast<std::uint64_t>(ms);
}

void lanyard_accessory_handle_deadline(lanyard_accessory* acc, uint64_t now_ms) noexcept {
  if (acc) acc->acc->handle_deadline(at(now_ms));
}

int lanyard_accessory_poll_event(lanyard_accessory* acc, lanyard_event* ev) noexcept {
  if (!acc || !ev) return LANYARD_E_INVALID_ARGUMENT;
  *ev = lanyard_event{};
  std::optional<fw::accessory_event> next = acc->acc->poll_event();
  if (!next) return 0;
  std::visit(
      [&](auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, fw::events::message>) {
          ev->kind = LANYARD_EVENT_MESSAGE;
          put(ev->controller, e.controller);
          ev->seq = e.seq;
          if (!e.payload.empty()) {
            ev->payload = reinterpret_cast<const std::uint8_t*>(e.payload.data());
            ev->payload_len = e.payload.size();
          }
        } else if constexpr (std::is_same_v<T, fw::events::paired>) {
          ev->kind = LANYARD_EVENT_PAIRED;
          put(ev->controller, e.controller);
          ev->role = static_cast<int>(e.role);
          ev->method = static_cast<int>(e.method);
        } else if constexpr (std::is_same_v<T, fw::events::pairing_failed>) {
          ev->kind = LANYARD_EVENT_PAIRING_FAILED;
          put(ev->controller, e.controller);
          ev->error = to_c(e.error);
          ev->attempts_left = e.attempts_left;
        } else if constexpr (std::is_same_v<T, fw::events::session_reset>) {
          ev->kind = LANYARD_EVENT_SESSION_RESET;
          put(ev->controller, e.controller);
          ev->unacked = e.unacked;
        } else if constexpr (std::is_same_v<T, fw::events::session_ended>) {
          ev->kind = LANYARD_EVENT_SESSION_ENDED;
          put(ev->controller, e.controller);
          ev->error = to_c(e.why);
        } else if constexpr (std::is_same_v<T, fw::events::close_connection>) {
          ev->kind = LANYARD_EVENT_CLOSE_CONNECTION;
          ev->connection = e.id.value;
          ev->error = to_c(e.why);
        }
      },
      *next);
  return 1;
}

int lanyard_accessory_send(lanyard_accessory* acc, const uint8_t controller[32],
                           const uint8_t* payload, size_t len, uint64_t now_ms,
                           uint64_t* seq) noexcept {
  if (!acc || !controller || (!payload && len != 0)) return LANYARD_E_INVALID_ARGUMENT;
  const auto r = acc->acc->send(fingerprint_of(controller), bytes_of(payload, len), at(now_ms));
  if (r.error) return to_c(r.error);
  if (seq) *seq = r.seq;
  return LANYARD_OK;
}

int lanyard_accessory_wifi_joined(lanyard_accessory* acc, const char* const* addresses,
                                  size_t count, uint64_t now_ms) noexcept {
  if (!acc || (!addresses && count != 0)) return LANYARD_E_INVALID_ARGUMENT;
  // More than the responder takes is its bad_addresses, as from C++.
  std::array<std::string_view, core::provisioning_progress::max_addresses> list;
  if (count > list.size()) return to_c(core::provisioning_errc::bad_addresses);
  for (std::size_t k = 0; k < count; ++k) {
    if (!addresses[k]) return LANYARD_E_INVALID_ARGUMENT;
    list[k] = addresses[k];
  }
  return to_c(acc->acc->wifi_joined(std::span(list.data(), count), at(now_ms)));
}

int lanyard_accessory_wifi_failed(lanyard_accessory* acc, int why, uint64_t now_ms) noexcept {
  if (!acc) return LANYARD_E_INVALID_ARGUMENT;
  core::provisioning_failure f;
  switch (why) {
  case LANYARD_WIFI_AUTH_ERROR:
    f = core::provisioning_failure::auth_error;
    break;
  case LANYARD_WIFI_NETWORK_NOT_FOUND:
    f = core::provisioning_failure::network_not_found;
    break;
  case LANYARD_WIFI_TIMEOUT:
    f = core::provisioning_failure::timeout;
    break;
  default:
    return LANYARD_E_INVALID_ARGUMENT;
  }
  return to_c(acc->acc->wifi_failed(f, at(now_ms)));
}

int lanyard_accessory_open_pairing_window(lanyard_accessory* acc, uint64_t now_ms) noexcept {
  if (!acc) return LANYARD_E_INVALID_ARGUMENT;
  return to_c(acc->acc->open_pairing_window(at(now_ms)));
}

bool lanyard_accessory_pairing_window_open(const lanyard_accessory* acc) noexcept {
  // Without a wall clock (start() then failed) there is no window to ask about.
  return acc && acc->platform.wall_clock && acc->acc->pairing_window_open();
}

size_t lanyard_accessory_session_count(const lanyard_accessory* acc) noexcept {
  return acc ? acc->acc->session_count() : 0;
}

size_t lanyard_accessory_connection_count(const lanyard_accessory* acc) noexcept {
  return acc ? acc->acc->connection_count() : 0;
}

bool lanyard_accessory_connected(const lanyard_accessory* acc,
                                 const uint8_t controller[32]) noexcept {
  return acc && controller && acc->acc->connected(fingerprint_of(controller));
}

size_t lanyard_accessory_controller_count(const lanyard_accessory* acc) noexcept {
  return acc ? acc->acc->controllers().list().size() : 0;
}

} // extern "C"
