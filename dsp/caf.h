// Core Audio Format (CAF) recordings, read by hand.
//
// CAF is what Apple's audio APIs write by default (an iPhone app's AVAudioRecorder, macOS's
// afconvert), often as linear PCM. The reader follows Apple's CAF specification: the file header
// ("caff", version 1), the desc chunk (the sample rate as a 64-bit float, the format ID and
// flags, bytes and frames per packet, channels, bits), the data chunk (its edit count; a size
// of -1, as a recorder that was stopped leaves it, runs to the end of the file), other chunks
// skipped. Samples: linear PCM of 8, 16, 24 or 32 bits big- or little-endian, IEEE float of 32
// or 64 bits, G.711 mu-law and A-law; any number of channels, averaged to mono; scaled as the
// WAV reader scales them. A data chunk that runs past the end of the file (cut short) is read to
// its last whole frame and WavInfo::note says so; anything else malformed is an error naming the
// file. Compressed CAF (AAC, Apple Lossless, IMA ADPCM, Opus, ...) is refused with the format's
// name and how to convert the file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dsp/wav.h"

namespace duet::dsp {

// Whether the bytes start like a CAF file ("caff").
bool is_caf(const std::vector<uint8_t>& bytes);

// WavInfo::encoding is the WAV reader's word and the container ("pcm (CAF)", "pcm big-endian
// (CAF)", "float (CAF)", "mu-law (CAF)", "a-law (CAF)"); bits_per_sample the desc chunk's bits
// per channel. `name` is used in error messages in place of a path.
Audio decode_caf(const std::vector<uint8_t>& bytes, const std::string& name, WavInfo* info = nullptr);

}  // namespace duet::dsp
