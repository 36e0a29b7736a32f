#include <lanyard/accessory/controller_admin.hpp>

#include <lanyard/core/pairing_error.hpp>
#include <lanyard/trust/error.hpp>

#include <array>

namespace lanyard::accessory {
namespace {

std::string encode(const core::app_message& m) {
  std::string text;
  (void)core::encode_app_message(m, text); // every value below is within the grammar's limits
  return text;
}

std::string refusal(std::uint64_t seq, const char* reason, const std::string& detail) {
  core::app_message e("error");
  e.set("re", seq).set("reason", reason).set("detail", core::percent_encode(detail.substr(0, 40)));
  return encode(e);
}

std::string ok(std::uint64_t seq) {
  core::app_message m("ok");
  m.set("re", seq);
  return encode(m);
}

std::string reason_of(const trust::store_status& s) {
  if (s.code == trust::trust_errc::not_admin) return "not_admin";
  if (s.code == trust::trust_errc::not_paired) return "not_paired";
  if (s.code == trust::trust_errc::last_admin) return "last_admin";
  if (s.code == core::pairing_errc::invalid_timeout) return "bad_field";
  return "storage";
}

bool parse_fp(const core::app_message& m, core::fingerprint& out) {
  const auto v = m.get("fp");
  if (!v) return false;
  const auto r = core::parse_fingerprint(*v);
  if (!r) return false;
  out = r.value;
  return true;
}

} // namespace

bool handle_admin_message(trust::controller_store& store, const core::fingerprint& from,
                          std::uint64_t seq, const core::app_message& m,
                          std::chrono::system_clock::time_point now,
                          std::vector<std::string>& replies) {
  static constexpr std::array<std::string_view, 4> verbs = {"controllers", "controller_remove",
                                                            "controller_role", "pairing_window"};
  bool known = false;
  for (std::string_view v : verbs)
    known = known || m.verb == v;
  if (!known) return false;
  replies.clear();
  const auto me = store.find(from);
  if (!me || me->role != trust::controller_role::admin) {
    replies.push_back(refusal(seq, "not_admin", "only an admin manages controllers"));
    return true;
  }
  if (m.verb == "controllers") {
    const auto list = store.list();
    for (const auto& c : list) {
      core::app_message r("controller");
      r.set("re", seq)
          .set("fp", core::to_string(c.fingerprint, core::fingerprint_format::hex))
          .set("role", trust::to_string(c.role))
          .set("name", core::percent_encode(c.name.substr(0, 40)));
      replies.push_back(encode(r));
    }
    core::app_message end("controllers");
    end.set("re", seq).set("count", static_cast<std::uint64_t>(list.size()));
    replies.push_back(encode(end));
    return true;
  }
  if (m.verb == "pairing_window") {
    const auto open = m.get_uint("open", 0, 1);
    const auto minutes =
        m.get("minutes") ? m.get_uint("minutes", 3, 15) : std::optional<std::uint64_t>(15);
    if (!open || !minutes) {
      replies.push_back(refusal(seq, "bad_field", "open=0|1 [minutes=3..15]"));
      return true;
    }
    const trust::store_status s =
        *open ? store.open_window_by(from, now, std::chrono::minutes(*minutes))
              : store.close_window();
    replies.push_back(s.failed() ? refusal(seq, reason_of(s).c_str(), s.message()) : ok(seq));
    return true;
  }
  core::fingerprint fp;
  if (!parse_fp(m, fp)) {
    replies.push_back(refusal(seq, "bad_field", "fp=64 hex digits"));
    return true;
  }
  trust::store_status s;
  if (m.verb == "controller_remove") {
    s = store.remove(fp);
  } else {
    const auto role = m.get("role");
    if (!role || (*role != "admin" && *role != "user")) {
      replies.push_back(refusal(seq, "bad_field", "role=admin|user"));
      return true;
    }
    s = store.set_role(
        from, fp, *role == "admin" ? trust::controller_role::admin : trust::controller_role::user);
  }
  replies.push_back(s.failed() ? refusal(seq, reason_of(s).c_str(), s.message()) : ok(seq));
  return true;
}

} // namespace lanyard::accessory
