#include "lanyard/core/admin_request.hpp"

#include <array>

namespace lanyard::core {
namespace {

std::string encode(const app_message& m) {
  std::string text;
  (void)encode_app_message(m, text); // every value written here is within the grammar's limits
  return text;
}

// Free text in a reply: at most 40 bytes, cut on a byte boundary and then percent-encoded (a
// cut inside a UTF-8 sequence only makes the tail undecodable as UTF-8, never the message).
std::string short_text(std::string_view text) {
  return percent_encode(text.substr(0, 40));
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

admin_parse_result parse_admin_request(const app_message& m) {
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

std::string encode_admin_ok(std::uint64_t seq) {
  app_message m("ok");
  m.set("re", seq);
  return encode(m);
}

std::string encode_admin_refusal(std::uint64_t seq, admin_refusal reason, std::string_view detail) {
  app_message m("error");
  m.set("re", seq).set("reason", to_string(reason)).set("detail", short_text(detail));
  return encode(m);
}

std::string encode_admin_controller(std::uint64_t seq, const fingerprint& controller,
                                    paired_role role, std::string_view name) {
  app_message m("controller");
  m.set("re", seq)
      .set("fp", to_string(controller, fingerprint_format::hex))
      .set("role", role == paired_role::admin ? "admin" : "user")
      .set("name", short_text(name));
  return encode(m);
}

std::string encode_admin_list_end(std::uint64_t seq, std::size_t count) {
  app_message m("controllers");
  m.set("re", seq).set("count", static_cast<std::uint64_t>(count));
  return encode(m);
}

} // namespace lanyard::core
