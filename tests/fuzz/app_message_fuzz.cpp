// libFuzzer target for the application message parser: any bytes in, never a crash, and a
// message that parses re-encodes to exactly the same text (the grammar has one spelling).
// Administration requests (admin_request.hpp) are parsed from every message that names one:
// a request that parses has well-formed fields, and every reply it could get is itself a
// message that parses. The heap-free forms (app_message_view.hpp) agree: the view parser gives
// the same verdict and position, views inside the input, and the writer rebuilds the same text.
#include <lanyard/core/admin_request.hpp>
#include <lanyard/core/app_message.hpp>
#include <lanyard/core/app_message_view.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace lanyard::core;

#define APP_FUZZ_CHECK(cond)                                                                       \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const app_message_parse_result r = parse_app_message(text);
  APP_FUZZ_CHECK(!r.describe().empty());
  const app_message_view_parse_result v = parse_app_message_view(text);
  APP_FUZZ_CHECK(v.code == r.code && v.position == r.position);
  if (v) {
    APP_FUZZ_CHECK(v.message.verb.data() >= text.data() &&
                   v.message.verb.data() + v.message.verb.size() <= text.data() + size);
    app_message_writer w(v.message.verb);
    for (const app_message_field& f : v.message.fields())
      w.set(f.key, f.value);
    APP_FUZZ_CHECK(!w.error() && w.text() == text);
  }
  if (!r) {
    APP_FUZZ_CHECK(r.code.category() == app_message_category());
    APP_FUZZ_CHECK(r.position <= size);
    return 0;
  }
  std::string encoded;
  APP_FUZZ_CHECK(!encode_app_message(r.message, encoded));
  APP_FUZZ_CHECK(encoded == text);
  for (const auto& field : r.message.fields) {
    if (auto decoded = percent_decode(field.second))
      APP_FUZZ_CHECK(percent_decode(percent_encode(*decoded)) == decoded);
  }
  if (is_admin_verb(r.message.verb)) {
    const admin_parse_result a = parse_admin_request(r.message);
    APP_FUZZ_CHECK(a.ok != !a.detail.empty());
    if (const auto* w = std::get_if<admin_requests::window>(&a.request); a.ok && w)
      APP_FUZZ_CHECK(w->duration >= std::chrono::minutes(3) &&
                     w->duration <= std::chrono::minutes(15));
    const std::string name = r.message.fields.empty() ? "" : r.message.fields[0].second;
    for (const std::string& reply :
         {encode_admin_refusal(7, admin_refusal::bad_field, name),
          encode_admin_controller(7, fingerprint{}, paired_role::user, name)})
      APP_FUZZ_CHECK(static_cast<bool>(parse_app_message(reply)));
  }
  return 0;
}
