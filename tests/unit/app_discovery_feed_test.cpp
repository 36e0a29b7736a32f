// What app::accessory_browser and app::controller report of discovery, driven without Avahi:
// made-up browse events into their shared feed (src/app/discovery_feed.hpp), accessories and
// pulled discovery events out. Merging by id across interfaces, the instance count, `paired`
// from the trust store, the hook a controller feeds its devices with, and the queue: its bound
// (accessory_browser::max_queued_events), one taker, cancellation, abort and resume.
#include "app/discovery_feed.hpp"

#include <lanyard/app/accessory_browser.hpp>
#include <lanyard/discovery/error.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include "support/io_test_support.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using lanyard::app::accessory_change;
using lanyard::app::discovery_event;
using lanyard::app::detail::discovery_feed;
using namespace lanyard::discovery;
using lanyard::link::interface_kind;
namespace app = lanyard::app;

namespace {

const interface_info wlan0{2, "wlan0", interface_kind::wifi};
const interface_info p2p0{3, "p2p0", interface_kind::p2p};

// An instance named after its id unless it is lamp-1 ("Lamp"): one instance name per id,
// since an instance that changes its id leaves its old accessory.
service_instance instance(const interface_info& i, const char* address, const std::string& id,
                          const char* sf = "1") {
  service_instance s;
  s.name = id == "lamp-1" ? std::string("Lamp") : "Lamp " + id;
  s.type = "_lanyard._tcp";
  s.domain = "local";
  s.interface = i;
  s.protocol = ip_protocol::ipv4;
  s.host = "lamp.local";
  s.port = 4433;
  s.addresses = {asio::ip::make_address(address)};
  REQUIRE_FALSE(s.txt.set("id", id));
  REQUIRE_FALSE(s.txt.set("sf", sf));
  return s;
}

browse_event added(service_instance s) {
  return {browse_event_kind::added, std::move(s)};
}

// One pulled result: the completion's error and event, once it ran.
struct taken {
  bool done = false;
  std::error_code ec;
  discovery_event e;
};

void take(discovery_feed& f, asio::io_context& io, taken& t) {
  f.next(lanyard::channel::completion<discovery_event>(
      [&t](std::error_code ec, discovery_event e) {
        t.done = true;
        t.ec = ec;
        t.e = std::move(e);
      },
      io.get_executor()));
}

// The next result, pulled and run to completion.
taken take_now(discovery_feed& f, asio::io_context& io) {
  taken t;
  take(f, io, t);
  io.restart();
  io.poll();
  REQUIRE(t.done);
  return t;
}

std::shared_ptr<discovery_feed>
make_feed(asio::io_context& io, std::shared_ptr<const lanyard::trust::trust_store> s = {}) {
  return std::make_shared<discovery_feed>(io.get_executor(), std::move(s),
                                          app::accessory_browser::max_queued_events);
}

std::error_code daemon_unavailable_code() {
  return discovery_errc::daemon_unavailable;
}

} // namespace

TEST_CASE("app discovery: one accessory on two interfaces, with its TXT and instance count",
          "[app]") {
  asio::io_context io;
  auto feed = make_feed(io);
  feed->apply(added(instance(wlan0, "198.18.1.3", "lamp-1")));
  feed->apply(added(instance(p2p0, "198.18.2.3", "lamp-1")));

  const taken first = take_now(*feed, io);
  REQUIRE_FALSE(first.ec);
  CHECK(first.e.what_happened == discovery_event::kind::appeared);
  CHECK(first.e.info.id == "lamp-1");
  CHECK(first.e.info.name == "Lamp");
  CHECK(first.e.info.pairing_window_open);
  CHECK(first.e.info.reachable);
  CHECK_FALSE(first.e.info.paired); // no trust store
  CHECK(first.e.info.instances == 1);
  CHECK(first.e.info.paths.size() == 1);

  const taken second = take_now(*feed, io);
  REQUIRE_FALSE(second.ec);
  CHECK(second.e.what_happened == discovery_event::kind::changed);
  CHECK(second.e.what == accessory_change::paths);
  CHECK(second.e.info.instances == 2);
  REQUIRE(second.e.info.paths.size() == 2);
  CHECK(second.e.info.paths[0].interface == wlan0);
  CHECK(second.e.info.paths[1].interface == p2p0);
  CHECK(feed->queued() == 0);

  const auto list = feed->accessories();
  REQUIRE(list.size() == 1);
  CHECK(list[0].id == "lamp-1");
  CHECK(list[0].instances == 2);

  // The window closes (TXT sf=0 on one interface): a txt change.
  feed->apply({browse_event_kind::updated, instance(wlan0, "198.18.1.3", "lamp-1", "0")});
  const taken txt = take_now(*feed, io);
  CHECK(txt.e.what_happened == discovery_event::kind::changed);
  CHECK(has(txt.e.what, accessory_change::txt));
  CHECK_FALSE(txt.e.info.pairing_window_open);

  // Both instances leave: it disappears once, with no instance left and not reachable.
  feed->apply({browse_event_kind::removed, instance(wlan0, "198.18.1.3", "lamp-1", "0")});
  feed->apply({browse_event_kind::removed, instance(p2p0, "198.18.2.3", "lamp-1")});
  CHECK(take_now(*feed, io).e.what == accessory_change::paths);
  const taken gone = take_now(*feed, io);
  CHECK(gone.e.what_happened == discovery_event::kind::disappeared);
  CHECK_FALSE(gone.e.info.reachable);
  CHECK(gone.e.info.instances == 0);
  CHECK(feed->accessories().empty());
}

