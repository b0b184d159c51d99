// AAC recordings (MPEG-4 AAC-LC in an MP4/M4A file or an ADTS stream), decoded by hand.
//
// AAC in an M4A file is what phones' voice recorders and many apps save (an iPhone's Voice Memos,
// Android's recorder); ADTS (.aac) is the same audio as a plain stream. The decoder follows
// ISO/IEC 14496-3 (AAC-LC) and 14496-12/14 (the MP4 file): the first audio track's sample table
// and decoder configuration, or ADTS headers (CRC-protected ones too, their CRC not checked);
// single and paired channel elements (and LFE), section data, scalefactors, the 11 spectral
// Huffman codebooks with escapes, pulse data, mid/side and intensity stereo, perceptual noise
// substitution, temporal noise shaping, and the filterbank (IMDCT of 2048 or 8 x 256 lines, sine
// and Kaiser-Bessel windows, the four window sequences and their overlap). Channels are averaged
// to mono, samples come out as float in about [-1, 1]. An MP4 file's edit list is applied: the
// encoder's priming samples skipped, the clip cut to the edit's length.
//
// A damaged element or a value outside what the syntax allows is an error naming the file and
// the frame; an ADTS stream or MP4 file cut short keeps its whole frames, and WavInfo::note says
// so. Refused, with how to convert the file: other codecs in an MP4 file (ALAC, AMR, ...), an
// MP4 with no audio, AAC profiles other than LC (Main, SSR, LTP, and HE-AAC signalled as such;
// SBR data inside LC frames is skipped and the LC core read, at half the rate), 960-sample
// frames, coupling channels and program configuration elements.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dsp/wav.h"

namespace duet::dsp {

// Whether the bytes start like an MP4/M4A/3GP file ("ftyp" at byte 4) or an ADTS frame (after
// any ID3v2 tags).
bool is_aac(const std::vector<uint8_t>& bytes);

// WavInfo::encoding names the codec and container ("AAC-LC (M4A)", "AAC-LC (ADTS)");
// bits_per_sample is 0. `name` is used in error messages in place of a path.
Audio decode_aac(const std::vector<uint8_t>& bytes, const std::string& name, WavInfo* info = nullptr);

}  // namespace duet::dsp
