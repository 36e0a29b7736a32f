#include "lanyard/core/path_ranking.hpp"

#include <algorithm>

namespace lanyard::core {
namespace {

std::string interface_label(const path_candidate& c) {
  std::string s;
  if (!c.interface_name.empty())
    s = c.interface_name;
  else if (c.interface_index != 0)
    s = "interface #" + std::to_string(c.interface_index);
  else
    s = "an unnamed interface";
  s += " (";
  s += to_string(c.kind);
  s += ")";
  return s;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

bool is_policy_reason(path_rejection_reason r) {
  return r == path_rejection_reason::prohibited_kind ||
         r == path_rejection_reason::not_required_kind;
}

} // namespace

std::string_view to_string(address_family family) noexcept {
  return family == address_family::ipv6 ? "IPv6" : "IPv4";
}

std::string kind_set::describe(std::string_view conjunction) const {
  std::vector<std::string_view> names;
  for (auto k : default_preference)
    if (contains(k)) names.push_back(to_string(k));
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) {
      if (i + 1 == names.size()) {
        out += ' ';
        out += conjunction;
        out += ' ';
      } else {
        out += ", ";
      }
    }
    out += names[i];
  }
  return out;
}

std::size_t interface_policy::rank(interface_kind kind) const noexcept {
  auto it = std::find(preference.begin(), preference.end(), kind);
  if (it != preference.end()) return static_cast<std::size_t>(it - preference.begin());
  // Unlisted kinds follow the listed ones, in the default order.
  std::size_t r = preference.size();
  for (auto k : default_preference) {
    if (k == kind) return r;
    if (std::find(preference.begin(), preference.end(), k) == preference.end()) ++r;
  }
  return r;
}

std::string interface_policy::describe() const {
  std::string out;
  if (!required.empty()) out = "requires " + required.describe("or");
  if (!prohibited.empty()) {
    if (!out.empty()) out += " and ";
    out += "prohibits " + prohibited.describe("and");
  }
  return out;
}

std::string interface_policy::check() const {
  kind_set both;
  for (auto k : default_preference)
    if (required.contains(k) && prohibited.contains(k)) both.insert(k);
  if (!both.empty())
    return "policy both requires and prohibits " + both.describe("and") +
           ": remove it from one of the two lists";
  if (!required.empty()) {
    bool any = false;
    for (auto k : default_preference)
      any = any || allows(k);
    if (!any) return "policy prohibits every kind it requires: no path could ever be used";
  }
  return {};
}

std::string describe_rejection(const path_candidate& c, path_rejection_reason reason) {
  switch (reason) {
  case path_rejection_reason::prohibited_kind:
    return interface_label(c) + " is prohibited";
  case path_rejection_reason::not_required_kind:
    return interface_label(c) + " is not of a required kind";
  case path_rejection_reason::interface_down:
    return interface_label(c) + " is down";
  case path_rejection_reason::no_source_address:
    return interface_label(c) + " has no " + std::string(to_string(c.family)) + " address";
  case path_rejection_reason::unreachable:
    return c.address + " is unreachable via " + interface_label(c);
  case path_rejection_reason::link_local_no_scope:
    return c.address + " is link-local but no interface was given for it";
  }
  return interface_label(c) + " cannot be used";
}

path_ranking rank_paths(std::span<const path_candidate> candidates, const interface_policy& policy,
                        ranking_mode mode) {
  path_ranking out;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const auto& c = candidates[i];
    std::optional<path_rejection_reason> why;
    if (policy.prohibited.contains(c.kind))
      why = path_rejection_reason::prohibited_kind;
    else if (!policy.required.empty() && !policy.required.contains(c.kind))
      why = path_rejection_reason::not_required_kind;
    else if (c.link_local && c.interface_index == 0)
      why = path_rejection_reason::link_local_no_scope;
    else if (!c.interface_up)
      why = path_rejection_reason::interface_down;
    else if (!c.has_source_address)
      why = path_rejection_reason::no_source_address;
    else if (!c.reachable)
      why = path_rejection_reason::unreachable;
    if (why)
      out.rejected.push_back({i, *why});
    else
      out.viable.push_back(i);
  }

  auto handover_less = [&](std::size_t a, std::size_t b) {
    const auto& x = candidates[a];
    const auto& y = candidates[b];
    auto rx = policy.rank(x.kind), ry = policy.rank(y.kind);
    if (x.kind == interface_kind::relay || y.kind == interface_kind::relay)
      return x.kind != interface_kind::relay && y.kind == interface_kind::relay;
    if (rx != ry) return rx < ry;
    if (x.family != y.family) return x.family == address_family::ipv6; // RFC 8305 §4
    if (x.link_local != y.link_local) return !x.link_local;
    return false;
  };
  if (mode == ranking_mode::interactive) {
    std::stable_sort(out.viable.begin(), out.viable.end(), [&](std::size_t a, std::size_t b) {
      const bool ra = candidates[a].kind == interface_kind::relay;
      const bool rb = candidates[b].kind == interface_kind::relay;
      if (ra != rb) return rb; // the relay is last, however fast
      const auto& x = candidates[a].rtt;
      const auto& y = candidates[b].rtt;
      if (x && y && *x != *y) return *x < *y;
      if (x.has_value() != y.has_value()) return x.has_value();
      return handover_less(a, b);
    });
  } else {
    std::stable_sort(out.viable.begin(), out.viable.end(), handover_less);
  }
  if (!out.viable.empty()) return out;

  // Nothing viable: say why, naming the policy first because it is what the user chose.
  const std::string policy_text = policy.describe();
  std::string prefix = policy_text.empty() ? "no viable path" : "policy " + policy_text;
  if (candidates.empty()) {
    out.reason = prefix + "; no candidate path is known (the accessory has not been seen on "
                          "any interface and has no static address)";
    return out;
  }
  if (!policy.required.empty()) {
    bool any_required = false;
    for (const auto& c : candidates)
      any_required = any_required || policy.required.contains(c.kind);
    if (!any_required) {
      std::vector<std::string> seen;
      for (const auto& c : candidates) {
        auto l = interface_label(c);
        if (std::find(seen.begin(), seen.end(), l) == seen.end()) seen.push_back(l);
      }
      out.reason = prefix + "; no path uses a " + policy.required.describe("or") +
                   " interface (paths seen: " + join(seen, ", ") + ")";
      return out;
    }
  }
  // The interesting reasons are those beyond the policy; list the policy's own exclusions only
  // when they are the whole story.
  bool any_other = false;
  for (const auto& r : out.rejected)
    any_other = any_other || !is_policy_reason(r.reason);
  std::vector<std::string> parts;
  for (const auto& r : out.rejected) {
    if (any_other && is_policy_reason(r.reason)) continue;
    auto text = describe_rejection(candidates[r.candidate], r.reason);
    if (std::find(parts.begin(), parts.end(), text) == parts.end()) parts.push_back(text);
  }
  out.reason = prefix + "; " + join(parts, "; ");
  return out;
}

} // namespace lanyard::core
