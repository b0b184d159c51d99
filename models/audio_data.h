// Spoken digits as model inputs: the recipe that turns any WAV into features, the
// augmentations used in training, and an in-memory set of clips that makes batches.
#pragma once
#include <array>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dsp/features.h"
#include "engine/rng.h"
#include "engine/tensor.h"
#include "models/datasets.h"

namespace duet::models {

// Everything needed to reproduce an audio model's input from a WAV file; saved in
// config.json next to the weights.
struct AudioRecipe {
  int sample_rate = 8000;        // clips are resampled to this rate first
  int64_t num_samples = 8000;    // then zero-padded or cropped to this length
  dsp::FrontendConfig frontend;  // then turned into [1, bins, frames] features
  bool centre = true;            // short clips are centred in their window (else padded at the end)
  bool band_norm = false;        // per-band mean removal (dsp::subtract_band_means) before that
  bool trim = false;             // trailing and leading silence trimmed first (trim_silence)
  bool declick = false;          // with trim, clicks apart from the word silenced before (without_clicks)
  double highpass_hz = 0;        // > 0: DC and what lies below this removed first (dsp::highpass)
  bool standardize = true;       // per-clip standardisation of the features
  // Test-time views: evaluation and prediction play each clip at these speeds (resampling
  // factors, as the training's speed perturbation) and average the network's log-probabilities
  // over them. Empty: the clip as it is, once.
  std::vector<double> test_speeds;
  Shape input_shape() const;     // [1, bins, frames]
  nlohmann::json to_json() const;
  static AudioRecipe from_json(const nlohmann::json& j);
};

// Checks a list of test-time speeds: 1 to 9 factors, each in [0.5, 2].
void check_test_speeds(const std::vector<double>& speeds);
// Checks a training speed perturbation range: 0.5 <= lo <= hi <= 2.
void check_speed_range(double lo, double hi);
// Checks a training vocal-tract length perturbation range: dsp::kVtlpMin <= lo <= hi <= dsp::kVtlpMax.
void check_warp_range(double lo, double hi);

// "course": the course's features exactly: 48000 samples, torchaudio's MelSpectrogram()
// defaults (which assume 16 kHz) and AmplitudeToDB(), no normalisation.
// "duet": 8 kHz done right: 1 s at 8 kHz, n_fft 256, hop 64, 64 mels up to 4 kHz,
// top_db 80, per-band mean removal and per-clip standardisation. Silence before and after
// the word is trimmed, so the word itself is centred; clips still longer than the window keep
// their loudest stretch (see loudest_window); clicks apart from the word (without_clicks) are
// silenced before the trimming. Evaluated at speeds 0.92, 1 and 1.08.
AudioRecipe audio_recipe(const std::string& name);

// The spectrum of added noise: white (flat) or pink (power falling as 1/f, equal power per
// octave, nearer the hum, traffic and room noise of real recordings than white noise is).
enum class NoiseColour { white, pink };

struct AudioAugment {
  bool enabled = false;
  double max_shift = 0.1;         // random placement of the clip in its window, fraction of the window
  // Resampling factor: tempo and pitch, like a different vocal tract. 0.85-1.18 reaches voices
  // further from the training speakers' than 0.92-1.08 did (docs/training.md).
  double speed_min = 0.85, speed_max = 1.18;
  double gain_db = 6.0;           // random gain +- this
  // Noise: with this chance a clip gets noise at an SNR drawn from [snr_min_db,
  // snr_max_db], over the whole window (the background around the word as well as the word,
  // as in a noisy recording and in duet eval --robustness) or, with noise_on_window false,
  // over the clip only, its padding left silent.
  double noise_prob = 0.5;
  double snr_min_db = 0, snr_max_db = 30;
  bool noise_on_window = true;
  double pink_share = 0;          // the share of those noises that is pink rather than white
  // Rooms: with this chance a clip is heard in a room drawn at random (dsp/room.h), its
  // reverberation time from [rt60_min, rt60_max] s and its direct-to-reverberant ratio from
  // [drr_min_db, drr_max_db], before the noise is added (as a microphone in a room hears it).
  double reverb_prob = 0;
  double rt60_min = 0.2, rt60_max = 1.0;
  double drr_min_db = -3, drr_max_db = 12;
  // Cut words: with this chance the clip loses up to cut_max of its word at its start or its
  // end (cut_word, either end as likely), as a recording started late or stopped early does.
  double cut_prob = 0, cut_max = 0.3;
  // Overdrive: with this chance the clip is amplified until its peak lies 0 to
  // overdrive_max_db above full scale and clipped there (overdrive), as a microphone input
  // turned up too far records a loud voice; after the room, before the noise.
  double overdrive_prob = 0, overdrive_max_db = 24;
  // Clicks: with this chance a click (with_click: a burst of 1-6 ms, 0.5-4 times the clip's
  // peak) is heard 0 to click_max_gap s after the word or before it, as a key or button that
  // starts or stops a recording sounds; close enough to the word that the click step
  // (without_clicks) keeps it. After the overdrive, before the gain and the noise.
  double click_prob = 0, click_max_gap = 0.15;
  // Lossy coding: with this chance the clip is heard as a low-bitrate coder returns it
  // (dsp::lossy_coded): frames of lossy_hop_min_s to lossy_hop_max_s (log-uniform; MP3's
  // granule is 72 ms at 8 kHz, AAC's frame 128 ms), every band left lossy_snr_min_db to
  // lossy_snr_max_db above its quantisation noise, nothing above a cut-off drawn from
  // lossy_cutoff_min_hz to the Nyquist frequency. Drawn after the clicks; the whole window is
  // coded last, its noise included (a noisy recording saved at a low bitrate).
  double lossy_prob = 0, lossy_hop_min_s = 0.016, lossy_hop_max_s = 0.128;
  double lossy_snr_min_db = 0, lossy_snr_max_db = 15, lossy_cutoff_min_hz = 2500;
  // Vocal-tract length perturbation: each clip's spectrum warped along the frequency axis by
  // a factor drawn from [warp_min, warp_max] (dsp::warp_bins; > 1 moves the formants up, as a
  // shorter vocal tract does, without the speed perturbation's change of tempo). 1, 1: none.
  double warp_min = 1, warp_max = 1;
  bool warps() const { return warp_min != 1 || warp_max != 1; }
  int time_masks = 1, max_time_mask = 10;   // SpecAugment bands (frames)
  int freq_masks = 1, max_freq_mask = 6;    // (mel bins)
};

// Per-clip effects for evaluation under degradation and for fusion training.
struct ClipEffects {
  double snr_db = INFINITY;  // noise at this SNR (inf: none)
  NoiseColour colour = NoiseColour::white;  // of that noise
  bool silent = false;       // the clip is replaced by silence (a missing modality)
  double speed = 1.0;        // the clip played at this speed (at_speed: a test-time view, a voice shift)
  // The clip recorded in a room (before any speed change): reverberation time in seconds (0:
  // none) and direct-to-reverberant ratio (dsp/room.h). Each clip's room is drawn from
  // room_seed and the clip's index, so the test-time views of a clip hear the same room.
  double rt60 = 0;
  double drr_db = 0;
  uint64_t room_seed = 0;
  // The recording started late (cut_at_start) or stopped early: this fraction of the word cut
  // off at that end (cut_word), before anything else happens to the clip (0: none).
  double cut = 0;
  bool cut_at_start = true;
  // The recording overdriven at its input: amplified until its peak lies this many dB above
  // full scale and clipped (overdrive), after the room, before any speed change (0: none).
  double overdrive_db = 0;
};

// Clips held in memory as recipe_clip makes them (at the recipe's sample rate, trimmed when
// the recipe trims; not yet padded), with their labels. A recording that cannot be read, or a
// silent one (check_audible), is an error naming its file.
class AudioSet {
 public:
  AudioSet(const data::Fsdd& ds, const std::vector<int64_t>& indices, const AudioRecipe& recipe);
  int64_t size() const { return int64_t(waves_.size()); }
  int32_t label(int64_t i) const { return labels_[i]; }
  const std::string& speaker(int64_t i) const { return speakers_[i]; }
  const std::string& path(int64_t i) const { return paths_[i]; }
  const std::vector<float>& wave(int64_t i) const { return waves_[i]; }
  const AudioRecipe& recipe() const { return recipe_; }
  // Features [B, 1, bins, frames] on `device` for the given clips, augmented when
  // aug.enabled; `effects` (empty, or one per clip) adds noise or silences clips.
  Tensor batch(const std::vector<int64_t>& idx, const AudioAugment& aug, Rng& rng, Device device,
               const std::vector<ClipEffects>& effects = {}) const;

