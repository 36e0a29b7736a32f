/// @file
/// An embedded Multicast DNS / DNS-SD responder (RFC 6762, RFC 6763) for one service instance,
/// sans-IO: packets in with the interface they came from, packets out with where they go, and
/// the next deadline. It opens no socket, reads no clock, starts no thread, never allocates,
/// throws or uses RTTI: firmware links it as it is, and tests drive it with literal timestamps.
///
/// What it publishes, for host "lamp" and instance "Lamp" of service "_lanyard._tcp":
///   _services._dns-sd._udp.local. PTR _lanyard._tcp.local.        shared, service TTL
///   _lanyard._tcp.local.          PTR Lamp._lanyard._tcp.local.   shared, service TTL
///   Lamp._lanyard._tcp.local.     SRV 0 0 PORT lamp.local.        unique, host TTL
///   Lamp._lanyard._tcp.local.     TXT ...                         unique, service TTL
///   lamp.local.                   A / AAAA (the interface's own)  unique, host TTL
/// and NSEC negative answers for the two unique names (RFC 6762 section 6.1).
///
/// Behaviour, by RFC 6762 section:
///   - 8.1 probing: per interface, 0-250 ms after it comes up, three probes 250 ms apart (the
///     first with the QU bit), questions of type ANY for the host and instance names with the
///     proposed records in the authority section. A response holding any other record under one
///     of those names is a conflict: the name is renamed ("Lamp" -> "Lamp (2)", "lamp" ->
///     "lamp-2") and every interface probes again. After 15 conflicts within 10 s, each further
///     probe sequence waits 5 s.
///   - 8.2 simultaneous probes: a probe from someone else for one of our names is compared with
///     ours (class, type, then data as unsigned bytes, names uncompressed; sorted lists compared
///     pairwise). If ours is earlier we lost and probe again 1 s later; an identical probe (our
///     own, looped back) is ignored.
///   - 8.3 announcing: two unsolicited responses 1 s apart with every record, cache-flush bit on
///     unique ones. 8.4: a TXT change (set_txt()) or a new address is announced the same way.
///   - 6 answering: PTR, SRV, TXT, A, AAAA, ANY and the service-enumeration PTR, with the
///     additional records of RFC 6763 section 12 and RFC 6762 section 6.2, only the addresses of
///     the interface the query came in on (section 15), NSEC for types we do not have. Answers
///     made only of unique records go out at once, others after 20-120 ms (aggregated with other
///     queries' answers on that interface), after 400-500 ms when the query's known answers
///     continue in later packets (TC, section 7.2). A record is multicast at most once a second
///     per interface (250 ms when answering a probe).
///   - 7.1 known-answer suppression: a record the query lists as known with at least half our TTL
///     is left out. 7.4: a pending multicast answer is dropped when another responder multicasts
///     the same record with at least our TTL first.
///   - 5.4 QU questions are answered by unicast to the querier, except records not multicast on
///     that interface within a quarter of their TTL, which are multicast instead.
///   - 6.7 legacy unicast: a query from a port other than 5353 is answered by unicast to that
///     address and port, with its ID and (first) question, TTLs of at most 10 s and no
///     cache-flush bits, TC set if the answers do not fit.
///   - 9 conflicts after probing: a response with one of our unique names and types but other
///     data sends every interface back to probing (and so to renaming if the other host holds
///     on).
///   - 10.1 goodbyes: stop() multicasts every record we own with TTL 0 on each interface that
///     announced; an address removed by set_addresses() gets its goodbye on its interface.
///
/// Not implemented (docs/mdns-responder.md): reverse-address PTR records, subtypes, more than
/// one service instance, section 6.6 (re-announcing when a peer's cached copy of our record has a
/// low TTL), section 7.3 (duplicate question suppression, a querier's matter), address records
/// of other interfaces on the same link (section 14 bridged links), and probing IPv4 and IPv6
/// separately (one probe covers both families on an interface).
///
/// Memory: everything lives in the object (see mdns_limits); sizeof(mdns_responder) is its
/// whole footprint, reported in docs/mdns-responder.md. Packets are written into the caller's
/// buffer.
///
/// Driving it (one UDP socket per family joined to 224.0.0.251 / ff02::fb on port 5353):
/// @code
///   mdns_responder responder;
///   if (auto ec = responder.configure(config)) fail(ec);
///   responder.interface_up(now(), ifindex, addresses);
///   for (;;) {
///     poll(sockets, until(responder.next_deadline()));
///     for (each datagram received: bytes, ifindex, source address and port)
///       responder.on_packet(now(), {ifindex, source, port}, bytes);
///     responder.on_timer(now());
///     std::array<std::byte, 1452> buffer;
///     while (auto out = responder.next_packet(now(), buffer))
///       send(out->multicast ? both multicast groups on out->interface : out->destination,
///            std::span(buffer).first(out->size));
///     while (auto event = responder.next_event()) log(*event);
///   }
/// @endcode
///
/// Errors: std::error_code of mdns_category(). A malformed or hostile packet is never an error
/// to the caller: it is dropped (RFC 6762 section 18).
/// Thread-safety: distinct objects safe, shared objects unsafe. Cancellation: stop().
#pragma once

