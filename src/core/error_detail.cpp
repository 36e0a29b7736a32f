#include <lanyard/core/error_detail.hpp>

namespace lanyard::core {

std::string error_detail::message() const {
  if (!code) return "ok";
  if (!detail.empty()) return detail;
  return code.message();
}

const field* find_field(std::span<const field> fields, std::string_view key) noexcept {
  for (const field& f : fields)
    if (f.key == key) return &f;
  return nullptr;
}

std::optional<std::string_view> field_text(std::span<const field> fields,
                                           std::string_view key) noexcept {
  const field* f = find_field(fields, key);
  if (!f) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(&f->value)) return std::string_view(*s);
  return std::nullopt;
}

std::optional<std::uint64_t> field_number(std::span<const field> fields,
                                          std::string_view key) noexcept {
  const field* f = find_field(fields, key);
  if (!f) return std::nullopt;
  if (const auto* u = std::get_if<std::uint64_t>(&f->value)) return *u;
  if (const auto* i = std::get_if<std::int64_t>(&f->value); i && *i >= 0)
    return static_cast<std::uint64_t>(*i);
  return std::nullopt;
}

const field* error_detail::find(std::string_view key) const noexcept {
  return find_field(fields, key);
}

std::optional<std::string_view> error_detail::text(std::string_view key) const noexcept {
  return field_text(fields, key);
}

std::optional<std::uint64_t> error_detail::number(std::string_view key) const noexcept {
  return field_number(fields, key);
}

} // namespace lanyard::core
