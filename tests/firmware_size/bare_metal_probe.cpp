// bare_metal_probe: what a lamp's firmware links of Lanyard, built for a microcontroller
// (scripts/firmware-size --target cortex-m4; docs/PERFORMANCE.md, "Firmware accessory: RAM and
// code size"). It is the firmware lamp's Lanyard side (examples/firmware_lamp) on a board port:
// the accessory through the C header (lanyard/firmware.h), the embedded mDNS responder with the
// accessory's TXT record, the setup payload, and app messages for its readings, in one event
// loop. The port_* functions are the board's (its RTOS, IP stack, flash and RNG): declared
// here, left undefined at the link (--unresolved-symbols=ignore-all) and, like libc and
// mbedTLS, not part of the figure. It is measured, never run.
#include <lanyard/core/accessory_txt.hpp>
#include <lanyard/core/app_message_view.hpp>
#include <lanyard/core/mdns_responder.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/core/txt_record.hpp>
#include <lanyard/firmware.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

extern "C" {
// The board port. Times are the monotonic milliseconds the C header takes.
std::uint64_t port_now_ms();
// Waits until `deadline_ms` or an I/O event; returns what happened (see port_event).
int port_wait(std::uint64_t deadline_ms);
std::size_t port_mdns_receive(std::uint8_t* out, std::size_t capacity, std::uint32_t* interface,
                              std::uint8_t address[16], int* v6, std::uint16_t* port);
void port_mdns_send(std::uint32_t interface, int multicast, const std::uint8_t address[16], int v6,
                    std::uint16_t port, const std::uint8_t* data, std::size_t len);
int port_tcp_accept();
// Copies what the socket holds without taking it; port_tcp_skip() then takes the first n bytes
// (the accessory takes fewer while it holds a message for the application).
std::size_t port_tcp_peek(int socket, std::uint8_t* out, std::size_t capacity);
void port_tcp_skip(int socket, std::size_t n);
std::size_t port_tcp_send(int socket, const std::uint8_t* data, std::size_t len);
void port_tcp_close(int socket);
int port_random(void* user, std::uint8_t* out, std::size_t len);
int port_load(void* user, const char* key, std::uint8_t* out, std::size_t capacity,
              std::size_t* size);
int port_save(void* user, const char* key, const std::uint8_t* data, std::size_t size);
std::int64_t port_wall_clock(void* user);
void port_join_wifi(void* user, const char* ssid, std::size_t ssid_len, const char* passphrase,
                    std::size_t passphrase_len);
void port_show_setup_code(const char* text, std::size_t len);
void port_led(int on, int brightness);
int port_read_sensor();
}

namespace {

namespace core = lanyard::core;
using time_point = core::mdns_responder::time_point;

enum port_event { port_timeout = 0, port_mdns = 1, port_listener = 2, port_socket = 3 };

constexpr const char* device_id = "lamp-0001";
constexpr std::size_t max_connections = 6;

struct slot {
  int socket = -1;
  std::uint32_t id = 0;
};

core::mdns_responder responder;
std::array<slot, max_connections> slots;
std::array<std::byte, 1452> packet;
std::array<std::uint8_t, 1024> tcp_buffer;

time_point at(std::uint64_t ms) {
  return time_point(std::chrono::milliseconds(ms));
}

void update_txt(lanyard_accessory* acc, const lanyard_accessory_settings& s, std::uint64_t now) {
  core::accessory_txt_state st;
  st.device_id = device_id;
  st.pairing_window_open = lanyard_accessory_pairing_window_open(acc);
  st.controllers = lanyard_accessory_controller_count(acc);
  st.max_controllers = s.max_controllers;
  std::array<std::uint8_t, core::max_accessory_txt_size> txt;
  if (const std::size_t n = core::encode_accessory_txt(st, txt))
    (void)responder.set_txt(at(now), std::span(txt).first(n));
}

void flush(lanyard_accessory* acc, slot& c, std::uint64_t now) {
  std::size_t n = 0;
  const std::uint8_t* out = lanyard_accessory_output(acc, c.id, &n);
  if (n > 0) lanyard_accessory_consume_output(acc, c.id, port_tcp_send(c.socket, out, n), now);
}

void handle_event(lanyard_accessory* acc, const lanyard_event& ev, std::uint64_t now) {
  switch (ev.kind) {
  case LANYARD_EVENT_MESSAGE: {
    const std::string_view cmd(reinterpret_cast<const char*>(ev.payload), ev.payload_len);
    port_led(cmd == "on", 100);
    const std::string_view answer = cmd == "on" ? "state on" : "state off";
    (void)lanyard_accessory_send(acc, ev.controller,
                                 reinterpret_cast<const std::uint8_t*>(answer.data()),
                                 answer.size(), now, nullptr);
    break;
  }
  case LANYARD_EVENT_CLOSE_CONNECTION:
    for (auto& c : slots)
      if (c.socket >= 0 && c.id == ev.connection) {
        port_tcp_close(c.socket);
        lanyard_accessory_closed(acc, c.id, now);
        c.socket = -1;
      }
    break;
  default:
    break;
  }
}

void send_reading(lanyard_accessory* acc, const std::uint8_t controller[32], std::uint64_t now) {
  core::app_message_writer m("reading");
  m.set("lux", static_cast<std::uint64_t>(std::max(0, port_read_sensor())));
  const std::string_view text = m.text();
  if (text.empty()) return;
  (void)lanyard_accessory_send(acc, controller, reinterpret_cast<const std::uint8_t*>(text.data()),
                               text.size(), now, nullptr);
}

} // namespace

