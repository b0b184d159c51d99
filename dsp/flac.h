// FLAC files, decoded by hand (the format of RFC 9639).
//
// FLAC is how many recorders and sound libraries store speech losslessly (and what a
// download of a spoken-digit set often holds). The decoder reads the STREAMINFO block, skips
// every other metadata block (and an ID3v2 tag some taggers put before the stream), and decodes
// every frame: CONSTANT, VERBATIM, FIXED (orders 0-4) and LPC (orders 1-32) subframes, Rice
// residuals with 4- and 5-bit parameters and escaped partitions, wasted bits, and the
// left/side, side/right and mid/side stereo decorrelations; fixed and variable block sizes;
// 4 to 32 bits per sample; 1 to 8 channels (averaged to mono, as WAV channels are). Samples come
// out as float like torchaudio.load's: value / 2^(bits - 1) (16-bit: / 32768).
//
// Every frame's header CRC-8 and frame CRC-16 are checked; a damaged frame, a reserved code, a
// frame whose rate, channel count or sample size differs from STREAMINFO's, or a sample outside
// its bit depth is an error naming the file and the frame. One exception, as for WAV: a file
// cut short in its last frame keeps the frames before it, and WavInfo::note says so.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dsp/wav.h"

namespace duet::dsp {

// Whether the bytes hold a FLAC stream: "fLaC" at the start, or just after an ID3v2 tag.
bool is_flac(const std::vector<uint8_t>& bytes);

// WavInfo::encoding is "flac"; bits_per_sample is the stream's (4 to 32). `name` is used in
// error messages in place of a path.
Audio decode_flac(const std::vector<uint8_t>& bytes, const std::string& name, WavInfo* info = nullptr);

// The checksums of a FLAC frame: CRC-8 (polynomial 0x07) of its header and CRC-16 (0x8005) of the
// whole frame, both starting from 0. Public for the tests that build frames by hand.
uint8_t flac_crc8(const uint8_t* p, size_t n);
uint16_t flac_crc16(const uint8_t* p, size_t n);

}  // namespace duet::dsp
