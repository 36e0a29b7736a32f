#include "cli_error.hpp"

#include <lanyard/core/error_condition.hpp>

#include <string>
#include <string_view>

namespace lanyard::cli {
namespace {

class cli_category_impl final : public core::lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.cli"; }
  std::string message(int ev) const override {
    switch (static_cast<cli_errc>(ev)) {
    case cli_errc::bad_argument:
      return "bad argument: see the command's --help";
    case cli_errc::unreadable_input:
      return "an input file named on the command line cannot be read";
    }
    return "unknown lanyard.cli error " + std::to_string(ev);
  }
  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<cli_errc>(code)) {
    case cli_errc::bad_argument:
      return "bad_argument";
    case cli_errc::unreadable_input:
      return "unreadable_input";
    }
    return {};
  }
  // The same command line fails the same way: a person must change it.
  core::condition_set conditions(int code) const noexcept override {
    switch (static_cast<cli_errc>(code)) {
    case cli_errc::bad_argument:
    case cli_errc::unreadable_input:
      return {core::condition::permanent};
    }
    return {};
  }
};

} // namespace

const std::error_category& cli_category() noexcept {
  static const cli_category_impl category;
  return category;
}

} // namespace lanyard::cli
