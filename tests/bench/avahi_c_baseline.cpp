#include "avahi_c_baseline.hpp"

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/address.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/simple-watch.h>
#include <avahi-common/strlst.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <net/if.h>
#include <sstream>
#include <sys/signalfd.h>
#include <tuple>
#include <unistd.h>

namespace lanyard::bench {

std::string escape_field(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (char ch : field) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x21 && c <= 0x7e && c != '\\') {
      out += ch;
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t sp = line.find(' ', start);
    out.push_back(line.substr(start, sp == std::string::npos ? sp : sp - start));
    if (sp == std::string::npos) return out;
    start = sp + 1;
  }
}

namespace {

constexpr std::uint16_t dns_class_in = 1;
constexpr std::uint16_t dns_type_txt = 16;

void print_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::string txt_fields(AvahiStringList* l) {
  std::string out;
  for (; l != nullptr; l = avahi_string_list_get_next(l)) {
    out += ' ';
    out +=
        escape_field(std::string_view(reinterpret_cast<const char*>(avahi_string_list_get_text(l)),
                                      avahi_string_list_get_size(l)));
  }
  return out;
}

std::string interface_name(AvahiIfIndex ifindex) {
  char name[IF_NAMESIZE] = {};
  if (ifindex > 0 && ::if_indextoname(static_cast<unsigned>(ifindex), name) != nullptr)
    return escape_field(name);
  return std::to_string(ifindex);
}

const char* protocol_name(AvahiProtocol p) {
  return p == AVAHI_PROTO_INET6 ? "ipv6" : p == AVAHI_PROTO_INET ? "ipv4" : "unspec";
}

// The loop and the signals that end it, shared by both roles.
struct loop {
  AvahiSimplePoll* poll = nullptr;
  int sigfd = -1;
  AvahiWatch* sigwatch = nullptr;

  bool open() {
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    ::sigprocmask(SIG_BLOCK, &stops, nullptr);
    sigfd = ::signalfd(-1, &stops, SFD_CLOEXEC | SFD_NONBLOCK);
    poll = avahi_simple_poll_new();
    if (sigfd < 0 || poll == nullptr) return false;
    const AvahiPoll* api = avahi_simple_poll_get(poll);
    sigwatch = api->watch_new(
        api, sigfd, AVAHI_WATCH_IN,
        [](AvahiWatch*, int, AvahiWatchEvent, void* self) {
          avahi_simple_poll_quit(static_cast<loop*>(self)->poll);
        },
        this);
    return sigwatch != nullptr;
  }
  const AvahiPoll* api() const { return avahi_simple_poll_get(poll); }
  // Frees the loop; everything made on it must be gone.
  void close() {
    if (sigwatch) api()->watch_free(sigwatch);
    if (poll) avahi_simple_poll_free(poll);
    if (sigfd >= 0) ::close(sigfd);
    sigwatch = nullptr;
    poll = nullptr;
    sigfd = -1;
  }
};

void fail_line(const std::string& what) {
  print_line("failed " + escape_field(what));
}

// --- publisher ---

AvahiStringList* parse_txt(const std::vector<std::string>& words) {
  AvahiStringList* l = nullptr;
  for (auto it = words.rbegin(); it != words.rend(); ++it) // prepends: keep the given order
    l = avahi_string_list_add(l, it->c_str());
  return l;
}

struct publisher {
  loop lp;
  AvahiClient* client = nullptr;
  AvahiEntryGroup* group = nullptr;
  AvahiWatch* input = nullptr;
  std::string name, type, pending;
  std::uint16_t port = 0;
  std::vector<std::string> txt;
  int status = 0;

  void quit(int code) {
    status = code;
    avahi_simple_poll_quit(lp.poll);
  }

