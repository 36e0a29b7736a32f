// A tiny program that uses both installed libraries, as an application would.
#include <lanyard/core/txt_record.hpp>
#include <lanyard/version.hpp>

#include <cstdio>

int main() {
  lanyard::core::txt_record txt;
  if (auto ec = txt.set("id", "consumer-1")) {
    std::fprintf(stderr, "txt: %s\n", ec.message().c_str());
    return 1;
  }
  std::printf("lanyard %.*s, txt has %zu entries\n", static_cast<int>(lanyard::version().size()),
              lanyard::version().data(), txt.size());
  return txt.size() == 1 ? 0 : 1;
}
