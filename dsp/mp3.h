// MP3 files (MPEG-1, MPEG-2 and MPEG-2.5 audio layer III), decoded by hand.
//
// MP3 is how many voice recorders, apps and speech corpora store speech (Common Voice's clips
// are MP3). The decoder follows ISO/IEC 11172-3 and 13818-3: frame headers (every bitrate and
// rate, CRC-protected frames checked), side information, the bit reservoir, scalefactors
// (MPEG-1's scfsi sharing and MPEG-2's partitions), Huffman-coded spectra (tables 0-31 with their
// linbits, count1 tables A and B), requantisation, mid/side stereo, short-block reordering, the
// alias-reduction butterflies, the IMDCT with the four window shapes and their overlap, and the
// polyphase synthesis filterbank. Channels are averaged to mono, as WAV's are; samples come out
// as float in [-1, 1], as torchaudio.load gives them.
//
// An ID3v2 tag before the stream and ID3v1/APE tags after it are skipped; a Xing/Info or VBRI
// frame (a VBR file's table of contents) is not audio and is skipped too, and the LAME tag's
// encoder delay and padding are trimmed, so the samples are the encoder's input (as ffmpeg and
// mpg123 decode it). Bytes between frames that are not a frame (a damaged stretch) are skipped
// up to the next two frames in a row, and a file cut short keeps its whole frames; WavInfo::note
// says so. Layers I and II, free-format bitrates, intensity stereo and mixed blocks (which
// common encoders such as LAME never write) are refused with an error naming the file and frame.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dsp/wav.h"

namespace duet::dsp {

// Whether the bytes start like MPEG audio: an ID3v2 tag that is not followed by a FLAC stream,
// or an MPEG audio frame header.
bool is_mpeg_audio(const std::vector<uint8_t>& bytes);

// WavInfo::encoding names the version, layer and bitrate ("MPEG-1 layer III (MP3), 128
// kbit/s"); bits_per_sample is 0 (MP3 has none). `name` is used in error messages in place of a
// path.
Audio decode_mp3(const std::vector<uint8_t>& bytes, const std::string& name, WavInfo* info = nullptr);

}  // namespace duet::dsp
