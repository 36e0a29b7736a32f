#include "behaviour.hpp"

#include <cmath>
#include <cstdio>

namespace lanyard::sim {

behaviour::behaviour(device_kind kind, std::string id, std::string name)
    : kind_(kind), id_(std::move(id)), name_(std::move(name)) {}

core::app_message behaviour::error(std::uint64_t seq, const char* reason,
                                   const std::string& detail) {
  core::app_message m("error");
  m.set("re", seq).set("reason", reason).set("detail", core::percent_encode(detail.substr(0, 40)));
  return m;
}

core::app_message behaviour::reading_message() const {
  // A smooth, deterministic curve: tests can check values and order without a clock.
  const double t = 21.0 + 2.0 * std::sin(static_cast<double>(reading_n_) / 10.0);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", t);
  core::app_message m("reading");
  m.set("n", reading_n_).set("temperature_c", buf);
  return m;
}

core::app_message behaviour::state() const {
  if (kind_ == device_kind::sensor) return reading_message();
  core::app_message m("state");
  m.set("kind", "lamp").set("on", on_ ? "1" : "0").set("brightness", std::uint64_t{brightness_});
  return m;
}

core::app_message behaviour::next_reading() {
  ++reading_n_;
  return reading_message();
}

behaviour::outcome behaviour::handle(std::span<const std::byte> payload, std::uint64_t seq) {
  outcome o;
  const core::app_message_parse_result r = core::parse_app_message(payload);
  if (!r) {
    o.reply = error(seq,
                    r.code == core::app_message_errc::unsupported_version ? "unsupported_version"
                                                                          : "bad_message",
                    r.code.message());
    return o;
  }
  const core::app_message& m = r.message;
  auto with_re = [seq](core::app_message reply) {
    core::app_message out(reply.verb);
    out.set("re", seq);
    for (const auto& [k, v] : reply.fields)
      out.set(k, v);
    return out;
  };
  if (m.verb == "get") {
    o.reply = with_re(state());
  } else if (m.verb == "ping") {
    o.reply = with_re(core::app_message("pong"));
  } else if (m.verb == "info") {
    core::app_message info("info");
    info.set("kind", to_string(kind_))
        .set("id", id_)
        .set("name", core::percent_encode(name_))
        .set("model", std::string("lanyard-sim-") + to_string(kind_))
        .set("fw", "0.1.0");
    o.reply = with_re(info);
  } else if ((m.verb == "set" || m.verb == "toggle") && kind_ != device_kind::lamp) {
    o.reply = error(seq, "not_supported", "a sensor has no " + m.verb);
  } else if (m.verb == "toggle") {
    on_ = !on_;
    o.state_changed = true;
    o.reply = with_re(state());
  } else if (m.verb == "set") {
    // Validate every field before changing anything: a bad request changes nothing.
    std::optional<bool> on;
    std::optional<unsigned> brightness;
    for (const auto& [k, v] : m.fields) {
      if (k == "on" && (v == "0" || v == "1")) {
        on = v == "1";
      } else if (k == "brightness" && m.get_uint("brightness", 0, 100)) {
        brightness = static_cast<unsigned>(*m.get_uint("brightness", 0, 100));
      } else {
        o.reply = error(seq, "bad_field", k + "=" + v + " (expected on=0|1, brightness=0..100)");
        return o;
      }
    }
    if (!on && !brightness) {
      o.reply = error(seq, "bad_field", "set needs on=0|1 and/or brightness=0..100");
      return o;
    }
    o.state_changed = (on && *on != on_) || (brightness && *brightness != brightness_);
    if (on) on_ = *on;
    if (brightness) brightness_ = *brightness;
    o.reply = with_re(state());
  } else {
    o.reply = error(seq, "unknown_verb", m.verb);
  }
  return o;
}

} // namespace lanyard::sim
