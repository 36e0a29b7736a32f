// One request to an accessory over the channel, as a controller, and its answer: what
// `lanyard controllers` (administration) and `lanyard relay set` (relay settings) do. Connects
// to the accessory (by --address, or found by its id through DNS-SD), sends one CONTROL
// message of `service`, and hands every message of that service to `answer` until it decides;
// messages that arrive before the request's seq is known are handed over once it is.
#pragma once

#include "args.hpp"

#include <lanyard/core/app_message.hpp>
#include <lanyard/core/error_detail.hpp>
#include <lanyard/core/frame.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace lanyard::cli {

/// What to ask.
struct control_request {
  std::string device_id;
  core::message_kind service = core::message_kind::administration;
  std::span<const std::byte> body;
  std::chrono::seconds timeout{10};
};

/// Called with each message of the request's service and the request's seq: nullopt to keep
/// waiting, an error_detail to end (an empty code: done).
using control_answer =
    std::function<std::optional<core::error_detail>(std::span<const std::byte>, std::uint64_t)>;

/// A text answer (`v1 VERB re=SEQ ...`) to request `seq`; nullopt for anything else (a binary
/// body, a text that does not parse, an answer to another request).
std::optional<core::app_message> answer_to(std::span<const std::byte> payload, std::uint64_t seq);

/// Runs the exchange with the identity and trust store of `args` (--identity-dir,
/// --trust-store, --address). Refuses an accessory that is not paired (trust_errc::
/// unknown_device). The outcome: empty code when `answer` said done; else why not (a
/// timeout, the channel's failure, the answer's error, bad --address: cli_errc::bad_argument).
core::error_detail exchange_control(const parsed_args& args, const control_request& request,
                                    const control_answer& answer,
                                    std::shared_ptr<trust::trust_store>* store_out = nullptr);

} // namespace lanyard::cli
