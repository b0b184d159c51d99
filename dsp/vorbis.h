// Ogg Vorbis recordings, decoded by hand.
//
// Ogg Vorbis is how Wikimedia Commons and Wiktionary keep many of their spoken words (a word's
// pronunciation in many voices and accents), and what some recorders and games save. The
// decoder follows the Vorbis I specification and RFC 3533 (the Ogg container): Ogg pages (every
// page's CRC checked, packets spanning pages, the first Vorbis stream of a multiplexed file),
// the three headers, codebooks (ordered, sparse and full code lengths, vector lookup types 1
// and 2), floor type 1 (its amplitude decoding and line rendering), residue types 0, 1 and 2,
// mappings with submaps and square-polar channel coupling, and the IMDCT with Vorbis's power-
// sine windows of two block sizes and their overlap. Channels are averaged to mono, samples
// come out as float in about [-1, 1]. The granule positions trim the last block to the
// encoder's input (and the first, for a stream that starts part-way, as a cut one may).
//
// A page whose CRC does not match, missing pages, headers that break the specification or an
// audio packet that does (a code no codebook holds, a mode that does not exist) are errors
// naming the file and the page or packet; a file cut short keeps its whole packets and
// WavInfo::note says so. Refused, with how to convert the file: Ogg files of other codecs (Opus,
// FLAC, Speex) and floor type 0 (which encoders have not written since Vorbis's 2000 betas).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dsp/wav.h"

namespace duet::dsp {

// Whether the bytes start like an Ogg file ("OggS").
bool is_ogg(const std::vector<uint8_t>& bytes);

// The codec of an Ogg file's first stream, from its first packet: "Vorbis", "Opus", "FLAC",
// "Speex", "Theora" (video), or "" when the bytes are not an Ogg page or the packet is none of
// those. Reads only the first page (the first 300 bytes or so are enough).
std::string ogg_codec(const std::vector<uint8_t>& bytes);

// WavInfo::encoding is "Vorbis (Ogg)", with the encoder's nominal bitrate when the stream gives
// one ("Vorbis (Ogg), 22 kbit/s nominal"); bits_per_sample is 0. `name` is used in error messages in
// place of a path.
Audio decode_vorbis(const std::vector<uint8_t>& bytes, const std::string& name, WavInfo* info = nullptr);

}  // namespace duet::dsp
