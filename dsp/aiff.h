// AIFF and AIFF-C recordings, read by hand.
//
// AIFF is the uncompressed format of Apple's tools (GarageBand, Logic, QuickTime and many Mac
// recorders export it); AIFF-C adds a compression type. The reader follows Apple's AIFF 1.3 and
// AIFF-C drafts: the COMM chunk (channels, frames, sample size, the 80-bit extended sample rate;
// AIFF-C's compression type) and the SSND chunk (its offset; chunks in any order, other chunks
// skipped, odd sizes padded). Samples: big-endian PCM of 1-32 bits, left-justified in whole
// bytes (AIFF, AIFF-C 'NONE', 'twos', 'in24', 'in32'), little-endian PCM ('sowt'), unsigned
// 8-bit ('raw '), IEEE float of 32 or 64 bits ('fl32', 'fl64'), G.711 mu-law and A-law
// ('ulaw', 'alaw'); any number of channels, averaged to mono; scaled as the WAV reader scales
// them (int16 / 32768, float as stored). An SSND chunk shorter than the COMM chunk's frames (a
// file cut short) is read to its last whole frame and WavInfo::note says so; anything else
// malformed is an error naming the file. Other compression types (Apple's IMA ADPCM 'ima4',
// MACE, QDesign) are refused with how to convert the file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dsp/wav.h"

namespace duet::dsp {

// Whether the bytes start like an AIFF or AIFF-C file ("FORM" ... "AIFF" or "AIFC").
bool is_aiff(const std::vector<uint8_t>& bytes);

// WavInfo::encoding is the WAV reader's word and the container ("pcm (AIFF)", "pcm little-endian
// (AIFF-C)", "float (AIFF-C)", "mu-law (AIFF-C)", ...); bits_per_sample the COMM chunk's
// sample size. `name` is used in error messages in place of a path.
Audio decode_aiff(const std::vector<uint8_t>& bytes, const std::string& name, WavInfo* info = nullptr);

}  // namespace duet::dsp