#include <lanyard/core/mdns_error.hpp>
#include <lanyard/core/mdns_message.hpp>
#include <lanyard/core/mdns_name.hpp>
#include <lanyard/core/mdns_writer.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

namespace lanyard::core {

/// The responder's fixed capacities. Change them here and rebuild; nothing grows at run time.
struct mdns_limits {
  /// Interfaces the responder answers on at once.
  static constexpr std::size_t max_interfaces = 4;
  /// Addresses (IPv4 and IPv6 together) per interface.
  static constexpr std::size_t max_addresses_per_interface = 4;
  /// Removed addresses per interface still owed a goodbye.
  static constexpr std::size_t max_retired_addresses = 4;
  /// Bytes of the encoded TXT record.
  static constexpr std::size_t max_txt_size = 400;
  /// Unicast replies (QU and legacy) waiting to be sent; when full, QU answers are multicast
  /// instead and legacy queries go unanswered (the resolver retries).
  static constexpr std::size_t max_unicast_replies = 8;
  /// Events not yet taken by next_event(); when full the oldest is dropped.
  static constexpr std::size_t max_events = 8;
  /// Records of another host compared per name in a probe tie-break (section 8.2).
  static constexpr std::size_t max_tiebreak_records = 8;
  /// The smallest buffer next_packet() writes into (a packet of one address record and a
  /// question needs far less; this keeps every packet useful).
  static constexpr std::size_t min_packet_size = 512;
};

/// An IPv4 or IPv6 address.
struct mdns_address {
  bool v6 = false;
  /// IPv4 in the first 4 bytes (the rest zero); IPv6 all 16. Network byte order.
  std::array<std::uint8_t, 16> bytes{};

  static mdns_address ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                           std::uint8_t d) noexcept {
    mdns_address x;
    x.bytes = {a, b, c, d};
    return x;
  }
  static mdns_address ipv6(const std::array<std::uint8_t, 16>& bytes) noexcept {
    mdns_address x;
    x.v6 = true;
    x.bytes = bytes;
    return x;
  }
  /// 4 or 16 bytes: the A or AAAA record's data.
  std::span<const std::uint8_t> data() const noexcept { return {bytes.data(), v6 ? 16u : 4u}; }

  friend bool operator==(const mdns_address&, const mdns_address&) = default;
};

/// Where a packet came from: the interface it arrived on, the sender's address and port.
struct mdns_source {
  std::uint32_t interface = 0;
  mdns_address address;
  std::uint16_t port = mdns_port;
};

/// A packet next_packet() wrote: send the first `size` bytes of the buffer.
struct mdns_outgoing {
  /// The interface to send on (also the scope of an IPv6 link-local destination).
  std::uint32_t interface = 0;
  /// True: to 224.0.0.251 and/or ff02::fb, port 5353, on `interface` (every family the caller
  /// has there). False: unicast to `destination` and `port`.
  bool multicast = true;
  mdns_address destination;
  std::uint16_t port = mdns_port;
  std::size_t size = 0;
};

