#include "lanyard/core/mdns_error.hpp"

#include "lanyard/core/error_condition.hpp"

#include <string>
#include <string_view>

namespace lanyard::core {
namespace {

class mdns_category_impl final : public lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.mdns"; }

#if LANYARD_ERROR_MESSAGES // else lanyard_category::message() names the code
  std::string message(int value) const override {
    switch (static_cast<mdns_errc>(value)) {
    case mdns_errc::header_truncated:
      return "DNS message shorter than its 12-byte header";
    case mdns_errc::record_truncated:
      return "DNS message truncated: a question or resource record runs past its end";
    case mdns_errc::name_truncated:
      return "DNS name truncated: its labels run past the end of the message";
    case mdns_errc::label_too_long:
      return "DNS label length byte is 64-191: labels hold at most 63 bytes, and these values "
             "are no compression pointer";
    case mdns_errc::name_too_long:
      return "DNS name longer than 255 bytes once decompressed";
    case mdns_errc::pointer_out_of_range:
      return "DNS compression pointer points past the end of the message";
    case mdns_errc::compression_loop:
      return "DNS compression pointer does not point backwards (a loop or a forward reference)";
    case mdns_errc::bad_rdata:
      return "DNS record data does not have the shape its type requires";
    case mdns_errc::wrong_type:
      return "DNS record accessor asked for another type than the record has";
    case mdns_errc::no_space:
      return "DNS message buffer full: the record does not fit (nothing of it was written)";
    case mdns_errc::invalid_name:
      return "not a valid DNS name in wire form (labels of 1-63 bytes, at most 255 bytes, ending "
             "in a zero byte)";
    case mdns_errc::section_order:
      return "DNS message sections must be written in order: questions, answers, authority, "
             "additional";
    case mdns_errc::invalid_host_name:
      return "mDNS host name must be one DNS label of 1-63 bytes (\".local\" is added)";
    case mdns_errc::invalid_instance_name:
      return "DNS-SD service instance name must be one DNS label of 1-63 bytes";
    case mdns_errc::invalid_service_type:
      return "DNS-SD service type must be \"_name._tcp\" or \"_name._udp\" with a name of 1-15 "
             "characters";
    case mdns_errc::txt_too_large:
      return "TXT record larger than the mDNS responder holds (mdns_limits::max_txt_size)";
    case mdns_errc::invalid_txt:
      return "TXT record is not valid wire form";
    case mdns_errc::too_many_interfaces:
      return "more interfaces than the mDNS responder holds (mdns_limits::max_interfaces)";
    case mdns_errc::too_many_addresses:
      return "more addresses on one interface than the mDNS responder holds "
             "(mdns_limits::max_addresses_per_interface)";
    case mdns_errc::stopped:
      return "the mDNS responder was stopped";
    case mdns_errc::not_configured:
      return "the mDNS responder has no configuration: call configure() first";
    }
    return "unknown mDNS error " + std::to_string(value);
  }
#endif

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<mdns_errc>(code)) {
    case mdns_errc::header_truncated:
      return "header_truncated";
    case mdns_errc::record_truncated:
      return "record_truncated";
    case mdns_errc::name_truncated:
      return "name_truncated";
    case mdns_errc::label_too_long:
      return "label_too_long";
    case mdns_errc::name_too_long:
      return "name_too_long";
    case mdns_errc::pointer_out_of_range:
      return "pointer_out_of_range";
    case mdns_errc::compression_loop:
      return "compression_loop";
    case mdns_errc::bad_rdata:
      return "bad_rdata";
    case mdns_errc::wrong_type:
      return "wrong_type";
    case mdns_errc::no_space:
      return "no_space";
    case mdns_errc::invalid_name:
      return "invalid_name";
    case mdns_errc::section_order:
      return "section_order";
    case mdns_errc::invalid_host_name:
      return "invalid_host_name";
    case mdns_errc::invalid_instance_name:
      return "invalid_instance_name";
    case mdns_errc::invalid_service_type:
      return "invalid_service_type";
    case mdns_errc::txt_too_large:
      return "txt_too_large";
    case mdns_errc::invalid_txt:
      return "invalid_txt";
    case mdns_errc::too_many_interfaces:
      return "too_many_interfaces";
    case mdns_errc::too_many_addresses:
      return "too_many_addresses";
    case mdns_errc::stopped:
      return "stopped";
    case mdns_errc::not_configured:
      return "not_configured";
    }
    return {};
  }

  // A peer's malformed packet is a protocol violation; the rest are this program's mistakes or
  // limits. None is worth retrying unchanged.
  condition_set conditions(int code) const noexcept override {
    using enum condition;
    switch (static_cast<mdns_errc>(code)) {
    case mdns_errc::header_truncated:
    case mdns_errc::record_truncated:
    case mdns_errc::name_truncated:
    case mdns_errc::label_too_long:
    case mdns_errc::name_too_long:
    case mdns_errc::pointer_out_of_range:
    case mdns_errc::compression_loop:
    case mdns_errc::bad_rdata:
      return {protocol_violation, permanent};
    case mdns_errc::wrong_type:
    case mdns_errc::no_space:
    case mdns_errc::invalid_name:
    case mdns_errc::section_order:
    case mdns_errc::invalid_host_name:
    case mdns_errc::invalid_instance_name:
    case mdns_errc::invalid_service_type:
    case mdns_errc::txt_too_large:
    case mdns_errc::invalid_txt:
    case mdns_errc::too_many_interfaces:
    case mdns_errc::too_many_addresses:
    case mdns_errc::stopped:
    case mdns_errc::not_configured:
      return {permanent};
    }
    return {};
  }
};

} // namespace

const std::error_category& mdns_category() noexcept {
  static const mdns_category_impl category;
  return category;
}

} // namespace lanyard::core
