#include "lanyard/core/admin_request.hpp"

#include <array>

namespace lanyard::core {
namespace {

// Free text in a reply: at most 40 bytes, cut on a byte boundary and then percent-encoded (a
// cut inside a UTF-8 sequence only makes the tail undecodable as UTF-8, never the message).
// Room for the worst case: 40 bytes of 3 each.
struct short_text {
  explicit short_text(std::string_view text) noexcept
      : size(percent_encode(text.substr(0, 40), std::span(room))) {}
  std::string_view view() const noexcept { return {room.data(), size}; }
  std::array<char, 120> room;
  std::size_t size;
};

// 64 lowercase hex digits, as to_string(fp, fingerprint_format::hex) writes them.
std::array<char, 64> hex_of(const fingerprint& fp) noexcept {
  static constexpr char digits[] = "0123456789abcdef";
  std::array<char, 64> out{};
  for (std::size_t i = 0; i < fp.bytes.size(); ++i) {
    out[2 * i] = digits[fp.bytes[i] >> 4];
    out[2 * i + 1] = digits[fp.bytes[i] & 0x0f];
  }
  return out;
}

std::string as_string(const app_message_writer& w) {
  // Every value written here is within the grammar's limits: the writer never fails.
  return std::string(w.text());
}

} // namespace

std::string_view to_string(admin_refusal r) noexcept {
  switch (r) {
  case admin_refusal::not_admin:
    return "not_admin";
  case admin_refusal::not_paired:
    return "not_paired";
  case admin_refusal::last_admin:
    return "last_admin";
  case admin_refusal::bad_field:
    return "bad_field";
  case admin_refusal::storage:
    return "storage";
  }
  return "storage";
}

bool is_admin_verb(std::string_view verb) noexcept {
  static constexpr std::array<std::string_view, 4> verbs = {"controllers", "controller_remove",
                                                            "controller_role", "pairing_window"};
  for (std::string_view v : verbs)
    if (verb == v) return true;
  return false;
}

admin_parse_result parse_admin_request(const app_message& m) noexcept {
  return parse_admin_request(view_of(m));
}

admin_parse_result parse_admin_request(const app_message_view& m) noexcept {
  admin_parse_result r;
  if (m.verb == "controllers") {
    r.request = admin_requests::list{};
    r.ok = true;
    return r;
  }
  if (m.verb == "pairing_window") {
    const auto open = m.get_uint("open", 0, 1);
    const auto minutes =
        m.get("minutes") ? m.get_uint("minutes", 3, 15) : std::optional<std::uint64_t>(15);
    if (!open || !minutes) {
      r.detail = "open=0|1 [minutes=3..15]";
      return r;
    }
    r.request = admin_requests::window{*open == 1, std::chrono::minutes(*minutes)};
    r.ok = true;
    return r;
  }
  if (m.verb != "controller_remove" && m.verb != "controller_role") {
    r.detail = "not an administration verb";
    return r;
  }
  const auto fp_text = m.get("fp");
  const auto fp = fp_text ? parse_fingerprint(*fp_text) : fingerprint_parse_result{};
  if (!fp_text || !fp) {
    r.detail = "fp=64 hex digits";
    return r;
  }
  if (m.verb == "controller_remove") {
    r.request = admin_requests::remove{fp.value};
    r.ok = true;
    return r;
  }
  const auto role = m.get("role");
  if (!role || (*role != "admin" && *role != "user")) {
    r.detail = "role=admin|user";
    return r;
  }
  r.request =
      admin_requests::set_role{fp.value, *role == "admin" ? paired_role::admin : paired_role::user};
  r.ok = true;
  return r;
}

app_message_writer admin_ok_reply(std::uint64_t seq) noexcept {
  app_message_writer w("ok");
  w.set("re", seq);
  return w;
}

app_message_writer admin_refusal_reply(std::uint64_t seq, admin_refusal reason,
                                       std::string_view detail) noexcept {
  const short_text text(detail);
  app_message_writer w("error");
  w.set("re", seq).set("reason", to_string(reason)).set("detail", text.view());
  return w;
}

app_message_writer admin_controller_reply(std::uint64_t seq, const fingerprint& controller,
                                          paired_role role, std::string_view name) noexcept {
  const short_text text(name);
  const std::array<char, 64> hex = hex_of(controller);
  app_message_writer w("controller");
  w.set("re", seq)
      .set("fp", std::string_view(hex.data(), hex.size()))
      .set("role", role == paired_role::admin ? "admin" : "user")
      .set("name", text.view());
  return w;
}

app_message_writer admin_list_end_reply(std::uint64_t seq, std::size_t count) noexcept {
  app_message_writer w("controllers");
  w.set("re", seq).set("count", static_cast<std::uint64_t>(count));
  return w;
}

std::string encode_admin_ok(std::uint64_t seq) {
  return as_string(admin_ok_reply(seq));
}

std::string encode_admin_refusal(std::uint64_t seq, admin_refusal reason, std::string_view detail) {
  return as_string(admin_refusal_reply(seq, reason, detail));
}

std::string encode_admin_controller(std::uint64_t seq, const fingerprint& controller,
                                    paired_role role, std::string_view name) {
  return as_string(admin_controller_reply(seq, controller, role, name));
}

std::string encode_admin_list_end(std::uint64_t seq, std::size_t count) {
  return as_string(admin_list_end_reply(seq, count));
}

} // namespace lanyard::core
