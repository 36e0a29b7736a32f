// firmware_memory: the RAM a lanyard::firmware::accessory uses (issue 15's memory goal: at most
// 32 KiB per controller session including its replay buffer at the default settings, beyond
// mbedTLS's own buffers), measured with a real accessory (default accessory_settings, so the
// default firmware_session_profile()) and real controllers (tests/unit/firmware's harness:
// mbedTLS client engines, pairing initiators, client sessions) over memory. Prints one JSON
// object (docs/PERFORMANCE.md, "Firmware accessory: RAM and code size").
//
// How bytes are counted. This translation unit replaces the global allocation functions of the
// executable: operator new/delete (Lanyard's own memory: lanyard::firmware, core, crypto and
// tls_engine allocate only through them) and malloc/calloc/realloc/free (interposed in the
// executable, forwarding to glibc's __libc_* functions: Debian's mbedTLS 2.28 is built without
// MBEDTLS_PLATFORM_MEMORY, so mbedtls_platform_set_calloc_free() does not exist and mbedTLS
// calls calloc/free directly). Every block is recorded with its size in a fixed table (no
// allocation of its own), so a free is charged to the kind that allocated it.
//
// Attribution. The controllers run in the same process, and their engines, sessions and pairing
// crypto allocate too; none of that is the accessory's. A block is recorded only while a
// `counted` scope is open, and such a scope is open exactly around each call into the accessory
// (the harness's connect/disconnect/run are re-done here with the scope around each accessory
// call: accept, receive, output, consume_output, poll_event, closed, send, handle_deadline,
// open_pairing_window), around the accessory's construction and start(), and around the
// creation of its identity and TLS context. Inside those calls the platform's callbacks (the
// test's storage map, the kernel's random source) run `paused`: the firmware's own drivers are
// not Lanyard's memory. A recorded block is released whenever it is freed, whoever frees it:
// a message's payload that the accessory allocated and the application drops is the
// accessory's until then. The events are drained without copies, and the application side
// keeps nothing. After each scenario the whole bench is destroyed and the recorded live bytes
// must be back to zero (reported as "live_after_teardown": a leak check of the attribution).
#include "firmware_harness.hpp"

#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/provisioning.hpp>
#include <lanyard/firmware/accessory.hpp>
#include <lanyard/firmware/controller_table.hpp>
#include <lanyard/tls_engine/engine.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <vector>

#if defined(ASIO_STANDALONE)
#error "firmware_memory measures lanyard::firmware as firmware links it: no asio module"
#endif

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);
}

namespace counting {

enum kind : unsigned char { cxx = 0, c = 1 };

struct stats {
  std::size_t live = 0;
  std::size_t peak = 0;
  std::size_t allocations = 0;
};

stats by_kind[2];
bool active = false;

// The start-up allocation log (kind and size, in order).
struct logged {
  kind k;
  std::size_t size;
};
bool log_on = false;
logged log_entries[512];
std::size_t log_count = 0;

// Open addressing, linear probing, backward-shift deletion: no tombstones, no allocation.
struct entry {
  void* p;
  std::size_t size;
  kind k;
};
constexpr std::size_t table_size = std::size_t{1} << 18;
constexpr std::size_t mask = table_size - 1;
entry table[table_size];
std::size_t table_used = 0;

std::size_t slot_of(const void* p) {
  auto v = reinterpret_cast<std::uintptr_t>(p);
  v ^= v >> 17;
  v *= 0x9e3779b97f4a7c15ull;
  return static_cast<std::size_t>(v >> 40) & mask;
}

void record(void* p, std::size_t n, kind k) {
  if (p == nullptr) return;
  if (table_used + 1 >= table_size / 2) {
    std::fputs("firmware_memory: allocation table full\n", stderr);
    std::abort();
  }
  std::size_t i = slot_of(p);
  while (table[i].p != nullptr)
    i = (i + 1) & mask;
  table[i] = {p, n, k};
  ++table_used;
  stats& s = by_kind[k];
  s.live += n;
  s.peak = std::max(s.peak, s.live);
  ++s.allocations;
  if (log_on && log_count < std::size(log_entries)) log_entries[log_count++] = {k, n};
}

// Forgets `p` if it was recorded; returns whether it was (and its kind in `k`).
bool forget(void* p, kind* k = nullptr) {
  if (p == nullptr) return false;
  std::size_t i = slot_of(p);
  while (table[i].p != p) {
    if (table[i].p == nullptr) return false;
    i = (i + 1) & mask;
  }
  by_kind[table[i].k].live -= table[i].size;
  if (k) *k = table[i].k;
  --table_used;
  // Backward shift: move later entries of the cluster into the hole when their home allows.
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & mask; table[j].p != nullptr; j = (j + 1) & mask) {
    const std::size_t home = slot_of(table[j].p);
    const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      table[hole] = table[j];
      hole = j;
    }
  }
  table[hole].p = nullptr;
  return true;
}