/// What the responder is doing, summed up over its interfaces.
enum class mdns_state : std::uint8_t {
  /// Not configured, or no interface is up.
  idle,
  /// Some interface is probing (or waiting to): the names are not ours yet there.
  probing,
  /// Some interface is announcing, none probing.
  announcing,
  /// Every interface has announced: the names are ours and queries are answered.
  announced,
  /// stop() was called.
  stopped,
};

/// Something a person or the node may want to know; pulled with next_event().
enum class mdns_event_kind : std::uint8_t {
  /// `interface` finished its announcements: the service can be found there.
  announced,
  /// The host name was taken by another host: host_name() is the new one, probing again.
  host_renamed,
  /// The instance name was taken: instance_name() is the new one, probing again.
  instance_renamed,
  /// After announcing, another host answered with other data for one of our unique records
  /// (section 9): every interface probes again (and renames if the other host holds on).
  conflict,
  /// Another host probed for one of our names at the same time and won the tie-break
  /// (section 8.2): `interface` probes again in 1 s.
  probe_deferred,
  /// 15 conflicts within 10 s: the next probe waits 5 s (section 8.1).
  rate_limited,
};

struct mdns_event {
  mdns_event_kind kind = mdns_event_kind::announced;
  /// The interface concerned (0 where no single interface is: renames, rate limiting).
  std::uint32_t interface = 0;
};

/// What to publish, and the environment (randomness, TTLs).
struct mdns_responder_config {
  /// The host's name: one label of 1-63 bytes without dots ("lamp-1a2b"); ".local" is added.
  std::string_view host_name;
  /// The service instance name: one label of 1-63 bytes, any UTF-8 ("Living Room Lamp").
  std::string_view instance_name;
  /// "_name._tcp" or "_name._udp" (RFC 6763 section 7).
  std::string_view service_type = "_lanyard._tcp";
  std::uint16_t port = 0;
  /// The TXT record in wire form (txt_record::encode(), at most mdns_limits::max_txt_size
  /// bytes); empty means the empty record (one zero byte, RFC 6763 section 6.1).
  std::span<const std::uint8_t> txt;
  /// TTL of SRV, A and AAAA records (RFC 6762 section 10: 120 s).
  std::chrono::seconds host_ttl{120};
  /// TTL of PTR and TXT records (RFC 6762 section 10: 75 minutes).
  std::chrono::seconds service_ttl{4500};
  /// Seeds the responder's random delays (probe start, response aggregation). Entropy is the
  /// platform's business: pass a value from its RNG (tests pass a constant).
  std::uint64_t random_seed = 0;
};

/// See the file comment.
class mdns_responder {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// An unconfigured responder: it publishes nothing until configure() succeeds.
  mdns_responder() noexcept = default;

  /// Sets what to publish; call once, before interface_up().
  ///
  /// @returns empty, or invalid_host_name, invalid_instance_name, invalid_service_type,
  /// txt_too_large, invalid_txt, stopped. On error nothing changes.
  std::error_code configure(const mdns_responder_config& config) noexcept;

  /// An interface is up with these addresses (possibly none yet): the responder starts probing
  /// on it. Calling it for an interface already up replaces its addresses (as set_addresses()).
  ///
  /// @returns empty, or not_configured, too_many_interfaces, too_many_addresses, stopped.
  std::error_code interface_up(time_point now, std::uint32_t interface,
                               std::span<const mdns_address> addresses) noexcept;

  /// The interface went away: the responder forgets it (no goodbyes: the link is gone).
  void interface_down(time_point now, std::uint32_t interface) noexcept;

  /// Replaces the interface's addresses: removed ones get goodbyes, new ones are announced.
  ///
  /// @returns empty, or too_many_addresses, stopped; an unknown interface is brought up.
  std::error_code set_addresses(time_point now, std::uint32_t interface,
                                std::span<const mdns_address> addresses) noexcept;

  /// Replaces the TXT record (wire form) and announces it again (RFC 6762 section 8.4).
  ///
  /// @returns empty, or txt_too_large, invalid_txt, not_configured, stopped. On error nothing
  /// changes.
  std::error_code set_txt(time_point now, std::span<const std::uint8_t> txt) noexcept;

