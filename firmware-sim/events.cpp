#include "events.hpp"

#include <nlohmann/json.hpp>

#include <lanyard/core/display_text.hpp>
#include <lanyard/core/error_condition.hpp>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <variant>

namespace lanyard::sim {
namespace {
std::mutex out_mutex;
bool json_mode = false;

// A field whose value is already JSON; dumped with replacement of bytes that are not UTF-8, so
// what a peer sent cannot break the line.
field raw_field(std::string key, const nlohmann::json& value) {
  field f(std::move(key), value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  f.raw = true;
  return f;
}
} // namespace

void set_json_events(bool on) {
  json_mode = on;
}

std::string json_quote(std::string_view s) {
  // nlohmann's serializer: control characters escaped, bytes that are not UTF-8 replaced by
  // U+FFFD, so whatever a peer sent becomes valid JSON.
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void emit(std::string_view event, const std::vector<field>& fields) {
  std::string line;
  if (json_mode) {
    // The wall-clock time (Unix ms) lets a script measure from an accessory event (advertised,
    // ready) to what the app saw.
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    line = "{\"event\":" + json_quote(event) + ",\"time_ms\":" + std::to_string(now.count());
    for (const field& f : fields)
      line += "," + json_quote(f.key) + ":" + (f.raw ? f.value : json_quote(f.value));
    line += "}";
  } else {
    line = std::string(event) + ":";
    for (const field& f : fields) {
      // Values may carry what a peer sent (a controller's name, a message): escaped so that
      // they cannot drive the terminal. JSON mode escapes by JSON's rules instead.
      const std::string shown = core::display_text(f.value, 64 * 1024);
      const bool quote = shown.empty() || shown.find(' ') != std::string::npos;
      const std::string v = quote ? "\"" + shown + "\"" : shown;
      line += " " + (fields.size() == 1 && f.key == "value" ? v : f.key + "=" + v);
    }
  }
  std::lock_guard<std::mutex> lock(out_mutex);
  std::fprintf(stdout, "%s\n", line.c_str());
  std::fflush(stdout);
}

void emit(std::string_view event, std::initializer_list<field> fields) {
  emit(event, std::vector<field>(fields));
}

void emit_diagnostic(const core::diagnostic& d) {
  if (!json_mode) return emit("log", {{"value", std::string(d.text)}});
  std::vector<field> fields{{"level", std::string(core::to_string(d.level))},
                            {"id", std::string(d.id)}};
  if (d.code) {
    nlohmann::json conditions = nlohmann::json::array();
    for (std::string_view name : core::condition_names(d.code))
      conditions.push_back(name);
    fields.emplace_back("code", core::code_string(d.code));
    fields.push_back(raw_field("conditions", conditions));
  }
  fields.emplace_back("text", std::string(d.text));
  nlohmann::json values = nlohmann::json::object();
  for (const core::field& f : d.fields)
    std::visit([&](const auto& v) { values[std::string(f.key)] = v; }, f.value);
  fields.push_back(raw_field("fields", values));
  emit("diagnostic", fields);
}

void warn(const std::string& text, std::error_code ec) {
  if (ec)
    emit("warning", {{"value", text}, {"code", core::code_string(ec)}});
  else
    emit("warning", {{"value", text}});
}

void print_block(const std::string& text) {
  std::lock_guard<std::mutex> lock(out_mutex);
  std::FILE* f = json_mode ? stderr : stdout;
  std::fputs(text.c_str(), f);
  std::fflush(f);
}

} // namespace lanyard::sim