struct snapshot {
  std::size_t cxx = 0;
  std::size_t c = 0;
};
snapshot live() {
  return {by_kind[cxx].live, by_kind[kind::c].live};
}
// Allocations made so far (not live bytes): a moment's count is made() less made() before it.
snapshot made() {
  return {by_kind[cxx].allocations, by_kind[kind::c].allocations};
}
snapshot made_since(const snapshot& before) {
  const snapshot now = made();
  return {now.cxx - before.cxx, now.c - before.c};
}
snapshot peak() {
  return {by_kind[cxx].peak, by_kind[kind::c].peak};
}
void reset_peak() {
  for (stats& s : by_kind)
    s.peak = s.live;
}

// Open around each call into the accessory.
struct counted {
  bool before = active;
  counted() { active = true; }
  ~counted() { active = before; }
  counted(const counted&) = delete;
  counted& operator=(const counted&) = delete;
};
// Open around the platform's callbacks (the firmware's drivers, not Lanyard).
struct paused {
  bool before = active;
  paused() { active = false; }
  ~paused() { active = before; }
  paused(const paused&) = delete;
  paused& operator=(const paused&) = delete;
};

void* cxx_new(std::size_t n) {
  void* p = __libc_malloc(n == 0 ? 1 : n);
  if (p == nullptr) std::abort(); // no exceptions: as the library's build would end
  if (active) record(p, n, cxx);
  return p;
}
void* cxx_new_aligned(std::size_t n, std::size_t al) {
  void* p = std::aligned_alloc(al, (std::max<std::size_t>(n, 1) + al - 1) / al * al);
  if (p == nullptr) std::abort();
  if (active) record(p, n, cxx);
  return p;
}
void cxx_delete(void* p) {
  forget(p);
  __libc_free(p);
}

} // namespace counting

