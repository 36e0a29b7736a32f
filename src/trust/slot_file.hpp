// A state file that is rewritten in place, for stores written while someone waits (the
// accessory persists a pairing, or a failed pairing attempt, before it answers).
//
// write_file_atomically() (atomic_file.hpp) costs two fsyncs, a rename and a directory sync per
// write: about 1 ms on an SSD-backed VM, several on flash. A slot file keeps two copies of the
// contents and overwrites the older one in place, then fdatasync()s: one flush of data blocks
// that already exist, no metadata (0.3 ms where the other takes 0.9 ms). A crash in the middle
// of a write damages only the copy being written, whose checksum then fails, so the reader
// takes the other one: the state before that write, which was never acknowledged.
//
// Layout (sizes in bytes; S is a multiple of 4096, chosen when the file is created):
//
//     [0, 4096)             "lanyard-slots 1 S\n", then NUL padding: written once, at creation
//     [4096, 4096 + S)      slot 0
//     [4096 + S, 4096 + 2S) slot 1
//     slot: "slot GENERATION LENGTH CRC32C\n" then LENGTH bytes of contents, then anything
//
// GENERATION counts writes (the newest intact slot wins); CRC32C (8 hex digits) covers
// "GENERATION LENGTH\n" and the contents, so a torn header or torn contents are both detected.
// A write that does not fit a slot, and the first write over a file in the older plain format
// (contents only), replace the whole file atomically with larger slots.
//
// Thread-safety: none of its own; callers hold a file_lock on the path for a read-write cycle.
#pragma once

#include "lanyard/trust/error.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace lanyard::trust::detail {

/// What read_slot_file() found, for the write that follows it in the same locked cycle.
struct slot_file_state {
  bool slotted = false;         ///< false: no file, or one in the plain format
  std::size_t slot_size = 0;    ///< S
  int newest = -1;              ///< the slot read (0 or 1), -1 if none
  std::uint64_t generation = 0; ///< its generation (0 if none)
};

/// Reads the newest intact contents of `path` (a slot file, or a plain file whole, as
/// read_private_file() does, with its permission checks). A missing file: `exists` false.
/// Errors: store_corrupt when the file is slotted but its header is damaged, its size is not
/// what the header says (truncated), or neither slot is intact; read_private_file()'s errors.
store_status read_slot_file(const std::filesystem::path& path, std::string& contents, bool& exists,
                            slot_file_state& state);

/// Writes `contents` as the newest generation: in place into the older slot when the file is
/// slotted and they fit, else by replacing the file atomically with slots that fit twice the
/// contents. `state` must come from read_slot_file() under the same file_lock, and is updated.
store_status write_slot_file(const std::filesystem::path& path, slot_file_state& state,
                             std::string_view contents);

} // namespace lanyard::trust::detail