  static void group_cb(AvahiEntryGroup* g, AvahiEntryGroupState state, void* self_) {
    auto* self = static_cast<publisher*>(self_);
    switch (state) {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
      print_line("registered " + escape_field(self->name));
      break;
    case AVAHI_ENTRY_GROUP_COLLISION:
      fail_line("name collision");
      self->quit(1);
      break;
    case AVAHI_ENTRY_GROUP_FAILURE:
      fail_line(avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(g))));
      self->quit(1);
      break;
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
      break;
    }
  }

  void publish(AvahiClient* c) {
    if (group) return;
    group = avahi_entry_group_new(c, &group_cb, this);
    if (!group) {
      fail_line(avahi_strerror(avahi_client_errno(c)));
      return quit(1);
    }
    AvahiStringList* l = parse_txt(txt);
    int r = avahi_entry_group_add_service_strlst(group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                                 AvahiPublishFlags(0), name.c_str(), type.c_str(),
                                                 nullptr, nullptr, port, l);
    avahi_string_list_free(l);
    if (r >= 0) r = avahi_entry_group_commit(group);
    if (r < 0) {
      fail_line(avahi_strerror(r));
      quit(1);
    }
  }

  static void client_cb(AvahiClient* c, AvahiClientState state, void* self_) {
    auto* self = static_cast<publisher*>(self_);
    if (state == AVAHI_CLIENT_S_RUNNING) {
      self->publish(c); // also called from inside avahi_client_new()
    } else if (state == AVAHI_CLIENT_FAILURE) {
      fail_line(avahi_strerror(avahi_client_errno(c)));
      self->quit(1);
    }
  }

  void update(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;)
      words.push_back(w);
    if (!group || avahi_entry_group_is_empty(group)) {
      fail_line("TXT update before the service is published");
      return;
    }
    AvahiStringList* l = parse_txt(words);
    int r = avahi_entry_group_update_service_txt_strlst(group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                                        AvahiPublishFlags(0), name.c_str(),
                                                        type.c_str(), nullptr, l);
    avahi_string_list_free(l);
    if (r < 0)
      fail_line(std::string("updating TXT: ") + avahi_strerror(r));
    else
      print_line("txt-updated " + escape_field(name));
  }

  static void input_cb(AvahiWatch* w, int fd, AvahiWatchEvent, void* self_) {
    auto* self = static_cast<publisher*>(self_);
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) { // EOF: keep running until a signal
      self->lp.api()->watch_free(w);
      self->input = nullptr;
      return;
    }
    self->pending.append(buf, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = self->pending.find('\n')) != std::string::npos;) {
      std::string line = self->pending.substr(0, nl);
      self->pending.erase(0, nl + 1);
      self->update(line);
    }
  }

  int run() {
    if (!lp.open()) {
      fail_line("cannot set up the loop");
      return 1;
    }
    input = lp.api()->watch_new(lp.api(), STDIN_FILENO, AVAHI_WATCH_IN, &input_cb, this);
    int error = 0;
    client = avahi_client_new(lp.api(), AvahiClientFlags(0), &client_cb, this, &error);
    if (!client) {
      fail_line(avahi_strerror(error));
      status = 1;
    } else if (status == 0) {
      avahi_simple_poll_loop(lp.poll);
    }
    if (group) avahi_entry_group_free(group); // withdraws: goodbye packets
    if (client) avahi_client_free(client);
    if (input) lp.api()->watch_free(input);
    lp.close();
    return status;
  }
};

// --- browser ---

struct browser {
  struct instance {
    browser* owner = nullptr;
    AvahiIfIndex ifindex = AVAHI_IF_UNSPEC;
    AvahiProtocol protocol = AVAHI_PROTO_UNSPEC;
    std::string name;
    AvahiServiceResolver* resolver = nullptr;
    AvahiRecordBrowser* txt = nullptr;
    ~instance() {
      if (resolver) avahi_service_resolver_free(resolver);
      if (txt) avahi_record_browser_free(txt);
    }
    // "NAME IF PROTO"
    std::string label() const {
      return escape_field(name) + " " + interface_name(ifindex) + " " + protocol_name(protocol);
    }
  };
  using key = std::tuple<AvahiIfIndex, AvahiProtocol, std::string, std::string>;

  loop lp;
  AvahiClient* client = nullptr;
  AvahiServiceBrowser* services = nullptr;
  std::map<key, std::unique_ptr<instance>> instances;
  std::string type;
  int status = 0;

  void quit(int code) {
    status = code;
    avahi_simple_poll_quit(lp.poll);
  }

  static void resolve_cb(AvahiServiceResolver*, AvahiIfIndex, AvahiProtocol,
                         AvahiResolverEvent event, const char*, const char*, const char*,
                         const char* host, const AvahiAddress* a, uint16_t port,
                         AvahiStringList* txt, AvahiLookupResultFlags, void* in_) {
    auto* in = static_cast<instance*>(in_);
    if (event != AVAHI_RESOLVER_FOUND) {
      AvahiClient* c = in->owner->client;
      print_line("resolve-failed " + in->label() + " " +
                 escape_field(avahi_strerror(avahi_client_errno(c))));
      return;
    }
    char address[AVAHI_ADDRESS_STR_MAX] = "-";
    if (a) avahi_address_snprint(address, sizeof address, a);
    print_line("resolved " + in->label() + " " + escape_field(host ? host : "") + " " +
               escape_field(address) + " " + std::to_string(port) + txt_fields(txt));
  }

