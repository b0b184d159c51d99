// WAV files, read and written by hand.
//
// Reads RIFF/WAVE (and RF64/BW64) with PCM 8/16/24/32-bit integers, IEEE float 32/64, G.711
// mu-law and A-law (8-bit telephone recordings) and WAVE_FORMAT_EXTENSIBLE wrapping any of
// them; any number of channels (averaged to mono); unknown chunks are skipped. Samples come out as float in
// [-1, 1), scaled like torchaudio.load (int16 / 32768, uint8 (v - 128) / 128, G.711 through
// its 16-bit expansion / 32768, ...); float files as stored (a value past 1 is kept, as
// torchaudio.load keeps it; NaN or infinity is an error). Every size field is checked against
// the file; anything malformed or unsupported is an error naming the file. One exception, as in
// libsndfile and ffmpeg: a data chunk whose size is unset (a recording streamed to a pipe) or
// runs past the end of the file (a file cut short) is read to the end of the file, and
// WavInfo::note says so.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace duet::dsp {

// Sample rates the reader accepts. Below 1 kHz a header is damaged rather than speech (a
// "1 Hz" recording of 8000 samples would be resampled to 64 million at 8 kHz).
constexpr int kMinWavRate = 1000, kMaxWavRate = 1000000;

struct WavInfo {
  int sample_rate = 0;
  int channels = 0;
  int bits_per_sample = 0;
  std::string encoding;  // "pcm", "float", "mu-law" or "a-law"
  int64_t frames = 0;    // samples per channel
  std::string note;      // non-empty when the header's data size was unset or wrong (read to the end)
  double seconds() const { return sample_rate ? double(frames) / sample_rate : 0.0; }
};

struct Audio {
  int sample_rate = 0;
  std::vector<float> samples;  // mono
};

Audio read_wav(const std::string& path, WavInfo* info = nullptr);
// What kind of audio file other than WAV the bytes start like ("an MP3 file", "a FLAC file", an
// MP4/M4A, Ogg, AIFF, WebM, AMR, CAF or WMA file, a RIFF file of another type), or "" when none:
// the WAV reader names it in its error, with how to convert it (read_audio reads AIFF, CAF, FLAC,
// MP3, AAC and Ogg Vorbis itself).
// RF64/BW64 (WAV past 4 GB, its sizes in a ds64 chunk) is read as WAV.
std::string audio_format_of(const std::vector<uint8_t>& bytes);
// ITU-T G.711 expansions to 16-bit linear values (the tables every telephony codec uses):
// mu-law reaches +-32124, A-law +-32256; divided by 32768 like 16-bit PCM.
int mulaw_to_linear(uint8_t u);
int alaw_to_linear(uint8_t a);
// How the AIFF and CAF readers' files store one uncompressed sample: a signed integer of `bytes`
// bytes (scaled as WAV's: int16 / 32768, int24 / 2^23, ...), unsigned 8-bit ((v - 128) / 128),
// IEEE float of 4 or 8 bytes (as stored), or G.711 (one byte); either byte order.
struct PcmCoding {
  enum class Kind { kSigned, kUnsigned8, kFloat, kMuLaw, kALaw } kind = Kind::kSigned;
  int bytes = 2;
  bool little_endian = false;
};
// `frames` frames of `channels` interleaved samples from `data`, averaged to mono.
std::vector<float> pcm_to_mono(const uint8_t* data, uint64_t frames, int channels, const PcmCoding& coding);
// What the readers append to a refusal: how to convert the file into one duet reads.
extern const char* const kConvertAdvice;  // " (convert it first, e.g. ffmpeg -i FILE -ac 1 FILE.wav)"
// The formats read_audio reads, as the readers' refusals name them.
extern const char* const kAudioFormatsRead;  // "WAV, AIFF, CAF, FLAC, MP3, AAC (M4A) and Ogg Vorbis"
// The size of the ID3v2 tag at `at` (header, body and footer), or 0 when there is none (taggers
// put one before MP3, FLAC and ADTS streams).
size_t id3v2_size(const std::vector<uint8_t>& bytes, size_t at = 0);
// Where a stream starts: past every ID3v2 tag at the start of the bytes (0 when there is none).
size_t after_id3v2_tags(const std::vector<uint8_t>& bytes);
// A decoder's channels (each as long as the first) averaged to mono, from sample `begin` for
// `length` samples.
Audio mono_from_channels(const std::vector<std::vector<float>>& channels, int sample_rate, size_t begin, size_t length);
// `name` is used in error messages in place of a path.
Audio decode_wav(const std::vector<uint8_t>& bytes, const std::string& name, WavInfo* info = nullptr);
WavInfo read_wav_info(const std::string& path);

// A recording in any format duet reads, told apart by its bytes (not its name): WAV
// (decode_wav), AIFF (decode_aiff, dsp/aiff.h), CAF (decode_caf, dsp/caf.h), FLAC (decode_flac,
// dsp/flac.h; WavInfo::encoding "flac"), MP3 (decode_mp3, dsp/mp3.h), AAC in M4A or ADTS
// (decode_aac, dsp/aac.h) or Ogg Vorbis (decode_vorbis, dsp/vorbis.h). What every command that
// takes the user's recordings reads them with.
Audio read_audio(const std::string& path, WavInfo* info = nullptr);
Audio decode_audio(const std::vector<uint8_t>& bytes, const std::string& name, WavInfo* info = nullptr);

// A recording's level: its peak (largest |sample|), its mean (the DC offset) and how many
// samples lie within 1% of the peak. A recording clipped at its input holds runs of samples
// at full scale (both signs: 1% covers 16-bit's +32767 against -32768 and 8-bit's +127
// against -128); a clean one comes near its peak once or twice.
struct Level {
  double peak = 0, mean = 0;
  int64_t near_peak = 0;  // samples within 1% of the peak
  int sample_rate = 0;
  double near_peak_seconds() const { return sample_rate > 0 ? double(near_peak) / sample_rate : 0.0; }
  // Clipped: samples near a peak of -0.5 dBFS or more that last kClippedSeconds in all (4 samples
  // at 8 kHz), counted in time so that a recording at a higher rate, with more samples on every
  // crest, is judged alike. Of FSDD's 3000 clips, 11 peak that high, with at most 3 samples
  // (0.375 ms) near it; each of the official test clips driven 3 dB past full scale
  // (tools/mic.py --overdrive 3) has 4 or more.
  static constexpr double kClippedSeconds = 0.0005;
  static constexpr double kClippedPeak = 0.944;
  bool clipped() const { return peak >= kClippedPeak && near_peak_seconds() >= kClippedSeconds; }
};
// The largest |sample| (0 for none).
double peak_level(const std::vector<float>& samples);
// The level of samples recorded at sample_rate (> 0).
Level measure_level(const std::vector<float>& samples, int sample_rate);

// Mono, 16-bit PCM; samples are clipped to [-1, 1].
void write_wav(const std::string& path, const std::vector<float>& samples, int sample_rate);
std::vector<uint8_t> encode_wav(const std::vector<float>& samples, int sample_rate);

}  // namespace duet::dsp
