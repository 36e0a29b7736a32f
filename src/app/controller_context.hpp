// What a controller shares with its devices. A device keeps it alive, so a device the app
// still holds works on after its controller is gone (without new discovery results).
//
// Thread-safety: one executor.
#pragma once

#include <lanyard/app/controller_options.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <asio/any_io_executor.hpp>

#include <memory>

namespace lanyard::app::detail {

struct controller_context {
  asio::any_io_executor executor;
  tls::context tls;
  std::shared_ptr<trust::trust_store> store;
  /// Written by the controller's browser only.
  std::shared_ptr<discovery::directory> directory;
  controller_options options;
};

} // namespace lanyard::app::detail