  static void txt_cb(AvahiRecordBrowser*, AvahiIfIndex, AvahiProtocol, AvahiBrowserEvent event,
                     const char*, uint16_t, uint16_t, const void* rdata, size_t size,
                     AvahiLookupResultFlags, void* in_) {
    auto* in = static_cast<instance*>(in_);
    if (event != AVAHI_BROWSER_NEW) return;
    AvahiStringList* l = nullptr;
    if (avahi_string_list_parse(rdata, size, &l) < 0) return;
    l = avahi_string_list_reverse(l); // parsed by prepending: back to the wire order
    print_line("txt " + in->label() + txt_fields(l));
    avahi_string_list_free(l);
  }

  static void browse_cb(AvahiServiceBrowser*, AvahiIfIndex ifindex, AvahiProtocol protocol,
                        AvahiBrowserEvent event, const char* name, const char* type,
                        const char* domain, AvahiLookupResultFlags, void* self_) {
    auto* self = static_cast<browser*>(self_);
    switch (event) {
    case AVAHI_BROWSER_NEW: {
      auto& slot = self->instances[key{ifindex, protocol, name, domain}];
      if (slot) return;
      slot = std::make_unique<instance>();
      slot->owner = self;
      slot->ifindex = ifindex;
      slot->protocol = protocol;
      slot->name = name;
      slot->resolver = avahi_service_resolver_new(self->client, ifindex, protocol, name, type,
                                                  domain, AVAHI_PROTO_UNSPEC, AvahiLookupFlags(0),
                                                  &resolve_cb, slot.get());
      char full[AVAHI_DOMAIN_NAME_MAX];
      if (avahi_service_name_join(full, sizeof full, name, type, domain) >= 0)
        slot->txt =
            avahi_record_browser_new(self->client, ifindex, protocol, full, dns_class_in,
                                     dns_type_txt, AvahiLookupFlags(0), &txt_cb, slot.get());
      if (!slot->resolver || !slot->txt)
        fail_line(avahi_strerror(avahi_client_errno(self->client)));
      break;
    }
    case AVAHI_BROWSER_REMOVE: {
      auto it = self->instances.find(key{ifindex, protocol, name, domain});
      if (it == self->instances.end()) return;
      print_line("removed " + it->second->label());
      self->instances.erase(it);
      break;
    }
    case AVAHI_BROWSER_FAILURE:
      fail_line(avahi_strerror(avahi_client_errno(self->client)));
      self->quit(1);
      break;
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
    case AVAHI_BROWSER_ALL_FOR_NOW:
      break;
    }
  }

  static void client_cb(AvahiClient* c, AvahiClientState state, void* self_) {
    auto* self = static_cast<browser*>(self_);
    if (state == AVAHI_CLIENT_FAILURE) {
      fail_line(avahi_strerror(avahi_client_errno(c)));
      self->quit(1);
    }
  }

  int run() {
    if (!lp.open()) {
      fail_line("cannot set up the loop");
      return 1;
    }
    int error = 0;
    client = avahi_client_new(lp.api(), AvahiClientFlags(0), &client_cb, this, &error);
    if (!client) {
      fail_line(avahi_strerror(error));
      status = 1;
    } else {
      services =
          avahi_service_browser_new(client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, type.c_str(),
                                    nullptr, AvahiLookupFlags(0), &browse_cb, this);
      if (!services) {
        fail_line(avahi_strerror(avahi_client_errno(client)));
        status = 1;
      } else if (status == 0) {
        avahi_simple_poll_loop(lp.poll);
      }
    }
    instances.clear();
    if (services) avahi_service_browser_free(services);
    if (client) avahi_client_free(client);
    lp.close();
    return status;
  }
};

} // namespace

int run_avahi_c_peer(const std::string& role, const cli::parsed_args& args) {
  auto type = args.value("type");
  if (!type) {
    std::fprintf(stderr, "lanyard-bench discovery --peer %s: --type is required\n", role.c_str());
    return 2;
  }
  if (role == "avahi-browse") {
    browser b;
    b.type = *type;
    return b.run();
  }
  if (role == "avahi-publish") {
    publisher p;
    auto name = args.value("name");
    std::string error;
    auto port = cli::parse_integer(args.value("port").value_or(""), 0, 65535, "--port", error);
    if (!name || !port) {
      std::fprintf(stderr, "lanyard-bench discovery --peer avahi-publish: needs --name and "
                           "--port\n");
      return 2;
    }
    p.name = *name;
    p.type = *type;
    p.port = static_cast<std::uint16_t>(*port);
    p.txt = args.values("txt");
    return p.run();
  }
  std::fprintf(stderr, "lanyard-bench discovery: unknown --peer '%s'\n", role.c_str());
  return 2;
}

} // namespace lanyard::bench
