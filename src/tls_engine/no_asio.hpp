// Forced into every source of lanyard::tls_engine and of its unit tests (-include, see
// src/tls_engine/CMakeLists.txt): the engine is what firmware links, and firmware has no asio.
// asio is installed system-wide here, so `__has_include(<asio.hpp>)` proves nothing; poisoning
// the identifier makes any asio header, included directly or through another header, fail to
// compile ("attempt to use poisoned "asio""). Comments and strings may still name it.
#pragma once

#pragma GCC poison asio
