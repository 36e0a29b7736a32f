#include <lanyard/core/diagnostic.hpp>

namespace lanyard::core {

std::string_view to_string(diagnostic_level level) noexcept {
  switch (level) {
  case diagnostic_level::debug:
    return "debug";
  case diagnostic_level::info:
    return "info";
  case diagnostic_level::notice:
    return "notice";
  case diagnostic_level::warning:
    return "warning";
  case diagnostic_level::error:
    return "error";
  }
  return "unknown";
}

const field* diagnostic::find(std::string_view key) const noexcept {
  return find_field(fields, key);
}
std::optional<std::string_view> diagnostic::text_field(std::string_view key) const noexcept {
  return field_text(fields, key);
}
std::optional<std::uint64_t> diagnostic::number(std::string_view key) const noexcept {
  return field_number(fields, key);
}

diagnostic_record diagnostic_record::from(const diagnostic& d) {
  return {d.level, std::string(d.id), d.code, std::string(d.text),
          std::vector<field>(d.fields.begin(), d.fields.end())};
}

diagnostic diagnostic_record::view() const noexcept {
  return {level, id, code, text, fields};
}

const field* diagnostic_record::find(std::string_view key) const noexcept {
  return find_field(fields, key);
}
std::optional<std::string_view> diagnostic_record::text_field(std::string_view key) const noexcept {
  return field_text(fields, key);
}
std::optional<std::uint64_t> diagnostic_record::number(std::string_view key) const noexcept {
  return field_number(fields, key);
}

void emit_diagnostic(const diagnostics_handler& handler,
                     const std::function<void(std::string_view)>& log, const diagnostic& d) {
  if (handler)
    handler(d);
  else if (log)
    log(d.text);
}

} // namespace lanyard::core