TEST_CASE("app discovery: paired comes from the trust store; pinned ones that are away are listed",
          "[app]") {
  asio::io_context io;
  lanyard::test::temp_dir dir("lanyard-app-feed");
  auto store = std::make_shared<lanyard::trust::trust_store>(dir.path / "trust-store.json");
  REQUIRE_FALSE(store->load().failed());
  const auto fp = lanyard::test::make_identity("lamp-1").fingerprint();
  REQUIRE_FALSE(store
                    ->pin("lamp-1", fp, lanyard::trust::pin_method::tofu, "Lamp",
                          std::chrono::system_clock::now())
                    .failed());
  REQUIRE_FALSE(store
                    ->pin("away-1", fp, lanyard::trust::pin_method::tofu, "Away",
                          std::chrono::system_clock::now())
                    .failed());
  auto feed = make_feed(io, store);
  feed->apply(added(instance(wlan0, "198.18.1.3", "lamp-1")));
  feed->apply(added(instance(wlan0, "198.18.1.4", "other-1")));

  CHECK(take_now(*feed, io).e.info.paired);       // lamp-1
  CHECK_FALSE(take_now(*feed, io).e.info.paired); // other-1
  const auto list = feed->accessories();
  REQUIRE(list.size() == 3);
  CHECK(list[0].id == "away-1");
  CHECK(list[0].paired);
  CHECK_FALSE(list[0].reachable);
  CHECK(list[0].instances == 0);
  CHECK(list[1].id == "lamp-1");
  CHECK(list[1].paired);
  CHECK(list[1].reachable);
  CHECK(list[2].id == "other-1");
  CHECK_FALSE(list[2].paired);
  CHECK(feed->describe("away-1").paired);
  CHECK(feed->describe("nobody").id == "nobody");
}

TEST_CASE("app discovery: the directory's changes reach the hook before they are queued", "[app]") {
  asio::io_context io;
  auto feed = make_feed(io);
  std::vector<directory_event_kind> seen;
  std::size_t queued_then = 99;
  feed->on_directory_changes([&](std::span<const directory_event> changes) {
    queued_then = feed->queued();
    for (const auto& c : changes)
      seen.push_back(c.kind);
  });
  feed->apply(added(instance(wlan0, "198.18.1.3", "lamp-1")));
  CHECK(seen == std::vector{directory_event_kind::added, directory_event_kind::path_added});
  CHECK(queued_then == 0);
  CHECK(feed->queued() == 1);
  // The directory a controller's channels read is the one the feed writes.
  REQUIRE(feed->directory()->find("lamp-1") != nullptr);

  // The same instance again changes nothing: no hook, no event.
  seen.clear();
  feed->apply({browse_event_kind::updated, instance(wlan0, "198.18.1.3", "lamp-1")});
  CHECK(seen.empty());
  CHECK(feed->queued() == 1);
}

TEST_CASE("app discovery: at most max_queued_events changes wait; the oldest go", "[app]") {
  asio::io_context io;
  auto feed = make_feed(io);
  constexpr std::size_t bound = app::accessory_browser::max_queued_events;
  STATIC_REQUIRE(bound == 1024);
  for (std::size_t i = 0; i < bound + 6; ++i)
    feed->apply(added(instance(wlan0, "198.18.1.3", "acc-" + std::to_string(i))));
  CHECK(feed->queued() == bound);
  // The first six were dropped; the rest come in order. accessories() has them all.
  CHECK(take_now(*feed, io).e.info.id == "acc-6");
  CHECK(take_now(*feed, io).e.info.id == "acc-7");
  CHECK(feed->queued() == bound - 2);
  CHECK(feed->accessories().size() == bound + 6);
}