// --- the replaced allocation functions ------------------------------------------------------
void* operator new(std::size_t n) {
  return counting::cxx_new(n);
}
void* operator new[](std::size_t n) {
  return counting::cxx_new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return counting::cxx_new(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return counting::cxx_new(n);
}
void* operator new(std::size_t n, std::align_val_t al) {
  return counting::cxx_new_aligned(n, static_cast<std::size_t>(al));
}
void* operator new[](std::size_t n, std::align_val_t al) {
  return counting::cxx_new_aligned(n, static_cast<std::size_t>(al));
}
void operator delete(void* p) noexcept {
  counting::cxx_delete(p);
}
void operator delete[](void* p) noexcept {
  counting::cxx_delete(p);
}
void operator delete(void* p, std::size_t) noexcept {
  counting::cxx_delete(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  counting::cxx_delete(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  counting::cxx_delete(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  counting::cxx_delete(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  counting::cxx_delete(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  counting::cxx_delete(p);
}

extern "C" {
void* malloc(std::size_t n) noexcept {
  void* p = __libc_malloc(n);
  if (counting::active) counting::record(p, n, counting::c);
  return p;
}
void* calloc(std::size_t count, std::size_t n) noexcept {
  void* p = __libc_calloc(count, n);
  if (counting::active) counting::record(p, count * n, counting::c);
  return p;
}
void* realloc(void* old, std::size_t n) noexcept {
  counting::kind k = counting::c;
  const bool was = counting::forget(old, &k);
  void* p = __libc_realloc(old, n);
  if (p == nullptr && n != 0 && was) {
    // The old block stays: still recorded (realloc failed).
    counting::record(old, 0, k);
    return p;
  }
  if (was || counting::active) counting::record(p, n, was ? k : counting::c);
  return p;
}
void free(void* p) noexcept {
  counting::forget(p);
  __libc_free(p);
}
}

namespace {

using namespace fw_test;
using counting::counted;
using counting::paused;

// The harness's platform, with every callback run `paused`.
fw::platform original_seam;
fw::platform paused_seam(test_platform& tp) {
  original_seam = tp.seam();
  fw::platform p = original_seam;
  p.random.fill = [](void* ctx, unsigned char* out, std::size_t n) {
    paused g;
    return original_seam.random.fill(ctx, out, n);
  };
  p.load = [](void* u, const char* key, std::byte* out, std::size_t cap, std::size_t* size) {
    paused g;
    return original_seam.load(u, key, out, cap, size);
  };
  p.save = [](void* u, const char* key, const std::byte* data, std::size_t size) {
    paused g;
    return original_seam.save(u, key, data, size);
  };
  p.wall_clock = [](void* u) {
    paused g;
    return original_seam.wall_clock(u);
  };
  p.join_wifi = [](void* u, const core::wifi_credentials_view& w) {
    paused g;
    original_seam.join_wifi(u, w);
  };
  return p;
}

std::size_t messages_seen = 0;

// bench::drain without copies: the events are looked at and dropped.
void drain_counted(bench& b) {
  for (;;) {
    std::optional<fw::accessory_event> ev;
    {
      counted g;
      ev = b.acc->poll_event();
    }
    if (!ev) return;
    if (auto* close = std::get_if<fw::events::close_connection>(&*ev)) b.closes.push_back(*close);
    if (std::get_if<fw::events::message>(&*ev)) ++messages_seen;
    if (auto* p = std::get_if<fw::events::paired>(&*ev)) b.paired.push_back(*p);
    if (auto* f = std::get_if<fw::events::pairing_failed>(&*ev)) b.pairing_failures.push_back(*f);
  }
}

// controller::connect and disconnect, with the accessory's calls counted.
void connect_counted(bench& b, controller& c, time_point now,
                     std::optional<core::pairing_credentials> credentials = {}) {
  {
    counted g;
    REQUIRE(!b.acc->accept(c.conn, now));
  }
  c.tls.emplace(c.ctx);
  c.tls->set_peer_id("lamp-1");
  c.pair_with = std::move(credentials);
  c.pairing.reset();
  c.connected = true;
  c.tls_error = {};
  c.advance(now);
}

void disconnect_counted(bench& b, controller& c, time_point now) {
  if (!c.connected) return;
  c.connected = false;
  c.unread.clear();
  {
    counted g;
    b.acc->closed(c.conn, now);
  }
  c.session.on_disconnected(now);
  c.tls.reset();
}

// The harness's run(), with the accessory's calls counted. `hold`: the controllers take the
// accessory's ciphertext but do not read it yet (a slow reader: nothing is acknowledged).
void run_counted(bench& b, const std::vector<controller*>& cs, time_point now, bool hold = false) {
  for (int round = 0; round < 1000; ++round) {
    bool moved = false;
    for (controller* c : cs) {
      if (!c->connected) continue;
      std::span<const std::uint8_t> out;
      {
        counted g;
        out = b.acc->output(c->conn);
      }
      if (!out.empty()) {
        auto in = c->tls->prepare_input(out.size());
        std::memcpy(in.data(), out.data(), out.size());
        c->tls->commit_input(out.size());
        {
          counted g;
          b.acc->consume_output(c->conn, out.size(), now);
        }
        if (!hold) c->advance(now);
        moved = true;
      }
      auto back = c->tls->output();
      if (!back.empty()) {
        const auto* p = reinterpret_cast<const std::byte*>(back.data());
        c->unread.insert(c->unread.end(), p, p + back.size());
        c->tls->consume_output(back.size());
        moved = true;
      }
      // What the accessory does not take yet (it holds a message) waits on the controller's
      // side, as in a socket.
      if (!c->unread.empty()) {
        counted g;
        if (b.acc->wants_input(c->conn)) {
          const auto r = b.acc->receive(c->conn, c->unread, now);
          c->unread.erase(c->unread.begin(),
                          c->unread.begin() + static_cast<std::ptrdiff_t>(r.taken));
          moved = moved || r.taken > 0;
        }
      }
    }
    const std::size_t before = b.closes.size();
    drain_counted(b);
    {
      counted g;
      if (b.acc->next_deadline() <= now) {
        b.acc->handle_deadline(now);
        moved = true;
      }
    }
    for (std::size_t k = before; k < b.closes.size(); ++k)
      for (controller* c : cs)
        if (c->connected && c->conn == b.closes[k].id) {
          std::span<const std::uint8_t> out;
          {
            counted g;
            out = b.acc->output(c->conn);
          }
          if (!out.empty()) {
            auto in = c->tls->prepare_input(out.size());
            std::memcpy(in.data(), out.data(), out.size());
            c->tls->commit_input(out.size());
            c->advance(now);
          }
          disconnect_counted(b, *c, now);
          moved = true;
        }
    if (!moved) return;
  }
  FAIL("the accessory and its controllers never went quiet");
}

// Runs every deadline that is due (delayed acknowledgements) on both sides until quiet.
void settle(bench& b, const std::vector<controller*>& cs, time_point& now) {
  for (int i = 0; i < 4; ++i) {
    now += 50ms;
    {
      counted g;
      if (b.acc->next_deadline() <= now) b.acc->handle_deadline(now);
    }
    for (controller* c : cs) {
      if (c->session.next_deadline() <= now) c->session.handle_deadline(now);
      if (c->connected) c->flush_session(now);
    }
    run_counted(b, cs, now);
  }
}

struct json {
  std::string s;
  bool first = true;
  void open(const char* key = nullptr) {
    sep();
    if (key) s += "\"" + std::string(key) + "\":";
    s += "{";
    first = true;
  }
  void close() {
    s += "}";
    first = false;
  }
  void open_array(const char* key) {
    sep();
    s += "\"" + std::string(key) + "\":[";
    first = true;
  }
  void close_array() {
    s += "]";
    first = false;
  }
  void sep() {
    if (!first) s += ",";
    first = false;
  }
  void num(const char* key, std::size_t v) {
    sep();
    s += "\"" + std::string(key) + "\":" + std::to_string(v);
  }
  void snum(const char* key, long long v) {
    sep();
    s += "\"" + std::string(key) + "\":" + std::to_string(v);
  }
  void boolean(const char* key, bool v) {
    sep();
    s += "\"" + std::string(key) + "\":" + (v ? "true" : "false");
  }
  void str(const char* key, const std::string& v) {
    sep();
    s += "\"" + std::string(key) + "\":\"" + v + "\"";
  }
  void snapshot(const char* key, counting::snapshot v) {
    open(key);
    num("cxx", v.cxx);
    num("mbedtls", v.c);
    close();
  }
};

// The live C++ blocks, grouped by size, largest total first (what the per-session bytes are).
void largest_blocks(json& j, const char* key, std::size_t top) {
  std::vector<std::pair<std::size_t, std::size_t>> by_size; // size, count
  {
    paused g;
    for (const auto& e : counting::table) {
      if (e.p == nullptr || e.k != counting::cxx) continue;
      auto it = std::find_if(by_size.begin(), by_size.end(),
                             [&](const auto& p) { return p.first == e.size; });
      if (it == by_size.end())
        by_size.emplace_back(e.size, 1);
      else
        ++it->second;
    }
    std::sort(by_size.begin(), by_size.end(),
              [](const auto& a, const auto& b) { return a.first * a.second > b.first * b.second; });
  }
  j.open_array(key);
  for (std::size_t i = 0; i < by_size.size() && i < top; ++i) {
    j.open();
    j.num("size", by_size[i].first);
    j.num("count", by_size[i].second);
    j.close();
  }
  j.close_array();
}

struct startup_figures {
  counting::snapshot identity, context, accessory, accessory_peak;
  std::size_t impl_size = 0;
  std::vector<counting::logged> log;
};

// Builds the bench's accessory with its allocations counted; returns what start-up holds.
// `max_sessions`: the settings' cap instead of the default's (0: the default).
startup_figures boot(std::optional<bench>& b, std::size_t max_sessions = 0) {
  startup_figures f;
  const auto at0 = counting::live();
  {
    counted g;
    b.emplace(); // generates the accessory's identity (firmware would load it)
  }
  if (max_sessions != 0) b->settings.max_sessions = max_sessions;
  b->settings.provisioning = true; // an admin's wifi_set is counted too
  f.identity = {counting::live().cxx - at0.cxx, counting::live().c - at0.c};
  const auto at1 = counting::live();
  std::optional<tls::context> ctx;
  {
    counted g;
    lanyard::core::error_detail error;
    tls::context_options o;
    o.describe_failures = false; // as on firmware: a failure allocates nothing
    ctx.emplace(tls::context::create(b->id, std::move(o), error));
    REQUIRE(!error);
  }
  f.context = {counting::live().cxx - at1.cxx, counting::live().c - at1.c};
  fw::pairing_secrets secrets;
  secrets.setup_secret = b->secret;
  const fw::platform seam = paused_seam(b->plat);
  const auto at2 = counting::live();
  counting::reset_peak();
  {
    counted g;
    counting::log_count = 0;
    counting::log_on = true;
    b->acc.emplace(std::move(*ctx), seam, secrets, b->settings);
    REQUIRE(!b->acc->start(t0));
    counting::log_on = false;
  }
  ctx.reset();
  f.accessory = {counting::live().cxx - at2.cxx, counting::live().c - at2.c};
  f.accessory_peak = {counting::peak().cxx - at2.cxx, counting::peak().c - at2.c};
  f.log.assign(counting::log_entries, counting::log_entries + counting::log_count);
  // The first allocation of the construction is make_unique<impl>'s (the new-expression
  // allocates before it evaluates the constructor's arguments).
  for (const auto& e : f.log)
    if (e.k == counting::cxx) {
      f.impl_size = e.size;
      break;
    }
  return f;
}

struct scenario_figures {
  std::size_t controllers = 0;
  startup_figures startup;
  counting::snapshot after_start, steady, replay_full, drained, high_water, teardown;
  // From the moment every controller is paired and connected: the peak, and the number of
  // allocations (messages both ways, replay buffers full, drained: none is expected).
  counting::snapshot traffic_high_water;
  counting::snapshot traffic_allocations;
  // What is still allocated after start-up, by cause: the pairings (each a connection, a
  // pairing exchange and the session's first use), and reconnections that resume a session
  // (each a connection: its TLS engine).
  counting::snapshot pairing_allocations, reconnect_allocations;
  // Two strangers whose connections fail (an unknown key while the window is closed, bytes
  // that are not TLS): what a neighbour costs the accessory's heap.
  counting::snapshot failed_allocations;
  // Administration from the admin (the first controller): list the controllers, close and
  // reopen the pairing window, a request with a bad field.
  counting::snapshot admin_allocations;
  std::size_t admin_replies = 0;
  // Provisioning from the admin: credentials that do not decode, a join the driver fails, a
  // second that it completes (with a user's wifi_set refused meanwhile when there is one).
  counting::snapshot provisioning_allocations;
  std::size_t provisioning_replies = 0;
  // A neighbour's wrong setup secret while the window is open (the failure counted and
  // persisted), then a controller gone silent until its session declares the link dead, and
  // its return.
  counting::snapshot guess_and_dead_link_allocations;
  // The last controller ends its session for good (CLOSE 0) while the accessory holds
  // messages it has not had acknowledged.
  counting::snapshot session_end_allocations;
  std::vector<std::size_t> replay_bytes;
  std::vector<std::string> fill_stops;
  std::string largest;
};

constexpr std::size_t exchange_rounds = 32;

scenario_figures scenario(std::size_t n) {
  scenario_figures f;
  f.controllers = n;
  {
    std::optional<bench> bo;
    f.startup = boot(bo);
    bench& b = *bo;
    f.after_start = counting::live();
    counting::reset_peak();
    time_point now = t0;

    std::vector<std::unique_ptr<controller>> owned;
    std::vector<controller*> cs;
    for (std::size_t i = 0; i < n; ++i) {
      // Names longer than a std::string keeps in place (15 bytes): the pairing's name and the
      // certificate's CN must cost no allocation either.
      owned.push_back(std::make_unique<controller>(
          "kitchen-tablet-of-the-household." + std::to_string(i), b.id.fingerprint()));
      cs.push_back(owned.back().get());
    }
    // Pairing, one after another: the window closes after each (the button reopens it).
    const counting::snapshot pairing_before = counting::made();
    for (std::size_t i = 0; i < n; ++i) {
      controller& c = *cs[i];
      if (i > 0) {
        counted g;
        REQUIRE(!b.acc->open_pairing_window(now));
      }
      connect_counted(b, c, now, secret_of(b));
      run_counted(b, cs, now);
      REQUIRE(c.pairing && c.pairing->done() && !c.pairing->outcome().error);
      REQUIRE(c.session.state() == core::session_state::established);
      now += 10ms;
    }
    REQUIRE(b.acc->session_count() == n);
    f.pairing_allocations = counting::made_since(pairing_before);
    const counting::snapshot pairing_peak = counting::peak();
    counting::reset_peak();
    const counting::snapshot traffic_before = counting::made();

    // Messages both ways, acknowledged.
    const std::string small(200, 'm');
    for (std::size_t round = 0; round < exchange_rounds; ++round) {
      for (controller* c : cs) {
        REQUIRE(!c->session.send(text(small), now).error);
        c->flush_session(now);
        const auto payload = text(small); // the application's buffer, not the accessory's
        counted g;
        REQUIRE(!b.acc->send(c->key(), payload, now).error);
      }
      run_counted(b, cs, now);
      now += 5ms;
    }
    settle(b, cs, now);
    f.steady = counting::live();

    // The worst case: the controllers send a window's worth while the accessory fills every
    // session's replay buffer to its limit and nothing it sends is acknowledged yet.
    const std::size_t limit = b.settings.session.max_replay_bytes;
    const std::size_t max_message = b.settings.session.max_message_size;
    const std::string big(max_message, 'r');
    for (controller* c : cs) {
      for (int k = 0; k < 3; ++k) { // 3 x (4,000 + 32): within the accessory's 16 KiB window
        REQUIRE(!c->session.send(text(big.substr(0, 4000)), now).error);
      }
      c->flush_session(now);
    }
    for (controller* c : cs) {
      const core::session* s = b.acc->session_of(c->key());
      REQUIRE(s);
      for (;;) {
        const std::size_t used = s->replay_bytes();
        if (used + core::replay_overhead_per_message + 1 > limit) {
          f.fill_stops.push_back("limit");
          break;
        }
        const std::size_t size =
            std::min(max_message, limit - used - core::replay_overhead_per_message);
        core::session::send_result r;
        const auto payload = text(big.substr(0, size)); // the application's buffer
        {
          counted g;
          r = b.acc->send(c->key(), payload, now);
        }
        if (r.error) {
          f.fill_stops.push_back(r.error.message());
          break;
        }
      }
      f.replay_bytes.push_back(s->replay_bytes());
    }
    run_counted(b, cs, now, /*hold=*/true);
    f.replay_full = counting::live();
    {
      json j;
      largest_blocks(j, "largest_live_cxx_blocks_at_replay_full", 12);
      f.largest = j.s;
    }

    // The controllers read and acknowledge: the replay buffers empty.
    for (controller* c : cs)
      c->advance(now);
    run_counted(b, cs, now);
    settle(b, cs, now);
    for (controller* c : cs)
      REQUIRE(b.acc->session_of(c->key())->replay_bytes() == 0);
    f.drained = counting::live();
    f.traffic_high_water = counting::peak();
    f.high_water = {std::max(pairing_peak.cxx, f.traffic_high_water.cxx),
                    std::max(pairing_peak.c, f.traffic_high_water.c)};
    f.traffic_allocations = counting::made_since(traffic_before);

    // Every controller reconnects and resumes its session.
    const counting::snapshot reconnect_before = counting::made();
    for (controller* c : cs) {
      disconnect_counted(b, *c, now);
      connect_counted(b, *c, now);
      run_counted(b, cs, now);
      REQUIRE(c->session.state() == core::session_state::established);
    }
    f.reconnect_allocations = counting::made_since(reconnect_before);

    // Administration, answered from views of the payload and replies built on the stack.
    const counting::snapshot admin_before = counting::made();
    {
      controller& admin = *cs[0];
      const std::size_t replies_before = admin.control_received.size();
      for (const char* request :
           {"v1 controllers", "v1 pairing_window open=0", "v1 controller_role fp=12 role=user",
            "v1 pairing_window open=1 minutes=5", "v1 pairing_window open=0"}) {
        REQUIRE(!admin.session.send(text(request), now, core::message_kind::administration).error);
        admin.flush_session(now);
        run_counted(b, cs, now);
      }
      settle(b, cs, now);
      f.admin_replies = admin.control_received.size() - replies_before;
      // One line per controller and the list's end, then one answer per other request.
      REQUIRE(f.admin_replies == n + 1 + 4);
      REQUIRE(admin.control_received[replies_before + n].find("count=" + std::to_string(n)) !=
              std::string::npos);
      REQUIRE(admin.control_received.back().rfind("v1 ok", 0) == 0);
    }
    f.admin_allocations = counting::made_since(admin_before);

    // Provisioning: the payload read in place, the credentials and the replies in the
    // responder's room.
    const counting::snapshot provisioning_before = counting::made();
    {
      controller& admin = *cs[0];
      const std::size_t replies_before = admin.control_received.size();
      std::string join; // the app's side, not counted
      REQUIRE(!core::encode_wifi_credentials({"HomeLAN", "correct-horse-battery"}, join));
      const auto ask = [&](controller& c, const std::string& request) {
        REQUIRE(!c.session.send(text(request), now, core::message_kind::provisioning).error);
        c.flush_session(now);
        run_counted(b, cs, now);
      };
      ask(admin, "v1 wifi_set ssid_hex=486f6d65 passphrase_hex=73686f7274"); // 5 bytes: refused
      ask(admin, join);
      if (n > 1) ask(*cs[1], join); // not an admin: refused
      {
        counted g;
        REQUIRE(!b.acc->wifi_failed(core::provisioning_failure::auth_error, now));
      }
      run_counted(b, cs, now);
      ask(admin, join);
      const std::array<std::string_view, 2> addresses{"198.18.1.20", "2001:2:0:1::20"};
      {
        counted g;
        REQUIRE(!b.acc->wifi_joined(addresses, now));
      }
      run_counted(b, cs, now);
      settle(b, cs, now);
      REQUIRE(b.plat.joins.size() == 2);
      f.provisioning_replies = admin.control_received.size() - replies_before;
      // bad_field, connecting, failed, connecting, connected.
      REQUIRE(f.provisioning_replies == 5);
      REQUIRE(admin.control_received[replies_before].find("reason=bad_field") != std::string::npos);
      REQUIRE(admin.control_received.back().find("state=connected") != std::string::npos);
      if (n > 1) REQUIRE(cs[1]->control_received.back().find("not_admin") != std::string::npos);
    }
    f.provisioning_allocations = counting::made_since(provisioning_before);

    const counting::snapshot guess_before = counting::made();
    {
      {
        counted g;
        REQUIRE(!b.acc->open_pairing_window(now));
      }
      controller guesser("a-neighbour-guessing-the-setup-code", b.id.fingerprint());
      core::pairing_credentials wrong = secret_of(b);
      wrong.secret[0] ^= 0xff;
      connect_counted(b, guesser, now, wrong);
      run_counted(b, {&guesser}, now);
      REQUIRE(!b.pairing_failures.empty());
      REQUIRE(b.pairing_failures.back().error == core::pairing_errc::wrong_proof);
      disconnect_counted(b, guesser, now);
      REQUIRE(b.acc->pairing_window_open()); // a wrong guess does not close it: the admin does
      REQUIRE(!cs[0]
                   ->session
                   .send(text("v1 pairing_window open=0"), now, core::message_kind::administration)
                   .error);
      cs[0]->flush_session(now);
      run_counted(b, cs, now);
      REQUIRE(!b.acc->pairing_window_open());

      // The last controller stops answering; the others go on. Its session gives up after
      // peer_timeout and the accessory closes the connection; then it comes back.
      controller& silent = *cs.back();
      std::vector<controller*> others(cs.begin(), cs.end() - 1);
      const std::size_t closes_before = b.closes.size();
      const auto give_up = now + b.settings.session.peer_timeout + 2s;
      while (now < give_up && b.closes.size() == closes_before) {
        now += 500ms;
        {
          counted g;
          if (b.acc->next_deadline() <= now) b.acc->handle_deadline(now);
        }
        for (controller* c : others) {
          if (c->session.next_deadline() <= now) c->session.handle_deadline(now);
          c->flush_session(now);
        }
        run_counted(b, others, now);
      }
      REQUIRE(b.closes.size() > closes_before);
      REQUIRE(b.closes.back().id == silent.conn);
      disconnect_counted(b, silent, now);
      connect_counted(b, silent, now);
      run_counted(b, cs, now);
      REQUIRE(silent.session.state() == core::session_state::established);
      settle(b, cs, now);
    }
    f.guess_and_dead_link_allocations = counting::made_since(guess_before);

    const counting::snapshot end_before = counting::made();
    {
      controller& leaving = *cs.back();
      const auto payload = text("not yet acknowledged");
      for (int k = 0; k < 2; ++k) {
        counted g;
        REQUIRE(!b.acc->send(leaving.key(), payload, now).error);
      }
      REQUIRE(b.acc->session_of(leaving.key())->replay_count() == 2);
      REQUIRE(!leaving.session.close(now));
      leaving.flush_session(now);
      run_counted(b, cs, now);
      REQUIRE(b.acc->session_of(leaving.key()) == nullptr); // ended, its slot free
      settle(b, cs, now);
    }
    f.session_end_allocations = counting::made_since(end_before);

    // A stranger's key while the pairing window is closed: refused inside the handshake. Then
    // a peer whose bytes are not TLS. Both end in a failure the TLS engine records (its code
    // only: describe_failures is off, as on firmware).
    const counting::snapshot failed_before = counting::made();
    {
      controller stranger("a-neighbour-with-a-long-device-name", b.id.fingerprint());
      connect_counted(b, stranger, now);
      run_counted(b, {&stranger}, now);
      REQUIRE(!stranger.connected); // the accessory closed it
      REQUIRE(b.closes.back().why == core::pairing_errc::window_closed);
      controller junk("junk", b.id.fingerprint()); // only its connection handle is used
      {
        counted g;
        REQUIRE(!b.acc->accept(junk.conn, now));
      }
      const std::string garbage = "GET / HTTP/1.1\r\nHost: lamp.local\r\n\r\n";
      {
        counted g;
        REQUIRE(b.acc->receive(junk.conn, text(garbage), now).taken > 0);
      }
      drain_counted(b);
      REQUIRE(b.closes.back().id == junk.conn);
      REQUIRE(b.closes.back().why);
      {
        counted g;
        b.acc->closed(junk.conn, now);
      }
    }
    f.failed_allocations = counting::made_since(failed_before);
  }
  f.teardown = counting::live();
  return f;
}

long long per_session(std::size_t at, std::size_t base, std::size_t n) {
  return (static_cast<long long>(at) - static_cast<long long>(base)) / static_cast<long long>(n);
}

void report_scenario(json& j, const char* key, const scenario_figures& f) {
  j.open(key);
  j.num("controllers", f.controllers);
  j.snapshot("after_start", f.after_start);
  j.snapshot("steady", f.steady);
  j.snapshot("replay_full", f.replay_full);
  j.snapshot("drained", f.drained);
  j.snapshot("high_water", f.high_water);
  j.snapshot("live_after_teardown", f.teardown);
  j.open_array("replay_bytes_at_full");
  for (std::size_t v : f.replay_bytes) {
    j.sep();
    j.s += std::to_string(v);
  }
  j.close_array();
  j.open_array("fill_stopped_by");
  for (const auto& v : f.fill_stops) {
    j.sep();
    j.s += "\"" + v + "\"";
  }
  j.close_array();
  const std::size_t n = f.controllers;
  j.open("per_session");
  j.snum("cxx_steady", per_session(f.steady.cxx, f.after_start.cxx, n));
  j.snum("cxx_replay_full", per_session(f.replay_full.cxx, f.after_start.cxx, n));
  j.snum("cxx_high_water", per_session(f.high_water.cxx, f.after_start.cxx, n));
  j.snum("cxx_traffic_high_water", per_session(f.traffic_high_water.cxx, f.after_start.cxx, n));
  j.snum("mbedtls_steady", per_session(f.steady.c, f.after_start.c, n));
  j.snum("mbedtls_high_water", per_session(f.high_water.c, f.after_start.c, n));
  j.close();
  j.open("allocations_once_paired");
  j.num("cxx", f.traffic_allocations.cxx);
  j.num("mbedtls", f.traffic_allocations.c);
  j.close();
  j.open("allocations_per_pairing");
  j.num("cxx", f.pairing_allocations.cxx / n);
  j.num("mbedtls", f.pairing_allocations.c / n);
  j.close();
  j.open("allocations_per_reconnection");
  j.num("cxx", f.reconnect_allocations.cxx / n);
  j.num("mbedtls", f.reconnect_allocations.c / n);
  j.close();
  j.open("allocations_for_administration");
  j.num("cxx", f.admin_allocations.cxx);
  j.num("replies", f.admin_replies);
  j.close();
  j.open("allocations_for_provisioning");
  j.num("cxx", f.provisioning_allocations.cxx);
  j.num("mbedtls", f.provisioning_allocations.c);
  j.num("replies", f.provisioning_replies);
  j.close();
  j.open("allocations_for_a_wrong_secret_and_a_dead_link");
  j.num("cxx", f.guess_and_dead_link_allocations.cxx);
  j.num("mbedtls", f.guess_and_dead_link_allocations.c);
  j.close();
  j.open("allocations_for_a_session_ended_by_its_controller");
  j.num("cxx", f.session_end_allocations.cxx);
  j.close();
  j.open("allocations_for_two_failed_connections");
  j.num("cxx", f.failed_allocations.cxx);
  j.num("mbedtls", f.failed_allocations.c);
  j.close();
  j.sep();
  j.s += f.largest;
  j.close();
}

} // namespace

int main() {
  const scenario_figures one = scenario(1);
  const scenario_figures four = scenario(4);
  // What one more session costs at start-up, where its memory is reserved: the accessory
  // started with one session more than the default, less the default's. That is the
  // session (replay ring, frame, output, events), its slot, one more connection slot with its
  // TLS buffers, and its share of the tables and the event ring.
  const fw::accessory_settings defaults;
  startup_figures plus_one;
  {
    std::optional<bench> b;
    plus_one = boot(b, defaults.max_sessions + 1);
  }
  const long long startup_per_session = static_cast<long long>(plus_one.accessory.cxx) -
                                        static_cast<long long>(one.startup.accessory.cxx);

  json j;
  j.open();
  j.str("program", "firmware_memory");
  j.str("units", "bytes");
  {
    const fw::accessory_settings s;
    j.open("settings");
    j.num("max_sessions", s.max_sessions);
    j.num("max_pending", s.max_pending);
    j.num("max_controllers", s.max_controllers);
    j.num("max_replay_bytes", s.session.max_replay_bytes);
    j.num("max_message_size", s.session.max_message_size);
    j.num("output_batch_bytes", s.session.output_batch_bytes);
    j.num("exchange_rounds", exchange_rounds);
    j.close();
  }
  j.open("sizeof");
  j.num("firmware_accessory", sizeof(fw::accessory));
  j.num("firmware_accessory_impl", one.startup.impl_size);
  j.num("core_session", sizeof(core::session));
  j.num("tls_engine", sizeof(tls::engine));
  j.num("tls_context", sizeof(tls::context));
  j.num("controller_table", sizeof(fw::controller_table));
  j.num("controller_entry", sizeof(fw::controller_entry));
  j.close();
  j.open("startup");
  j.snapshot("identity", one.startup.identity);
  j.snapshot("tls_context", one.startup.context);
  j.snapshot("accessory", one.startup.accessory);
  j.snapshot("accessory_high_water", one.startup.accessory_peak);
  j.open_array("accessory_allocations");
  for (const auto& e : one.startup.log) {
    j.open();
    j.str("kind", e.k == counting::cxx ? "c++" : "mbedtls");
    j.num("size", e.size);
    j.close();
  }
  j.close_array();
  j.close();
  report_scenario(j, "controllers_1", one);
  report_scenario(j, "controllers_4", four);

  constexpr long long goal = 32 * 1024;
  // A connection slot's TLS buffers (for the record: startup_per_session holds them): start-up
  // reserves them in one block for every slot (the largest of start-up's allocations).
  std::size_t tls_block = 0;
  for (const auto& e : one.startup.log)
    tls_block = std::max(tls_block, e.size);
  const long long tls_share =
      static_cast<long long>(tls_block / (defaults.max_sessions + defaults.max_pending));
  // Per session while messages flow (every controller paired): what start-up reserved for it,
  // and what its connection holds beyond that at the high water.
  const long long hw1 =
      startup_per_session + per_session(one.traffic_high_water.cxx, one.after_start.cxx, 1);
  const long long hw4 =
      startup_per_session + per_session(four.traffic_high_water.cxx, four.after_start.cxx, 4);
  const long long full1 =
      startup_per_session + per_session(one.replay_full.cxx, one.after_start.cxx, 1);
  const long long full4 =
      startup_per_session + per_session(four.replay_full.cxx, four.after_start.cxx, 4);
  j.open("goals");
  j.snum("ram_per_session_max", goal);
  j.str("ram_per_session_measure",
        "Lanyard's C++ bytes per session: what one more session adds to start-up (the "
        "session's buffers, its slot, a connection slot with its TLS buffers and engine, its share "
        "of "
        "the tables), plus what each session's connection holds above the started accessory "
        "at the high water while messages flow (every controller paired); mbedTLS excluded");
  j.snum("startup_per_session", startup_per_session);
  j.snum("tls_buffers_per_slot", tls_share);
  j.snum("ram_per_session_1", hw1);
  j.snum("ram_per_session_4", hw4);
  j.snum("ram_per_session_replay_full_1", full1);
  j.snum("ram_per_session_replay_full_4", full4);
  j.boolean("ram_per_session_met", hw1 <= goal && hw4 <= goal);
  j.snum("ram_per_session_margin", goal - std::max(hw1, hw4));
  j.str("code_size", "scripts/firmware-size (goal: text + data <= 131072 bytes at -Os)");
  // Nothing is allocated once the controllers are paired (bench.firmware_memory checks it).
  j.open("no_allocation_once_paired");
  j.boolean("met", one.traffic_allocations.cxx == 0 && four.traffic_allocations.cxx == 0);
  j.close();
  j.close(); // goals
  j.close();
  std::printf("%s\n", j.s.c_str());
  return one.teardown.cxx == 0 && four.teardown.cxx == 0 ? 0 : 1;
}
