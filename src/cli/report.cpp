#include "report.hpp"

#include <lanyard/core/error_condition.hpp>

#include <cstdint>
#include <cstdio>
#include <variant>

namespace lanyard::cli {

json_writer& write_code(json_writer& w, const std::error_code& ec) {
  if (!ec) return w;
  w.key("code").value(core::code_string(ec));
  w.key("conditions").begin_array();
  for (std::string_view name : core::condition_names(ec))
    w.value(name);
  return w.end_array();
}

json_writer& write_fields(json_writer& w, std::span<const core::field> fields) {
  auto value = [&w](const core::field& f) {
    std::visit([&w](const auto& v) { w.value(v); }, f.value);
  };
  w.key("fields").begin_object();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string_view key = fields[i].key;
    bool seen_before = false, repeated = false;
    for (std::size_t j = 0; j < fields.size(); ++j)
      if (j != i && fields[j].key == key) (j < i ? seen_before : repeated) = true;
    if (seen_before) continue; // written with its first occurrence
    w.key(key);
    if (!repeated) {
      value(fields[i]);
      continue;
    }
    // A key that repeats (one per rejected path, say) becomes one array, in order: JSON objects
    // must not repeat a key, and jq would keep only the last.
    w.begin_array();
    for (std::size_t j = i; j < fields.size(); ++j)
      if (fields[j].key == key) value(fields[j]);
    w.end_array();
  }
  return w.end_object();
}

std::string diagnostic_event(const core::diagnostic& d) {
  json_writer w;
  w.begin_object();
  w.key("event").value("diagnostic");
  w.key("level").value(core::to_string(d.level));
  w.key("id").value(d.id);
  write_code(w, d.code);
  w.key("text").value(d.text);
  write_fields(w, d.fields);
  write_time_ms(w);
  w.end_object();
  return w.str();
}

std::string error_event(const core::error_detail& e, int exit_status) {
  json_writer w;
  w.begin_object();
  w.key("event").value("error");
  write_code(w, e.code);
  w.key("message").value(e.message());
  write_fields(w, e.fields);
  w.key("exit").value(exit_status);
  write_time_ms(w);
  w.end_object();
  return w.str();
}

int report_failure(std::string_view command, bool json, const core::error_detail& e,
                   int exit_status) {
  std::fprintf(stderr, "lanyard %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               e.message().c_str());
  if (json) {
    std::printf("%s\n", error_event(e, exit_status).c_str());
    std::fflush(stdout);
  }
  return exit_status;
}

} // namespace lanyard::cli