 private:
  AudioRecipe recipe_;
  std::vector<std::vector<float>> waves_;
  // Unaugmented clips at other speeds (test-time views), fitted to the window, made once:
  // key: the speed in 1/10000, then one entry per clip (empty until first asked for).
  mutable std::map<int64_t, std::vector<std::vector<float>>> views_;
  std::vector<int32_t> labels_;
  std::vector<std::string> speakers_, paths_;
};

// Start of the `length`-sample stretch of x with the most energy (0 when x is not longer):
// where a clip longer than the model's window is cut, so that a digit said early or late
// in a long recording is not cropped away.
int64_t loudest_window(const std::vector<float>& x, int64_t length);
// Fails (duet::Error) when a recording holds no word to hear: no samples at all, or no sample
// louder than kSilentPeak (-80 dBFS, three steps of 16-bit audio; FSDD's quietest clip peaks
// at -40 dBFS). The recogniser would otherwise answer with a confident-looking digit for
// silence. duet predict and eval --inputs check every recording they are given.
constexpr float kSilentPeak = 1e-4f;
void check_audible(const std::vector<float>& samples);
// One waveform (any rate) -> padded/cropped samples at the recipe's rate, centred when it
// has to be padded, its loudest stretch when it has to be cropped (the same placement as in
// evaluation batches).
std::vector<float> prepare_wave(const std::vector<float>& samples, int rate, const AudioRecipe& recipe);
// The clip as the recipe keeps it in memory: resampled to the recipe's rate, high-passed
// when recipe.highpass_hz > 0 and, with recipe.trim, trimmed of silence (after clicks apart
// from the word are silenced, with recipe.declick).
// prepare_wave = fit_to_window(recipe_clip(...)).
std::vector<float> recipe_clip(const std::vector<float>& samples, int rate, const AudioRecipe& recipe);
std::vector<float> fit_to_window(const std::vector<float>& clip, const AudioRecipe& recipe);
// The clip (at `rate`) played at `speed`: treated as recorded at rate * speed and resampled
// back to rate, so speed < 1 is slower and lower, as from a longer vocal tract. The
// training's speed perturbation and the test-time views both use it.
std::vector<float> at_speed(const std::vector<float>& clip, double speed, int rate);
// A click apart from the word (a key pressed to stop the recording, a tap on the microphone)
// would count as sound: silence trimming would keep everything up to it, the word would sit off
// centre in its window, and its burst would spread over every mel band. The clip's stretches of
// sound (runs of 32 ms frames within 40 dB of the loudest, those less than kClickGap seconds
// apart joined: the silences inside a word, such as the closure before the t of "eight") are
// found; every stretch but the longest (the word: a click can hold more energy than a quiet
// word) whose frames all start within kClickLength seconds (a burst of up to about 20 ms) is set
// to silence. `clicks` (when given) says how many. The duet recipe
// does this before it trims the silence (recipe_clip).
constexpr double kClickGap = 0.12, kClickLength = 0.05;
std::vector<float> without_clicks(const std::vector<float>& x, int rate, int* clicks = nullptr);
// The words of a recording of several digits said in a row (a number, a PIN, a phone number),
// in order: [from, to) in samples. The stretches of sound are runs of 32 ms frames (a quarter
// frame apart) above a floor: 40 dB below the loudest frame, or where that is higher,
// kWordFloorAboveNoise dB above the recording's background (its quietest tenth of frames), or
// halfway (in dB) from the background to the loudest frame when that is lower (a noisy
// recording, or one without pauses), reaching out on either side to where the frames fall to
// kWordEdgeAboveNoise dB above the background (or the floor, if lower). Stretches less than
// kWordGap seconds apart are one word (the silences inside a word: the closure before the t of
// "eight", the k of "six"); but a word longer than kLongWord seconds (longer than 99% of FSDD's
// words) is taken for words said with short pauses and split at pauses of kSplitGaps[0], else
// kSplitGaps[1], seconds where that leaves parts all at least kShortWord long. A click (a
// stretch whose frames all start within kClickLength seconds) and a stretch whose loudest frame
// lies more than kWordQuiet dB below the loudest (a breath, a rustle) are not words. Words said
// without a pause between them come back as one. The background is measured only in a recording
// that holds silence: consecutive frames spanning at least `gap_s` seconds, none more than
// kSilentSpread dB above the quietest tenth (silence is steady). A recording without one (trimmed
// tight around words said without a pause) has no silence to measure, only the soft parts of its
// words: its background is its quietest frame, and its sound is one stretch from the first word to
// the last (it holds no pause to part them; cut_run_together cuts it). duet predict --number reads
// each word (docs/training.md, Numbers).
constexpr double kWordGap = 0.2, kWordFloorAboveNoise = 12, kWordEdgeAboveNoise = 4, kWordQuiet = 30;
constexpr double kSilentSpread = 3;
constexpr double kLongWord = 0.6, kShortWord = 0.2;
constexpr std::array<double, 2> kSplitGaps = {0.1, 0.05};
std::vector<std::pair<int64_t, int64_t>> word_stretches(const std::vector<float>& x, int rate,
                                                        double gap_s = kWordGap);
// Word k of x's `words` (word_stretches) as a recording of that word alone, `seconds` long (longer
// when the word is): the word with up to kWordMargin seconds of x on each side (never past halfway
// to a neighbouring word), centred, and around it x's background (its samples outside every word
// and its margins, repeated as often as needed; silence when there are none). A model then hears
// the recording's own noise around the word, not silence, as it hears a recording of one word.
constexpr double kWordMargin = 0.1;
std::vector<float> word_in_context(const std::vector<float>& x, int rate,
                                   const std::vector<std::pair<int64_t, int64_t>>& words, size_t k, double seconds);
// Where a stretch of sound [from, to) of x (a word of word_stretches) could be cut if it holds words
// said without a pause between them: the middles of the 32 ms frames (a quarter frame apart) that are
// the quietest within kCutSpacing seconds on either side and at least kCutDip dB below the loudest
// frame within kCutReach seconds on each side (a dip between two syllables or two words), at least
// kShortestWord seconds inside the stretch; in order, each with its depth (dB below the lower of
// the two loudest frames). cut_run_together picks among them.
constexpr double kCutSpacing = 0.03, kCutDip = 3, kCutReach = 0.1, kShortestWord = 0.1;
struct WordCut {
  int64_t at;     // sample
  double dip_db;  // >= kCutDip
};
std::vector<WordCut> word_cuts(const std::vector<float>& x, int rate, int64_t from, int64_t to);
// `words` (word_stretches of x) with each stretch longer than kRunTogether seconds (longer than any
// of FSDD's 3000 words) cut into the words said in it without a pause, where a model reads them
// best. `log_p` gives, for recordings of one word each (`seconds` long, word_in_context), the
// log-probability of the digit the model reads in each. A cutting of a stretch at some of its
// word_cuts scores, for each piece (kShortestWord to `seconds` long; the whole stretch always
// counts), the model's log-probability, minus kWordCost, minus kLengthCost * ln(length /
// kTypicalWord)^2 (a word's length: FSDD's words are 0.27 s long give or take a factor of 1.5),
// plus kDipWorth per dB of each cut's dip; the best-scoring cutting is kept (a stretch whose
// pieces the model reads no better than the whole stays whole). `cut`, when given, counts the
// stretches cut.
constexpr double kRunTogether = 0.7, kTypicalWord = 0.27;
constexpr double kWordCost = 1.5, kLengthCost = 3, kDipWorth = 0.05;
using WordReader = std::function<std::vector<double>(const std::vector<std::vector<float>>&)>;
std::vector<std::pair<int64_t, int64_t>> cut_run_together(const std::vector<float>& x, int rate,
                                                          std::vector<std::pair<int64_t, int64_t>> words,
                                                          double seconds, const WordReader& log_p, int* cut = nullptr);
// The stretch from the first to the last 32 ms frame whose energy is within `floor_db` of the
// loudest frame's, widened by `margin_s` on each side (within the clip): what is left of a
// recording once the silence (or the low hiss) before and after the word is cut off. A clip
// with no energy at all comes back unchanged.
std::vector<float> trim_silence(const std::vector<float>& x, int rate, double floor_db = 40.0, double margin_s = 0.1);
// Where the word lies in x: [first, last) from the first to the end of the last 32 ms frame
// whose energy is within `floor_db` of the loudest frame's (trim_silence without margins);
// {0, size} for a clip too short to frame or without energy.
std::pair<int64_t, int64_t> word_bounds(const std::vector<float>& x, int rate, double floor_db = 40.0);
// x as a recording that starts late (at_start) or stops early: `fraction` (in [0, 1)) of the
// word (word_bounds) cut off at that end, together with what lies before or after it. The
// training's --cut-word augmentation; FSDD itself holds such clips (7_nicolas_43 starts on
// the vowel of "seven").
std::vector<float> cut_word(const std::vector<float>& x, int rate, double fraction, bool at_start);
// x amplified until its peak lies `db` (>= 0) above full scale and clipped to [-1, 1]: a
// recording overdriven at its input (the training's --overdrive augmentation; tools/mic.py
// writes test clips so). Silence stays silence.
std::vector<float> overdrive(const std::vector<float>& x, double db);
// x with a click `gap_s` (>= 0) seconds after its end (after) or before its start: silence, then
// a burst of white noise `ms` long (> 0) decaying linearly from `level` (a share of full scale,
// in (0, 1]). The training's --clicks augmentation.
std::vector<float> with_click(const std::vector<float>& x, int rate, double gap_s, bool after, double level, double ms,
                              Rng& rng);
// The clip (at the recipe's rate) heard in a room (dsp::room_response drawn from rng, then
// dsp::convolve): the word followed by its reverberation, trimmed of what lies 40 dB below
// the loudest frame when the recipe trims, as recipe_clip trims a recording.
std::vector<float> in_room(const std::vector<float>& clip, double rt60, double drr_db, const AudioRecipe& recipe, Rng& rng);
// Features for a batch of prepared waveforms [B, num_samples] (the recipe's front-end +
// standardisation); `warps` (empty, or one factor per clip) warps each clip's spectrum
// (dsp::warp_bins) before the normalisation.
Tensor audio_features(const Tensor& waves, const AudioRecipe& recipe, const std::vector<double>& warps = {});
// Adds noise to x[0, n) (a clip, or a batch row in place) at `snr_db` relative to the
// power of the loudest half of its samples, so that silence does not count; the noise's power
// is its power over the whole band.
void add_noise(float* x, size_t n, double snr_db, Rng& rng, NoiseColour colour = NoiseColour::white);
// n samples of pink noise of unit power (mean square 1 over the n samples).
std::vector<double> pink_noise(size_t n, Rng& rng);

}  // namespace duet::models