  /// A packet arrived on `from.interface` from `from.address`:`from.port`. Malformed packets,
  /// packets on interfaces that are not up, and responses from a port other than 5353 (RFC 6762
  /// section 11) are ignored.
  void on_packet(time_point now, const mdns_source& from,
                 std::span<const std::byte> packet) noexcept;

  /// Time has passed: moves probing and announcing on. Harmless to call early or often.
  void on_timer(time_point now) noexcept;

  /// The next packet due at `now`, written into `buffer` (at least mdns_limits::min_packet_size
  /// bytes; the link MTU less IP and UDP headers, e.g. 1452, is best). Call until it returns
  /// std::nullopt. A smaller buffer gets nothing.
  std::optional<mdns_outgoing> next_packet(time_point now, std::span<std::byte> buffer) noexcept;

  /// When on_timer() / next_packet() must be called next: time_point::max() if nothing is
  /// pending, a time at or before now (time_point::min() for replies waiting to go) for at
  /// once.
  time_point next_deadline() const noexcept;

  /// Sends goodbyes (TTL 0) for every record on each interface that announced, then stays
  /// silent: pull them with next_packet(). Later calls change nothing.
  void stop(time_point now) noexcept;

  /// The next event, oldest first.
  std::optional<mdns_event> next_event() noexcept;

  mdns_state state() const noexcept;

  /// The current host name label (after renames), without ".local".
  std::string_view host_name() const noexcept { return host_.first_label(); }
  /// The current instance name label (after renames).
  std::string_view instance_name() const noexcept { return instance_.first_label(); }
  /// True once `interface` has finished announcing.
  bool announced_on(std::uint32_t interface) const noexcept;

private:
  enum class phase : std::uint8_t { probing, announcing, announced };
  // Bits of a record mask: the fixed records, then one per address of the interface.
  static constexpr std::size_t rec_ptr = 0;
  static constexpr std::size_t rec_enum = 1;
  static constexpr std::size_t rec_srv = 2;
  static constexpr std::size_t rec_txt = 3;
  static constexpr std::size_t rec_nsec_instance = 4;
  static constexpr std::size_t rec_nsec_host = 5;
  static constexpr std::size_t rec_address = 6;
  static constexpr std::size_t record_count =
      rec_address + mdns_limits::max_addresses_per_interface;
  static_assert(record_count <= 32, "record masks are 32 bits");

  struct interface_slot {
    bool used = false;
    std::uint32_t index = 0;
    std::array<mdns_address, mdns_limits::max_addresses_per_interface> addresses{};
    std::size_t address_count = 0;
    std::array<mdns_address, mdns_limits::max_retired_addresses> retired{};
    std::size_t retired_count = 0;
    phase state = phase::probing;
    bool ever_announced = false;
    bool goodbye_pending = false;
    std::uint8_t probes_sent = 0;
    std::uint8_t announcements_left = 0;
    time_point next_step{};
    // Records the current announcement round is for, and those of the round not sent yet
    // (a round that does not fit one packet continues in the next).
    std::uint32_t announce_mask = 0;
    std::uint32_t announce_unsent = 0;
    // Multicast answers gathered from queries, sent at multicast_due.
    std::uint32_t multicast_answers = 0;
    std::uint32_t multicast_additional = 0;
    time_point multicast_due = time_point::max();
    // Answers a TC query from tc_source asked for alone: its later known answers may remove
    // them (section 7.2).
    std::uint32_t tc_mask = 0;
    mdns_address tc_source;
    std::array<time_point, record_count> last_multicast{};
  };

  struct unicast_reply {
    bool used = false;
    bool legacy = false;
    std::uint32_t interface = 0;
    mdns_address destination;
    std::uint16_t port = 0;
    std::uint16_t id = 0;
    dns_wire_name question;
    std::uint16_t question_type = 0;
    std::uint16_t question_class = 0;
    std::uint32_t answers = 0;
    std::uint32_t additional = 0;
  };

  interface_slot* find(std::uint32_t interface) noexcept;
  const interface_slot* find(std::uint32_t interface) const noexcept;
  void start_probing(interface_slot& slot, time_point now) noexcept;
  void restart_all_probing(time_point now) noexcept;
  void rename(bool host, time_point now) noexcept;
  void note_conflict(time_point now) noexcept;
  void push_event(mdns_event_kind kind, std::uint32_t interface) noexcept;
  std::chrono::milliseconds random_ms(int low, int high) noexcept;

