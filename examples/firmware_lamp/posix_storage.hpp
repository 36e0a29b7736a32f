// The firmware platform's storage on a POSIX host: one file per key in a directory, replaced
// atomically (write KEY.tmp, fsync, rename), as a board would write a new flash slot and then
// switch to it. The callbacks match lanyard::firmware::platform::load / save.
#pragma once

#include <cstddef>

namespace lamp {

/// The directory the files live in (must exist; the lamp creates it at start).
struct posix_storage {
  const char* directory = nullptr;
};

/// platform::load: 0 read, 1 no such blob, -1 failure (or a blob larger than `capacity`).
int storage_load(void* user, const char* key, std::byte* out, std::size_t capacity,
                 std::size_t* size);
/// platform::save: 0 written and renamed into place, -1 failure (the old blob is kept).
int storage_save(void* user, const char* key, const std::byte* data, std::size_t size);

} // namespace lamp