TEST_CASE("app discovery: one taker; it waits, is never completed inline, and can be cancelled",
          "[app]") {
  asio::io_context io;
  auto feed = make_feed(io);
  taken waiting;
  asio::cancellation_signal cancel;
  feed->next(lanyard::channel::completion<discovery_event>(
      asio::bind_cancellation_slot(cancel.slot(),
                                   [&](std::error_code ec, discovery_event e) {
                                     waiting.done = true;
                                     waiting.ec = ec;
                                     waiting.e = std::move(e);
                                   }),
      io.get_executor()));
  io.poll();
  CHECK_FALSE(waiting.done);

  // A second taker is refused while the first waits.
  CHECK(take_now(*feed, io).ec == asio::error::in_progress);
  CHECK_FALSE(waiting.done);

  // A change completes the waiting taker, through the executor.
  feed->apply(added(instance(wlan0, "198.18.1.3", "lamp-1")));
  CHECK_FALSE(waiting.done);
  io.restart();
  io.poll();
  REQUIRE(waiting.done);
  CHECK_FALSE(waiting.ec);
  CHECK(waiting.e.info.id == "lamp-1");

  // Per-operation cancellation: operation_aborted; changes that come later stay queued.
  waiting = {};
  feed->next(lanyard::channel::completion<discovery_event>(
      asio::bind_cancellation_slot(cancel.slot(),
                                   [&](std::error_code ec, discovery_event) {
                                     waiting.done = true;
                                     waiting.ec = ec;
                                   }),
      io.get_executor()));
  cancel.emit(asio::cancellation_type::terminal);
  io.restart();
  io.poll();
  REQUIRE(waiting.done);
  CHECK(waiting.ec == asio::error::operation_aborted);
  feed->apply(added(instance(wlan0, "198.18.1.4", "lamp-2")));
  CHECK(feed->queued() == 1);
  CHECK(take_now(*feed, io).e.info.id == "lamp-2");
}

TEST_CASE("app discovery: the daemon going and coming back are events, queued like the others; "
          "abort() ends takers until resume()",
          "[app]") {
  asio::io_context io;
  auto feed = make_feed(io);

  // The daemon went away: the waiting taker hears it as an event, not an error.
  taken t;
  take(*feed, io, t);
  feed->report_status(daemon_unavailable_code());
  io.restart();
  io.poll();
  REQUIRE(t.done);
  CHECK_FALSE(t.ec);
  CHECK(t.e.what_happened == discovery_event::kind::discovery_status);
  CHECK(t.e.status == discovery_errc::daemon_unavailable);
  CHECK(t.e.info.id.empty());
  feed->report_status(daemon_unavailable_code()); // no change: no event

  // Back while nobody waits, gone and back again: kept in order for the next takers.
  feed->report_status({});
  feed->apply(added(instance(wlan0, "198.18.1.3", "lamp-1")));
  feed->report_status(daemon_unavailable_code());
  feed->report_status({});
  CHECK(feed->queued() == 4);
  taken back = take_now(*feed, io);
  CHECK(back.e.what_happened == discovery_event::kind::discovery_status);
  CHECK_FALSE(back.e.status);
  CHECK(take_now(*feed, io).e.info.id == "lamp-1");
  CHECK(take_now(*feed, io).e.status == discovery_errc::daemon_unavailable);
  CHECK_FALSE(take_now(*feed, io).e.status);

  // set_status(): what the app was told at the start is no event.
  feed->set_status(daemon_unavailable_code());
  feed->report_status(daemon_unavailable_code());
  CHECK(feed->queued() == 0);
  feed->report_status({});
  CHECK(take_now(*feed, io).e.what_happened == discovery_event::kind::discovery_status);

  t = {};
  take(*feed, io, t);
  io.restart();
  io.poll();
  CHECK_FALSE(t.done);

  // abort(): the waiting taker and later ones that find nothing queued: operation_aborted;
  // what is queued is still taken first.
  feed->abort();
  io.restart();
  io.poll();
  REQUIRE(t.done);
  CHECK(t.ec == asio::error::operation_aborted);
  CHECK(take_now(*feed, io).ec == asio::error::operation_aborted);
  feed->apply(added(instance(wlan0, "198.18.1.5", "lamp-3")));
  CHECK_FALSE(take_now(*feed, io).ec);
  CHECK(take_now(*feed, io).ec == asio::error::operation_aborted);

  // resume(): takers wait again.
  feed->resume();
  t = {};
  take(*feed, io, t);
  io.restart();
  io.poll();
  CHECK_FALSE(t.done);

  // The end of the feed completes a waiting taker.
  feed.reset();
  io.restart();
  io.poll();
  REQUIRE(t.done);
  CHECK(t.ec == asio::error::operation_aborted);
}
