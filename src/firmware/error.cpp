#include <lanyard/core/error_condition.hpp>
#include <lanyard/firmware/error.hpp>

#include <string>

namespace lanyard::firmware {
namespace {

class firmware_category_impl final : public core::lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.firmware"; }

#if LANYARD_ERROR_MESSAGES // else lanyard_category::message() names the code
  std::string message(int value) const override {
    switch (static_cast<firmware_errc>(value)) {
    case firmware_errc::bad_settings:
      return "firmware accessory settings out of range (a capacity of 0, or a receive window "
             "smaller than one maximum message plus 32 bytes)";
    case firmware_errc::platform_incomplete:
      return "the firmware platform seam lacks a callback this needs (storage or random source)";
    case firmware_errc::storage_failed:
      return "the platform's storage failed to read or write; nothing was changed";
    case firmware_errc::storage_corrupt:
      return "stored accessory state is damaged (magic, version, length or checksum); it was "
             "left as it is: erase it to factory-reset";
    case firmware_errc::storage_over_capacity:
      return "stored accessory state holds more controllers than max_controllers";
    case firmware_errc::random_failed:
      return "the platform's random source failed";
    case firmware_errc::unknown_connection:
      return "no such connection (closed already): close the socket";
    case firmware_errc::too_many_connections:
      return "every connection slot holds a session's connection: close the socket";
    case firmware_errc::no_session:
      return "no session with this controller";
    case firmware_errc::not_started:
      return "the firmware accessory was not started (start() not called, or it failed)";
    case firmware_errc::output_full:
      return "a connection's TLS output buffer could not take a frame (tls_output_bytes too "
             "small): the connection was closed, its session resumes on the next one";
    case firmware_errc::not_enough_memory:
      return "not enough memory to start the firmware accessory (its tables, sized by its "
             "settings)";
    case firmware_errc::event_queue_full:
      return "no memory to queue a received message for the application (events not "
             "drained?): the connection was closed and the message lost";
    }
    return "unknown firmware error " + std::to_string(value);
  }
#endif

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<firmware_errc>(code)) {
    case firmware_errc::bad_settings:
      return "bad_settings";
    case firmware_errc::platform_incomplete:
      return "platform_incomplete";
    case firmware_errc::storage_failed:
      return "storage_failed";
    case firmware_errc::storage_corrupt:
      return "storage_corrupt";
    case firmware_errc::storage_over_capacity:
      return "storage_over_capacity";
    case firmware_errc::random_failed:
      return "random_failed";
    case firmware_errc::unknown_connection:
      return "unknown_connection";
    case firmware_errc::too_many_connections:
      return "too_many_connections";
    case firmware_errc::no_session:
      return "no_session";
    case firmware_errc::not_started:
      return "not_started";
    case firmware_errc::output_full:
      return "output_full";
    case firmware_errc::not_enough_memory:
      return "not_enough_memory";
    case firmware_errc::event_queue_full:
      return "event_queue_full";
    }
    return {};
  }

  // Storage and entropy may recover (a flash busy, a pool not seeded yet); the rest are the
  // firmware's mistakes or a person's decision.
  core::condition_set conditions(int code) const noexcept override {
    using enum core::condition;
    switch (static_cast<firmware_errc>(code)) {
    case firmware_errc::storage_failed:
    case firmware_errc::random_failed:
    case firmware_errc::too_many_connections:
      return {transient};
    case firmware_errc::bad_settings:
    case firmware_errc::platform_incomplete:
    case firmware_errc::storage_corrupt:
    case firmware_errc::storage_over_capacity:
    case firmware_errc::not_started:
      return {permanent};
    case firmware_errc::output_full:
    case firmware_errc::event_queue_full:
      return {transient};
    case firmware_errc::not_enough_memory:
      return {permanent};
    case firmware_errc::unknown_connection:
    case firmware_errc::no_session:
      return {};
    }
    return {};
  }
};

} // namespace

const std::error_category& firmware_category() noexcept {
  static const firmware_category_impl c;
  return c;
}

} // namespace lanyard::firmware
