#include "accessory_lines.hpp"

#include "discovery_output.hpp"
#include "json.hpp"

#include <lanyard/core/display_text.hpp>

namespace lanyard::cli {

namespace {

using dk = discovery::directory_event_kind;

bool is_path_event(dk kind) {
  return kind != dk::added && kind != dk::updated && kind != dk::removed;
}

std::string json_line(const discovery::directory_event& d, const app::accessory_info& a) {
  json_writer w;
  w.begin_object();
  w.key("event").value(to_string(d.kind));
  write_time_ms(w);
  w.key("id").value(std::string_view(a.id));
  w.key("name").value(std::string_view(a.name));
  w.key("instances").value(static_cast<std::uint64_t>(a.instances));
  w.key("reachable").value(a.reachable);
  w.key("txt");
  write_txt(w, a.txt);
  w.key("paths").begin_array();
  for (const auto& p : a.paths)
    write_path(w, p);
  w.end_array();
  if (is_path_event(d.kind)) {
    w.key("path");
    write_path(w, d.path);
  }
  w.end_object();
  return w.str();
}

std::string text_line(const discovery::directory_event& d, const app::accessory_info& a) {
  std::string out = std::string(to_string(d.kind)) + " " + core::display_text(a.id) + " '" +
                    core::display_text(a.name) + "'";
  if (is_path_event(d.kind)) return out + " " + path_text(d.path);
  out += " paths:";
  for (const auto& p : a.paths)
    out += " " + path_text(p) + (p.reachable ? "" : "(unreachable)");
  // What it announces (id, pv, sf, ...): the reason to list accessories at all.
  if (d.kind != dk::removed) out += " txt: " + txt_text(a.txt);
  return out;
}

} // namespace

std::vector<std::string> accessory_lines::apply(const app::discovery_event& e) {
  if (e.what_happened == app::discovery_event::kind::discovery_status) return {}; // no accessory
  auto it = accessories_.find(e.info.id);
  if (it == accessories_.end())
    it = accessories_.emplace(e.info.id, discovery_changes(e.info.id)).first;
  std::vector<std::string> out;
  for (const auto& d : it->second.apply(e))
    out.push_back(json_ ? json_line(d, e.info) : text_line(d, e.info));
  // A removed accessory that comes back is `added` again, from a fresh start.
  if (e.what_happened == app::discovery_event::kind::disappeared) accessories_.erase(it);
  return out;
}

} // namespace lanyard::cli
