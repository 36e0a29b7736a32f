// A tiny program that uses the installed libraries as an application would: the core's TXT
// codec, and the product API on both sides (an accessory's node::node and an app's
// app::controller, opened in a scratch directory on loopback, without avahi-daemon), so that a
// library missing from the CMake export or from lanyard.pc fails to link here.
#include <lanyard/app/controller.hpp>
#include <lanyard/core/txt_record.hpp>
#include <lanyard/node/node.hpp>
#include <lanyard/version.hpp>

#include <asio/io_context.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

int main() {
  namespace fs = std::filesystem;
  lanyard::core::txt_record txt;
  if (auto ec = txt.set("id", "consumer-1")) {
    std::fprintf(stderr, "txt: %s\n", ec.message().c_str());
    return 1;
  }
  char dir_template[] = "/tmp/lanyard-consumer-XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  if (!dir) return std::perror("mkdtemp"), 1;
  int status = 0;
  {
    asio::io_context io;
    lanyard::node::node_options no;
    no.state_dir = fs::path(dir) / "accessory";
    no.device_id = "consumer-1";
    no.listen = {{asio::ip::make_address("127.0.0.1"), 0}};
    no.advertise = false;
    std::unique_ptr<lanyard::node::node> n;
    lanyard::app::controller_options co;
    co.state_dir = fs::path(dir) / "app";
    co.discovery = false;
    std::unique_ptr<lanyard::app::controller> c;
    if (auto e = lanyard::node::node::open(io.get_executor(), no, n)) {
      std::fprintf(stderr, "node: %s\n", e.message().c_str());
      status = 1;
    } else if (auto e2 = lanyard::app::controller::open(io.get_executor(), co, c)) {
      std::fprintf(stderr, "controller: %s\n", e2.message().c_str());
      status = 1;
    } else {
      std::printf("lanyard %.*s, txt has %zu entries, node %s, app %s\n",
                  static_cast<int>(lanyard::version().size()), lanyard::version().data(),
                  txt.size(), lanyard::core::to_short_string(n->fingerprint()).c_str(),
                  lanyard::core::to_short_string(c->fingerprint()).c_str());
      n->close();
    }
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return status == 0 && txt.size() == 1 ? 0 : 1;
}