  void handle_query(time_point now, interface_slot& slot, const mdns_source& from,
                    std::span<const std::byte> packet) noexcept;
  void handle_response(time_point now, interface_slot& slot,
                       std::span<const std::byte> packet) noexcept;
  void tiebreak(time_point now, interface_slot& slot, std::span<const std::byte> packet) noexcept;
  // Which record of `slot` the record is (same name, type and data), or -1.
  int match_record(const interface_slot& slot, const dns_record& r) const noexcept;
  // The records answering one question on `slot`, and their additional records.
  void answer_question(const interface_slot& slot, const dns_question& q, std::uint32_t& answers,
                       std::uint32_t& additional) const noexcept;

  bool is_unique(std::size_t rec) const noexcept { return rec >= rec_srv; }
  std::uint32_t ttl_of(std::size_t rec) const noexcept;
  std::span<const std::uint8_t> name_of(std::size_t rec) const noexcept;
  std::uint16_t type_of(const interface_slot& slot, std::size_t rec) const noexcept;
  // The record's data in canonical form (names uncompressed) into `scratch`.
  std::span<const std::uint8_t> rdata_of(const interface_slot& slot, std::size_t rec,
                                         std::span<std::uint8_t> scratch) const noexcept;
  std::uint32_t valid_mask(const interface_slot& slot) const noexcept;
  bool is_ours_anywhere(const dns_record& r) const noexcept;
  std::error_code write_record(dns_writer& writer, const interface_slot& slot, std::size_t rec,
                               dns_section section, std::uint32_t ttl,
                               bool cache_flush) const noexcept;

  std::optional<mdns_outgoing> write_probe(time_point now, interface_slot& slot,
                                           std::span<std::byte> buffer) noexcept;
  std::optional<mdns_outgoing> write_announcement(time_point now, interface_slot& slot,
                                                  std::span<std::byte> buffer) noexcept;
  std::optional<mdns_outgoing> write_multicast(time_point now, interface_slot& slot,
                                               std::uint32_t& answers, std::uint32_t& additional,
                                               std::span<std::byte> buffer) noexcept;
  std::optional<mdns_outgoing> write_goodbye(interface_slot& slot,
                                             std::span<std::byte> buffer) noexcept;
  std::optional<mdns_outgoing> write_unicast(time_point now, unicast_reply& reply,
                                             std::span<std::byte> buffer) noexcept;

  bool configured_ = false;
  bool stopped_ = false;
  dns_wire_name host_;        // lamp.local
  dns_wire_name instance_;    // Lamp._lanyard._tcp.local
  dns_wire_name service_;     // _lanyard._tcp.local
  dns_wire_name enumeration_; // _services._dns-sd._udp.local
  // The names as configured, for renaming: "Lamp" -> "Lamp (2)" -> "Lamp (3)".
  std::array<char, dns_max_label_size> host_base_{};
  std::size_t host_base_size_ = 0;
  std::array<char, dns_max_label_size> instance_base_{};
  std::size_t instance_base_size_ = 0;
  std::uint32_t host_suffix_ = 1;
  std::uint32_t instance_suffix_ = 1;
  std::uint16_t port_ = 0;
  std::array<std::uint8_t, mdns_limits::max_txt_size> txt_{};
  std::size_t txt_size_ = 0;
  std::uint32_t host_ttl_ = 120;
  std::uint32_t service_ttl_ = 4500;
  std::uint64_t random_state_ = 0;

  std::array<interface_slot, mdns_limits::max_interfaces> interfaces_{};
  std::array<unicast_reply, mdns_limits::max_unicast_replies> unicast_{};
  // The last 15 conflicts (section 8.1's rate limit), a ring.
  std::array<time_point, 15> conflicts_{};
  std::size_t conflict_next_ = 0;
  std::size_t conflict_count_ = 0;
  time_point probe_hold_until_{};
  std::array<mdns_event, mdns_limits::max_events> events_{};
  std::size_t event_first_ = 0;
  std::size_t event_count_ = 0;
};

} // namespace lanyard::core
