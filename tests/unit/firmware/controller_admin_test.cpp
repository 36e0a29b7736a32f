// The administration service on the firmware accessory: an admin lists and removes
// controllers, changes roles and opens the window; a user cannot; the only admin stays; a
// change that cannot be stored is undone and refused; a removed controller's session ends at
// once and it cannot come back. Real TLS, pairing and sessions over memory (firmware_harness).
#include "firmware_harness.hpp"

#include <lanyard/core/channel_error.hpp>

using namespace fw_test;

namespace {

// Sends `request` as an administration message from `c` and returns what came back.
std::vector<std::string> ask(bench& b, controller& c, std::vector<controller*> all,
                             const std::string& request, time_point now) {
  const std::size_t before = c.control_received.size();
  c.session.send(text(request), now, core::message_kind::administration);
  c.flush_session(now);
  run(b, std::move(all), now);
  return {c.control_received.begin() + static_cast<std::ptrdiff_t>(before),
          c.control_received.end()};
}

std::string hex(const core::fingerprint& fp) {
  return core::to_string(fp, core::fingerprint_format::hex);
}

bool has(const std::string& reply, const std::string& part) {
  return reply.find(part) != std::string::npos;
}

// A booted accessory with two paired controllers: the phone (admin, paired first) and the
// tablet (user).
struct household {
  bench b;
  controller phone{"phone", b.id.fingerprint()};
  controller tablet{"tablet", b.id.fingerprint()};
  household() {
    REQUIRE(!b.boot());
    pair(b, phone, t0);
    REQUIRE(!b.acc->open_pairing_window(t0));
    pair(b, tablet, t0);
  }
};

} // namespace

TEST_CASE_METHOD(household, "firmware accessory: an admin manages controllers, a user cannot") {
  std::vector<controller*> both{&phone, &tablet};

  SECTION("the list names every controller with its role, then the count") {
    const auto r = ask(b, phone, both, "v1 controllers", t0 + 1s);
    REQUIRE(r.size() == 3);
    CHECK(has(r[0], "fp=" + hex(phone.key())));
    CHECK(has(r[0], "role=admin"));
    CHECK(has(r[0], "name=phone"));
    CHECK(has(r[1], "fp=" + hex(tablet.key())));
    CHECK(has(r[1], "role=user"));
    CHECK(has(r[2], "v1 controllers re="));
    CHECK(has(r[2], " count=2"));
  }
  SECTION("a user is refused, whatever it asks") {
    for (const std::string& request :
         std::vector<std::string>{"v1 controllers", "v1 controller_remove fp=" + hex(phone.key()),
                                  "v1 controller_role fp=" + hex(tablet.key()) + " role=admin",
                                  "v1 pairing_window open=1"}) {
      const auto r = ask(b, tablet, both, request, t0 + 1s);
      REQUIRE(r.size() == 1);
      CHECK(has(r[0], "reason=not_admin"));
    }
    CHECK(b.acc->controllers().list().size() == 2);
    CHECK(b.acc->controllers().find(tablet.key())->role == core::paired_role::user);
    CHECK(!b.acc->pairing_window_open());
  }
  SECTION("malformed fields and unknown controllers are refused") {
    CHECK(
        has(ask(b, phone, both, "v1 controller_remove fp=12", t0 + 1s).at(0), "reason=bad_field"));
    CHECK(has(ask(b, phone, both, "v1 controller_remove fp=" + std::string(64, 'c'), t0 + 1s).at(0),
              "reason=not_paired"));
    CHECK(has(ask(b, phone, both, "v1 pairing_window open=1 minutes=99", t0 + 1s).at(0),
              "reason=bad_field"));
  }
  SECTION("the only admin can be neither removed nor demoted; promoted, the other can") {
    CHECK(has(ask(b, phone, both, "v1 controller_remove fp=" + hex(phone.key()), t0 + 1s).at(0),
              "reason=last_admin"));
    CHECK(
        has(ask(b, phone, both, "v1 controller_role fp=" + hex(phone.key()) + " role=user", t0 + 1s)
                .at(0),
            "reason=last_admin"));
    CHECK(has(
        ask(b, phone, both, "v1 controller_role fp=" + hex(tablet.key()) + " role=admin", t0 + 2s)
            .at(0),
        "v1 ok"));
    CHECK(b.acc->controllers().find(tablet.key())->role == core::paired_role::admin);
    // Stored: after a reboot the tablet is still an admin.
    REQUIRE(!b.boot(t0 + 3s));
    CHECK(b.acc->controllers().find(tablet.key())->role == core::paired_role::admin);
  }
  SECTION("an admin opens and closes the window") {
    REQUIRE(!b.acc->pairing_window_open());
    CHECK(has(ask(b, phone, both, "v1 pairing_window open=1 minutes=3", t0 + 1s).at(0), "v1 ok"));
    CHECK(b.acc->pairing_window_open());
    CHECK(has(ask(b, phone, both, "v1 pairing_window open=0", t0 + 2s).at(0), "v1 ok"));
    CHECK(!b.acc->pairing_window_open());
  }
  SECTION("a change that cannot be stored is undone and refused") {
    b.plat.storage_fails = true;
    CHECK(has(ask(b, phone, both, "v1 controller_remove fp=" + hex(tablet.key()), t0 + 1s).at(0),
              "reason=storage"));
    CHECK(b.acc->controllers().find(tablet.key()));
    CHECK(tablet.connected);
    CHECK(has(
        ask(b, phone, both, "v1 controller_role fp=" + hex(tablet.key()) + " role=admin", t0 + 1s)
            .at(0),
        "reason=storage"));
    CHECK(b.acc->controllers().find(tablet.key())->role == core::paired_role::user);
    CHECK(has(ask(b, phone, both, "v1 pairing_window open=1", t0 + 1s).at(0), "reason=storage"));
    CHECK(!b.acc->pairing_window_open());
  }
  CHECK(b.messages.empty()); // service messages never reach the application
}

TEST_CASE_METHOD(
    household,
    "firmware accessory: a removed controller's session ends at once, and it stays out") {
  REQUIRE(b.acc->session_count() == 2);

  // The tablet was lost: the owner removes it.
  const auto r =
      ask(b, phone, {&phone, &tablet}, "v1 controller_remove fp=" + hex(tablet.key()), t0 + 1s);
  REQUIRE(r.size() == 1);
  CHECK(has(r[0], "v1 ok"));
  CHECK(!b.acc->controllers().find(tablet.key()));
  CHECK(b.acc->session_count() == 1);
  REQUIRE(!b.ended.empty());
  CHECK(b.ended.back().controller == tablet.key());
  bool closed_not_paired = false;
  for (const auto& c : b.closes)
    closed_not_paired = closed_not_paired || c.why == core::channel_errc::not_paired;
  CHECK(closed_not_paired);
  CHECK(!tablet.connected);

  // Stored: after a reboot it is still gone, and the tablet's next connection goes nowhere.
  REQUIRE(!b.boot(t0 + 2s));
  CHECK(b.acc->controllers().list().size() == 1);
  tablet.connect(b, t0 + 3s);
  run(b, {&tablet}, t0 + 3s);
  CHECK(!tablet.connected);
  CHECK(tablet.session.state() != core::session_state::established);
  CHECK(b.acc->session_count() == 0);
}
