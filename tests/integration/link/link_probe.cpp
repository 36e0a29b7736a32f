// link_probe — a lab helper: connects a TCP socket to ADDR PORT through one interface with
// lanyard::link::async_connect_via, sends one line, prints the reply.
//
//   link_probe --via IF ADDR PORT [--message TEXT]
//
// Exit 0 and "connected local=A device=IF reply=R" on success; on failure exit 3 and print
// "error <category>:<value>: <detail>" so the lab test can check the precise error.
#include "lanyard/link/path_monitor.hpp"
#include "lanyard/link/socket_binding.hpp"

#include <asio/io_context.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

#include <cstdio>
#include <cstring>
#include <istream>
#include <net/if.h>
#include <string>
#include <sys/socket.h>

using namespace lanyard::link;

int main(int argc, char** argv) {
  std::string via, message = "hello";
  std::vector<std::string> pos;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--via" && i + 1 < argc)
      via = argv[++i];
    else if (a == "--message" && i + 1 < argc)
      message = argv[++i];
    else
      pos.push_back(a);
  }
  if (via.empty() || pos.size() != 2) {
    std::fprintf(stderr, "usage: link_probe --via IF ADDR PORT [--message TEXT]\n");
    return 2;
  }
  std::error_code ec;
  auto address = asio::ip::make_address(pos[0], ec);
  if (ec) {
    std::fprintf(stderr, "link_probe: bad address '%s'\n", pos[0].c_str());
    return 2;
  }
  const asio::ip::tcp::endpoint target(address, static_cast<unsigned short>(std::stoi(pos[1])));
  auto report = [](const std::error_code& e, const std::string& detail) {
    std::printf("error %s:%d: %s\n", e.category().name(), e.value(), detail.c_str());
    return 3;
  };

  link_error error;
  auto all = query_interfaces(error);
  if (error) return report(error.code, error.detail);
  const network_interface* iface = nullptr;
  for (auto& i : all)
    if (i.name == via) iface = &i;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  if (!iface) {
    auto e = bind_to_interface(socket, via, address); // names the missing interface
    return report(e.code, e.detail);
  }

  std::error_code result;
  link_error detail;
  async_connect_via(socket, target, *iface, [&](std::error_code e, link_error d) {
    result = e;
    detail = std::move(d);
  });
  io.run();
  if (result) return report(result, detail.detail);

  asio::write(socket, asio::buffer(message + "\n"), ec);
  asio::streambuf buf;
  if (!ec) asio::read_until(socket, buf, '\n', ec);
  if (ec) return report(ec, "exchange with " + pos[0] + " via " + via + " failed: " + ec.message());
  std::istream in(&buf);
  std::string reply;
  std::getline(in, reply);
  char dev[IFNAMSIZ] = {};
  socklen_t len = sizeof dev;
  ::getsockopt(socket.native_handle(), SOL_SOCKET, SO_BINDTODEVICE, dev, &len);
  auto local = socket.local_endpoint().address().to_string();
  std::printf("connected local=%s device=%s reply=%s\n", local.c_str(), dev, reply.c_str());
  return 0;
}
