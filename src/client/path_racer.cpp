#include "path_racer.hpp"

#include "path_racer_impl.hpp"

#include <lanyard/link/socket_binding.hpp>

namespace lanyard::client::detail {

socket_connector::next_layer_type socket_connector::make(asio::any_io_executor ex, std::size_t) {
  return next_layer_type(asio::ip::tcp::socket(ex));
}

std::error_code socket_connector::open(next_layer_type& s, asio::ip::tcp family,
                                       link::transport_protocol transport) {
  return link::open_socket(*s.socket(), family, transport);
}

std::error_code socket_connector::bind(next_layer_type& s, const link::network_interface& iface,
                                       const asio::ip::address& destination) {
  return link::bind_to_interface(*s.socket(), iface, destination).code;
}

std::error_code socket_connector::configure(next_layer_type& s,
                                            std::chrono::milliseconds user_timeout) {
  return channel::detail::configure_socket(*s.socket(), user_timeout);
}

template class basic_path_racer<socket_connector>;

} // namespace lanyard::client::detail
