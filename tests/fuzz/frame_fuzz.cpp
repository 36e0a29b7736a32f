// libFuzzer target for the channel frame decoder: any bytes in, never a crash, and these
// properties hold (a violated property aborts, which libFuzzer reports as a crash):
//   - decoding the input in one piece and in chunks (sizes taken from the input) gives the same
//     frames and the same error: the decoder does not depend on how TCP splits the stream;
//   - every decoded frame re-encodes to exactly the bytes it was decoded from (one canonical
//     encoding, nothing silently dropped or invented);
//   - a failed decoder stays failed;
//   - a decoder that keeps every frame in its own buffer (keep_frames_in_buffer(), a firmware
//     session's) fed exactly wanted() bytes at a time takes all of each piece and gives the
//     same frames: a caller that reads no more than that never has bytes left over.
#include <lanyard/core/frame_decoder.hpp>

#include <lanyard/core/frame.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

using namespace lanyard::core;

#define FRAME_FUZZ_CHECK(cond)                                                                     \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace {

struct outcome {
  std::vector<std::vector<std::byte>> encodings; // each frame, re-encoded
  std::error_code error;
  std::size_t consumed = 0;
};

// Decodes `in` fed in chunks whose sizes cycle through `chunks` (0 means "all the rest").
outcome decode(std::span<const std::byte> in, std::span<const std::uint8_t> chunks,
               std::size_t max_body) {
  frame_decoder dec(max_body);
  outcome out;
  std::size_t c = 0;
  while (!in.empty()) {
    std::size_t n = chunks.empty() ? 0 : chunks[c++ % chunks.size()];
    if (n == 0 || n > in.size()) n = in.size();
    auto piece = in.first(n);
    in = in.subspan(n);
    while (!piece.empty()) {
      decode_result r = dec.decode(piece);
      FRAME_FUZZ_CHECK(r.consumed <= piece.size());
      FRAME_FUZZ_CHECK(!(r.error && r.value));
      piece = piece.subspan(r.consumed);
      out.consumed += r.consumed;
      if (r.error) {
        out.error = r.error;
        // Sticky: the same error again, nothing consumed.
        decode_result again = dec.decode(piece.empty() ? in : piece);
        FRAME_FUZZ_CHECK(again.error == r.error && again.consumed == 0 && !again.value);
        return out;
      }
      if (r.value) {
        std::vector<std::byte> enc;
        encode_frame(*r.value, enc);
        FRAME_FUZZ_CHECK(enc.size() == encoded_size(*r.value));
        // The limit is on the message: a CONTROL frame has one byte (its service) more.
        FRAME_FUZZ_CHECK(enc.size() <= frame_header_size + max_body +
                                           (control_body_min_size - data_body_min_size));
        out.encodings.push_back(std::move(enc));
      } else {
        FRAME_FUZZ_CHECK(piece.empty());
      }
    }
  }
  return out;
}

// The firmware's way: keep mode, pieces of exactly wanted() bytes.
outcome decode_by_wanted(std::span<const std::byte> in, std::size_t max_body) {
  frame_decoder dec(max_body);
  FRAME_FUZZ_CHECK(dec.keep_frames_in_buffer());
  outcome out;
  while (!in.empty()) {
    const std::size_t want = dec.wanted();
    FRAME_FUZZ_CHECK(want > 0);
    const auto piece = in.first(std::min(want, in.size()));
    decode_result r = dec.decode(piece);
    out.consumed += r.consumed;
    if (r.error) {
      out.error = r.error;
      return out;
    }
    FRAME_FUZZ_CHECK(r.consumed == piece.size());
    in = in.subspan(r.consumed);
    if (r.value) {
      std::vector<std::byte> enc;
      encode_frame(*r.value, enc);
      out.encodings.push_back(std::move(enc));
      FRAME_FUZZ_CHECK(dec.wanted() == frame_header_size);
    }
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Byte 0: the maximum body size (small values reach frame_too_large); bytes 1..4: chunk sizes.
  if (size < 5) return 0;
  const std::size_t max_body = data[0] < 16 ? default_max_frame_body : std::size_t{data[0]} * 4;
  std::span<const std::uint8_t> chunks(data + 1, 4);
  std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data + 5), size - 5);

  const outcome whole = decode(in, {}, max_body);
  const outcome split = decode(in, chunks, max_body);
  FRAME_FUZZ_CHECK(whole.error == split.error);
  FRAME_FUZZ_CHECK(whole.encodings == split.encodings);
  const outcome kept = decode_by_wanted(in, max_body);
  FRAME_FUZZ_CHECK(whole.error == kept.error);
  FRAME_FUZZ_CHECK(whole.encodings == kept.encodings);

  // Canonical: the frames re-encode to exactly the input they came from.
  std::vector<std::byte> joined;
  for (auto& e : whole.encodings)
    joined.insert(joined.end(), e.begin(), e.end());
  FRAME_FUZZ_CHECK(joined.size() <= in.size());
  FRAME_FUZZ_CHECK(std::equal(joined.begin(), joined.end(), in.begin()));
  if (!whole.error) FRAME_FUZZ_CHECK(whole.consumed == in.size());
  return 0;
}
