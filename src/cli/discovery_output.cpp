#include "discovery_output.hpp"

#include <lanyard/core/display_text.hpp>
#include <lanyard/link/interface_kind.hpp>

#include <cstdint>
#include <span>

namespace lanyard::cli {

namespace {

std::string base64_of(const std::string& bytes) {
  return base64({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

} // namespace

void write_txt(json_writer& w, const core::txt_record& txt) {
  w.begin_object();
  for (const auto& e : txt) {
    w.key(e.key);
    if (!e.value) {
      w.value(true);
    } else if (is_utf8(*e.value)) {
      w.value(std::string_view(*e.value));
    } else {
      w.begin_object();
      w.key("base64");
      w.value(base64_of(*e.value));
      w.end_object();
    }
  }
  w.end_object();
}

std::string txt_text(const core::txt_record& txt) {
  std::string out;
  for (const auto& e : txt) {
    if (!out.empty()) out += ' ';
    out += core::display_text(e.key);
    if (!e.value) continue;
    out += '=';
    if (is_utf8(*e.value))
      out += core::display_text(*e.value); // valid UTF-8 may still carry ESC and bidi controls
    else
      out += "base64:" + base64_of(*e.value);
  }
  return out;
}

void write_interface(json_writer& w, const discovery::interface_info& i) {
  w.key("interface").value(std::string_view(i.name));
  w.key("interface_index").value(i.index);
  w.key("interface_kind").value(core::to_string(i.kind));
}

void write_path(json_writer& w, const discovery::accessory_path& p) {
  w.begin_object();
  write_interface(w, p.interface);
  w.key("address").value(p.address.to_string());
  w.key("port").value(static_cast<unsigned>(p.port));
  w.key("reachable").value(p.reachable);
  w.end_object();
}

std::string path_text(const discovery::accessory_path& p) {
  return p.interface.name + "/" + p.address.to_string() + ":" + std::to_string(p.port);
}

} // namespace lanyard::cli