int main() {
  lanyard_accessory_config config;
  lanyard_accessory_config_default(&config);
  config.platform.random = port_random;
  config.platform.load = port_load;
  config.platform.save = port_save;
  config.platform.wall_clock = port_wall_clock;
  config.platform.join_wifi = port_join_wifi;
  lanyard_accessory* acc = nullptr;
  if (lanyard_accessory_create(&config, device_id, &acc) != 0) return 1;
  std::uint64_t now = port_now_ms();
  if (lanyard_accessory_start(acc, now) != 0) return 1;

  core::setup_payload payload;
  payload.device_id = device_id;
  std::string text;
  if (!core::encode_setup_payload(payload, text)) port_show_setup_code(text.data(), text.size());

  core::mdns_responder_config mdns;
  mdns.host_name = device_id;
  mdns.instance_name = "Lamp";
  mdns.port = 7443;
  if (responder.configure(mdns)) return 1;
  const core::mdns_address address = core::mdns_address::ipv4(198, 18, 0, 2);
  (void)responder.interface_up(at(now), 1, std::span(&address, 1));
  update_txt(acc, config.settings, now);

  for (;;) {
    const std::uint64_t deadline = lanyard_accessory_next_deadline(acc);
    const auto mdns_deadline = responder.next_deadline().time_since_epoch();
    const int what = port_wait(std::min<std::uint64_t>(
        deadline,
        static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(mdns_deadline).count())));
    now = port_now_ms();
    if (what == port_mdns) {
      core::mdns_source from;
      int v6 = 0;
      const std::size_t n =
          port_mdns_receive(reinterpret_cast<std::uint8_t*>(packet.data()), packet.size(),
                            &from.interface, from.address.bytes.data(), &v6, &from.port);
      from.address.v6 = v6 != 0;
      responder.on_packet(at(now), from, std::span(packet).first(n));
    } else if (what == port_listener) {
      for (auto& c : slots)
        if (c.socket < 0 && lanyard_accessory_accept(acc, now, &c.id) == 0) {
          c.socket = port_tcp_accept();
          break;
        }
    } else if (what == port_socket) {
      for (auto& c : slots) {
        if (c.socket < 0 || !lanyard_accessory_wants_input(acc, c.id)) continue;
        const std::size_t n = port_tcp_peek(c.socket, tcp_buffer.data(), tcp_buffer.size());
        std::size_t taken = 0;
        if (n == 0) {
          lanyard_accessory_closed(acc, c.id, now);
          c.socket = -1;
        } else if (lanyard_accessory_receive(acc, c.id, tcp_buffer.data(), n, now, &taken) != 0) {
          port_tcp_close(c.socket);
          c.socket = -1;
        } else {
          port_tcp_skip(c.socket, taken);
        }
      }
    }
    lanyard_accessory_handle_deadline(acc, now);
    responder.on_timer(at(now));
    lanyard_event ev;
    while (lanyard_accessory_poll_event(acc, &ev) == 1) {
      handle_event(acc, ev, now);
      if (ev.kind == LANYARD_EVENT_PAIRED) {
        update_txt(acc, config.settings, now);
        send_reading(acc, ev.controller, now);
      }
    }
    for (auto& c : slots)
      if (c.socket >= 0) flush(acc, c, now);
    while (auto out = responder.next_packet(at(now), packet))
      port_mdns_send(out->interface, out->multicast, out->destination.bytes.data(),
                     out->destination.v6, out->port,
                     reinterpret_cast<const std::uint8_t*>(packet.data()), out->size);
    while (auto event = responder.next_event())
      if (event->kind == core::mdns_event_kind::instance_renamed)
        update_txt(acc, config.settings, now);
  }
}
