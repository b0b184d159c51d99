#!/usr/bin/env bash
# The duet binary's contract with its users: bad input gives one line on stderr that names
# the problem, a non-zero exit, and no crash. Usage: run_cli_tests.sh PATH/TO/duet WORKDIR
set -u
. "$(dirname "$0")/lib.sh" "$@"

expect_ok help "$duet" --help
expect_ok version "$duet" --version
expect_fail cpu-gemm-env "environment variable DUET_CPU_GEMM expects reference, portable or avx2" env DUET_CPU_GEMM=fast "$duet" devices
DUET_CPU_GEMM=reference "$duet" devices >"$work/out" 2>&1
check cpu-gemm-env-reference grep -q "GEMM reference loops" "$work/out"
expect_ok devices "$duet" devices
check devices-cpu-line grep -qE "^CPU: [0-9]+ OpenMP threads \(OMP_NUM_THREADS sets them\), GEMM (blocked|reference)" "$work/out"
expect_fail unknown-command "unknown command 'frobnicate'" "$duet" frobnicate
expect_fail unknown-flag "unknown option --bogus \\(see 'duet demo --help'\\)" "$duet" demo --bogus
expect_fail typo-suggestion "unknown option --chanels \\(did you mean --channels\\?\\)" "$duet" train --chanels 8,8
expect_fail typo-suggestion-switch "unknown option --nesterow \\(did you mean --nesterov\\?\\)" "$duet" train --nesterow
expect_fail typo-too-far "unknown option --xyz \\(see" "$duet" train --xyz
expect_fail missing-value "--steps needs a value" "$duet" demo --steps
expect_fail bad-integer "--steps expects an integer, got 'ten'" "$duet" demo --steps ten
expect_fail out-of-range "--steps must be in" "$duet" demo --steps 0
expect_fail bad-device "--device expects cpu or cuda, got 'tpu'" "$duet" demo --device tpu
if ! "$duet" devices | grep -q "^GPU 0"; then
  expect_fail cuda-without-gpu "--device cuda: .*(no CUDA device|without CUDA)" "$duet" demo --device cuda
fi
expect_fail band-norm-not-audio "--no-band-norm and --no-trim apply to --model audio" "$duet" train --model image --no-band-norm
expect_fail trim-not-audio "--no-band-norm and --no-trim apply to --model audio" "$duet" train --model fusion --no-trim
expect_fail hard-snr-without-hard "--hard-snr and --hard-energy set the --hard benchmark" "$duet" train --model fusion --hard-snr -10
expect_fail hard-snr-range "--hard-snr" "$duet" train --model fusion --hard --hard-snr -80
expect_fail hard-energy-range "--hard-energy" "$duet" train --model fusion --hard --hard-energy 0
expect_fail channels-not-a-list "--channels expects 1 to 5 comma-separated channel counts" "$duet" train --model audio --channels 32,x
expect_fail channels-too-many "--channels expects 1 to 5 comma-separated channel counts" "$duet" train --model audio --channels 8,8,8,8,8,8
expect_fail channels-zero "--channels expects 1 to 5 comma-separated channel counts" "$duet" train --model audio --channels 8,0
expect_fail channels-image "--channels applies to audio:duet and fusion models, not image:vgg" "$duet" train --model image --channels 8
expect_fail channels-image-duet "--channels applies to audio:duet and fusion models, not image:duet" "$duet" train --model image --arch image:duet --channels 8
expect_fail channels-seed "--channels applies to audio:duet and fusion models, not audio:seed" "$duet" train --model audio --arch audio:seed --channels 8
expect_fail n-fft-range "--n-fft must be in \\[64, 2048\\]" "$duet" train --model audio --n-fft 32
expect_fail n-fft-image "--n-fft applies to audio:duet .*not image:vgg" "$duet" train --model image --n-fft 512
expect_fail test-speeds-not-a-list "--test-speeds expects 1 to 9 comma-separated speed factors in \\[0.5, 2\\]" "$duet" train --model audio --test-speeds 1,x
expect_fail test-speeds-range "--test-speeds expects 1 to 9 comma-separated speed factors" "$duet" train --model audio --test-speeds 0.92,3
expect_fail test-speeds-empty "--test-speeds expects 1 to 9 comma-separated speed factors" "$duet" train --model audio --test-speeds 1,,1.08
expect_fail test-speeds-too-many "--test-speeds expects 1 to 9 comma-separated speed factors" "$duet" train --model audio --test-speeds 1,1,1,1,1,1,1,1,1,1
expect_fail test-speeds-image "--test-speeds applies to --model audio, not image" "$duet" train --model image --test-speeds 1
expect_fail test-speeds-fusion "--test-speeds applies to --model audio, not fusion" "$duet" train --model fusion --test-speeds 1
expect_fail test-shift-audio "--test-shift applies to --model image .*not audio" "$duet" train --model audio --test-shift 1
expect_fail test-shift-fusion "--test-shift applies to --model image .*not fusion" "$duet" train --model fusion --test-shift 1
expect_fail test-shift-range "train: --test-shift must be in \\[0, 4\\], got 5" "$duet" train --model image --test-shift 5
expect_fail test-shift-negative "train: --test-shift must be in \\[0, 4\\], got -1" "$duet" train --model image --test-shift -1
expect_fail test-shift-word "train: --test-shift expects an integer, got '1.5'" "$duet" train --model image --test-shift 1.5
expect_fail speed-range-order "--speed-range expects MIN,MAX with 0.5 <= MIN <= MAX <= 2" "$duet" train --model audio --speed-range 1.2,1.1
expect_fail speed-range-one "--speed-range expects MIN,MAX" "$duet" train --model audio --speed-range 0.9
expect_fail speed-range-wide "--speed-range expects MIN,MAX" "$duet" train --model audio --speed-range 0.4,1.1
expect_fail speed-range-image "--speed-range applies to --model audio .*not image" "$duet" train --model image --speed-range 1,1
expect_fail speed-range-no-augment "--speed-range is training augmentation; drop --no-augment" "$duet" train --model audio --no-augment --speed-range 0.9,1.1
expect_fail pink-noise-range "--pink-noise must be in \\[0, 1\\]" "$duet" train --model audio --pink-noise 1.5
expect_fail pink-noise-not-number "--pink-noise expects a number" "$duet" train --model audio --pink-noise half
expect_fail pink-noise-image "--pink-noise applies to --model audio .*not image" "$duet" train --model image --pink-noise 0.5
expect_fail pink-noise-no-augment "--pink-noise is training augmentation; drop --no-augment" "$duet" train --model audio --no-augment --pink-noise 0.5
expect_fail reverb-range "--reverb must be in \\[0, 1\\]" "$duet" train --model audio --reverb 2
expect_fail reverb-not-number "--reverb expects a number" "$duet" train --model audio --reverb some
expect_fail reverb-image "--reverb applies to --model audio .*not image" "$duet" train --model image --reverb 0.5
expect_fail reverb-fusion "--reverb applies to --model audio .*not fusion" "$duet" train --model fusion --reverb 0.5
expect_fail reverb-no-augment "--reverb is training augmentation; drop --no-augment" "$duet" train --model audio --no-augment --reverb 0.5
expect_fail reverb-seed "--reverb is training augmentation; audio:seed trains without any" "$duet" train --model audio --arch audio:seed --reverb 0.5
expect_fail cut-word-range "--cut-word must be in \\[0, 1\\]" "$duet" train --model audio --cut-word 2
expect_fail cut-word-not-number "--cut-word expects a number" "$duet" train --model audio --cut-word half
expect_fail cut-word-image "--cut-word applies to --model audio .*not image" "$duet" train --model image --cut-word 0.3
expect_fail cut-word-fusion "--cut-word applies to --model audio .*not fusion" "$duet" train --model fusion --cut-word 0.3
expect_fail cut-word-no-augment "--cut-word is training augmentation; drop --no-augment" "$duet" train --model audio --no-augment --cut-word 0.3
expect_fail overdrive-range "--overdrive must be in \\[0, 1\\]" "$duet" train --model audio --overdrive 2
expect_fail overdrive-not-number "--overdrive expects a number" "$duet" train --model audio --overdrive loud
expect_fail overdrive-image "--overdrive applies to --model audio .*not image" "$duet" train --model image --overdrive 0.3
expect_fail overdrive-fusion "--overdrive applies to --model audio .*not fusion" "$duet" train --model fusion --overdrive 0.3
expect_fail overdrive-no-augment "--overdrive is training augmentation; drop --no-augment" "$duet" train --model audio --no-augment --overdrive 0.3
expect_fail clicks-range "--clicks must be in \\[0, 1\\]" "$duet" train --model audio --clicks 2
expect_fail clicks-not-number "--clicks expects a number" "$duet" train --model audio --clicks many
expect_fail clicks-image "--clicks applies to --model audio .*not image" "$duet" train --model image --clicks 0.3
expect_fail clicks-no-augment "--clicks is training augmentation; drop --no-augment" "$duet" train --model audio --no-augment --clicks 0.3
expect_fail lossy-range "--lossy must be in \\[0, 1\\]" "$duet" train --model audio --lossy 2
expect_fail lossy-not-number "--lossy expects a number" "$duet" train --model audio --lossy half
expect_fail lossy-image "--lossy applies to --model audio .*not image" "$duet" train --model image --lossy 0.3
expect_fail lossy-no-augment "--lossy is training augmentation; drop --no-augment" "$duet" train --model audio --no-augment --lossy 0.3
expect_fail lossy-seed "--lossy is training augmentation; audio:seed trains without any" "$duet" train --model audio --arch audio:seed --lossy 0.3
expect_fail vtlp-range "--vtlp expects MIN,MAX with 0.7 <= MIN <= MAX <= 1.4, such as 0.9,1.2 .*got '0.5,1.2'" "$duet" train --model audio --vtlp 0.5,1.2
expect_fail vtlp-order "--vtlp expects MIN,MAX .*got '1.2,0.9'" "$duet" train --model audio --vtlp 1.2,0.9
expect_fail vtlp-one-number "--vtlp expects MIN,MAX .*got '1.1'" "$duet" train --model audio --vtlp 1.1
expect_fail vtlp-not-number "--vtlp expects MIN,MAX .*got 'women'" "$duet" train --model audio --vtlp women
expect_fail vtlp-image "--vtlp applies to --model audio .*not image" "$duet" train --model image --vtlp 0.9,1.2
expect_fail vtlp-fusion "--vtlp applies to --model audio .*not fusion" "$duet" train --model fusion --vtlp 0.9,1.2
expect_fail extra-fusion "--extra applies to --model audio and image .*not fusion" "$duet" train --model fusion --extra "$work"
expect_fail extra-missing "--extra $work/nowhere: not a folder" "$duet" train --model audio --extra "$work/nowhere"
expect_fail extra-no-value "--extra needs a value" "$duet" train --model audio --extra
expect_fail vtlp-no-augment "--vtlp is training augmentation; drop --no-augment" "$duet" train --model audio --no-augment --vtlp 0.9,1.2
expect_fail vtlp-seed "--vtlp is training augmentation; audio:seed trains without any" "$duet" train --model audio --arch audio:seed --vtlp 0.9,1.2
expect_fail pink-noise-seed "--pink-noise is training augmentation; audio:seed trains without any" "$duet" train --model audio --arch audio:seed --pink-noise 0.5
expect_fail n-fft-seed "--n-fft applies to audio:duet .*not audio:seed" "$duet" train --model audio --arch audio:seed --n-fft 512
expect_fail mixup-negative "--mixup must be in" "$duet" train --model audio --mixup -0.5
expect_fail mixup-not-a-number "--mixup expects a number, got 'lots'" "$duet" train --model image --mixup lots
expect_fail augment-noise-audio "--augment-noise applies to --model image" "$duet" train --model audio --augment-noise 0.3
expect_fail augment-noise-range "--augment-noise must be in" "$duet" train --model image --augment-noise 1.5
expect_fail augment-noise-no-augment "--augment-noise is training augmentation; drop --no-augment" "$duet" train --model image --augment-noise 0.3 --no-augment
expect_fail augment-noise-max-alone "--augment-noise-max sets the largest sigma of --augment-noise's pixel noise: give --model image --augment-noise P" "$duet" train --model image --augment-noise-max 0.3
expect_fail augment-noise-max-zero-share "--augment-noise-max sets the largest sigma" "$duet" train --model image --augment-noise 0 --augment-noise-max 0.3
expect_fail augment-noise-max-audio "--augment-noise-max sets the largest sigma" "$duet" train --model audio --augment-noise-max 0.3
expect_fail augment-noise-max-range "--augment-noise-max must be in \\[0.05, 2\\], got 0" "$duet" train --model image --augment-noise 0.1 --augment-noise-max 0
expect_fail augment-noise-max-high "--augment-noise-max must be in \\[0.05, 2\\], got 3" "$duet" train --model image --augment-noise 0.1 --augment-noise-max 3
expect_fail augment-noise-max-not-number "--augment-noise-max expects a number, got 'low'" "$duet" train --model image --augment-noise 0.1 --augment-noise-max low
expect_fail printed-audio "--printed applies to --model image .*not audio" "$duet" train --model audio --printed 0.2
expect_fail printed-range "--printed must be in \\[0, 1\\]" "$duet" train --model image --printed 2
expect_fail printed-no-augment "--printed is training augmentation; drop --no-augment" "$duet" train --model image --printed 0.2 --no-augment
expect_fail lowres-audio "--lowres applies to --model image .*not audio" "$duet" train --model audio --lowres 0.2
expect_fail lowres-fusion "--lowres applies to --model image .*not fusion" "$duet" train --model fusion --lowres 0.2
expect_fail lowres-range "--lowres must be in \\[0, 1\\]" "$duet" train --model image --lowres -0.5
expect_fail lowres-not-number "--lowres" "$duet" train --model image --lowres many
expect_fail lowres-no-augment "--lowres is training augmentation; drop --no-augment" "$duet" train --model image --lowres 0.2 --no-augment
expect_fail widen-audio "--widen applies to --model image .*not audio" "$duet" train --model audio --widen 0.2
expect_fail widen-fusion "--widen applies to --model image .*not fusion" "$duet" train --model fusion --widen 0.2
expect_fail widen-range "--widen must be in \\[0, 1\\]" "$duet" train --model image --widen 1.5
expect_fail widen-not-number "--widen expects a number" "$duet" train --model image --widen wide
expect_fail widen-no-augment "--widen is training augmentation; drop --no-augment" "$duet" train --model image --widen 0.2 --no-augment
expect_fail thicken-audio "--thicken applies to --model image .*not audio" "$duet" train --model audio --thicken 0.2
expect_fail thicken-fusion "--thicken applies to --model image .*not fusion" "$duet" train --model fusion --thicken 0.2
expect_fail thicken-range "--thicken must be in \\[0, 1\\]" "$duet" train --model image --thicken 1.5
expect_fail thicken-not-number "--thicken expects a number" "$duet" train --model image --thicken bold
expect_fail thicken-no-augment "--thicken is training augmentation; drop --no-augment" "$duet" train --model image --thicken 0.2 --no-augment
expect_fail mixup-fusion "--mixup applies to --model audio and image, not fusion" "$duet" train --model fusion --mixup 0.2
expect_fail checkpoint-missing "no_such.safetensors: cannot open" "$duet" checkpoint "$work/no_such.safetensors"
printf 'garbage' >"$work/bad.safetensors"
expect_fail checkpoint-truncated "bad.safetensors: .*exceeds the file|bad.safetensors: truncated" \
  "$duet" checkpoint "$work/bad.safetensors"
expect_fail checkpoint-folder "$work: is a folder, not a checkpoint file" "$duet" checkpoint "$work"
expect_fail demo-out-is-file "output folder '$work/bad.safetensors/demo': cannot create it \\(" \
  "$duet" demo --device cpu --steps 1000000 --out "$work/bad.safetensors/demo"
expect_ok demo "$duet" demo --device cpu --steps 5 --out "$work/demo"
expect_ok checkpoint "$duet" checkpoint "$work/demo/model.safetensors"

# Data commands on files made here.
mkdir -p "$work/wavs" "$work/empty"
printf 'RIFF\x24\x00\x00\x00WAVEfmt ' >"$work/wavs/broken.wav"
printf 'not a wav at all' >"$work/wavs/text.wav"
expect_fail info-broken-wav "broken.wav: " "$duet" info "$work/wavs/broken.wav"
expect_fail info-text-wav "text.wav: not a WAV file" "$duet" info "$work/wavs/text.wav"
# A damaged chunk id with a newline in it: still one line, the byte written as \x0a.
printf 'RIFF\040\000\000\000WAVEfm\nt\377\377\000\000' >"$work/wavs/newline.wav"
expect_fail info-wav-newline-in-chunk-id "newline.wav: chunk 'fm\\\\x0at' claims 65535 bytes" "$duet" info "$work/wavs/newline.wav"
expect_fail info-missing-wav "nope.wav: cannot open" "$duet" info "$work/wavs/nope.wav"
expect_fail show-missing "nope.wav: cannot open" "$duet" show "$work/wavs/nope.wav"
expect_fail info-folder "$work/wavs: is a folder, not a recording \\(WAV, AIFF, CAF, FLAC, MP3, M4A or Ogg Vorbis\\)" "$duet" info "$work/wavs"
# The level line: peak and DC offset (a tone of peak 0.5 on an offset of 0.1), silence, no samples.
python3 - "$work/wavs" <<'PY'
import math, struct, sys
def wav(name, samples):
    data = struct.pack('<%dh' % len(samples), *samples)
    body = b'WAVEfmt ' + struct.pack('<IHHIIHH', 16, 1, 1, 8000, 16000, 2, 16) + b'data' + struct.pack('<I', len(data)) + data
    open(sys.argv[1] + '/' + name, 'wb').write(b'RIFF' + struct.pack('<I', len(body)) + body)
wav('offset.wav', [round(32768 * (0.1 + 0.4 * math.sin(2 * math.pi * k / 80))) for k in range(8000)])
wav('zeros.wav', [0] * 800)
wav('none.wav', [])
# The tone without its offset, driven 12 dB past full scale: clipped.
wav('clipped.wav', [max(-32768, min(32767, round(4 * 32768 * 0.4 * math.sin(2 * math.pi * k / 80)))) for k in range(8000)])
# The same tone streamed to a pipe (sizes left at 0xFFFFFFFF), and as 8-bit mu-law codes.
tone = open(sys.argv[1] + '/offset.wav', 'rb').read()
open(sys.argv[1] + '/piped.wav', 'wb').write(b'RIFF\xff\xff\xff\xff' + tone[8:40] + b'\xff\xff\xff\xff' + tone[44:])
body = b'WAVEfmt ' + struct.pack('<IHHIIHH', 16, 7, 1, 8000, 8000, 1, 8) + b'data' + struct.pack('<I', 800) + bytes(range(256)) * 3 + bytes(32)
open(sys.argv[1] + '/mulaw.wav', 'wb').write(b'RIFF' + struct.pack('<I', len(body)) + body)
PY
expect_ok info-wav-level "$duet" info "$work/wavs/offset.wav"
check info-wav-offset grep -q "level:       peak -6.0 dBFS, DC offset 10.00% of full scale (20.0% of the peak)" "$work/out"
expect_ok info-wav-piped "$duet" info "$work/wavs/piped.wav"
check info-wav-piped-level grep -q "level:       peak -6.0 dBFS, DC offset 10.00% of full scale (20.0% of the peak)" "$work/out"
check info-wav-piped-header grep -q "header:      the data chunk's size field says 4294967295 bytes but 16000 follow it; read to the end of the file" "$work/out"
check info-wav-no-header-note not grep -q "header:" <("$duet" info "$work/wavs/offset.wav")
expect_ok show-wav-piped "$duet" show "$work/wavs/piped.wav" -o "$work/piped.png"
check show-wav-piped-header grep -q "header:       the data chunk's size field says 4294967295 bytes" "$work/out"
# show PICTURE: the picture as read, as cleaned and the 28 x 28 digit the model reads; --number: each
# digit found, boxed (two bars 40 px apart on a 300 x 150 canvas, shrunk twice to at most 256 a side).
mkdir -p "$work/pics"
python3 -c "open('$work/pics/pair.pgm','wb').write(b'P5\n300 150\n255\n' + bytes(40 if (100 <= x < 112 or 180 <= x < 192) and 30 <= y < 130 else 235 for y in range(150) for x in range(300)))"
python3 -c "open('$work/pics/blank.pgm','wb').write(b'P5\n64 64\n255\n' + bytes([235] * 4096))"
duet_path=$(readlink -f "$duet")
(cd "$work/pics" && "$duet_path" show pair.pgm >"$work/out" 2>"$work/err")
check show-picture-default-name test -s "$work/pics/pair_show.png"
check show-picture-sizes grep -q "^cleaned:      150 x 75 pixels (2 x 2 of the picture's each), light ink on dark$" "$work/out"
check show-picture-one-digit not grep -q "^digits:" "$work/out"
check show-picture-side-by-side-note grep -q "pair.pgm: the picture seems to hold 2 digits side by side" "$work/err"
expect_ok show-picture-number "$duet" show "$work/pics/pair.pgm" --number -o "$work/pics/pair_n.png"
check show-picture-number-digits grep -qE "^digits: +2: x 100-111, y 30-129, x 180-191, y 30-129$" "$work/out"
check show-picture-number-drawn not cmp -s "$work/pics/pair_n.png" "$work/pics/pair_show.png"
check show-picture-number-no-note not grep -q "side by side" "$work/err"
expect_fail show-picture-over-itself "show: the picture would be written over .*pair.pgm \\(the file shown\\); give another -o OUT.png" \
  "$duet" show "$work/pics/pair.pgm" -o "$work/pics/../pics/pair.pgm"
check show-picture-not-overwritten grep -q "^P5" "$work/pics/pair.pgm"
expect_fail show-picture-fbank "show: --fbank is for recordings; .*pair.pgm is a picture" "$duet" show "$work/pics/pair.pgm" --fbank
expect_fail show-picture-nfft "show: --n-fft is for recordings; .*pair.pgm is a picture" "$duet" show "$work/pics/pair.pgm" --n-fft 512
expect_fail show-picture-words "show: --words is for recordings; for the digits of a picture give --number" \
  "$duet" show "$work/pics/pair.pgm" --words
expect_fail show-picture-blank "blank.pgm: .*blank" "$duet" show "$work/pics/blank.pgm" -o "$work/pics/b.png"
check show-picture-blank-nothing-written not test -e "$work/pics/b.png"
printf 'RIFF\x10\x00\x00\x00WEBPVP8 ' >"$work/pics/photo.webp"
expect_fail show-picture-webp "photo.webp: .*WebP" "$duet" show "$work/pics/photo.webp" -o "$work/pics/w.png"
expect_fail show-device-without-model "show: --device is where the model runs: give --model-dir DIR with it" \
  "$duet" show "$work/pics/pair.pgm" --device cpu
expect_fail show-picture-no-model "model folder '$work/nomodel' does not exist" "$duet" show "$work/pics/pair.pgm" --model-dir "$work/nomodel"
expect_ok info-wav-mulaw "$duet" info "$work/wavs/mulaw.wav"
check info-wav-mulaw-encoding grep -q "encoding:    mu-law, 8 bits" "$work/out"
check info-wav-mulaw-level grep -q "level:       peak -0.2 dBFS" "$work/out"
expect_ok info-wav-clipped "$duet" info "$work/wavs/clipped.wav"
check info-wav-clipped-line grep -qE "clipping:    [0-9]+ samples \([0-9.]+ ms in all\) lie within 1% of the peak: the recording is clipped" "$work/out"
check info-wav-clean-no-clipping not grep -q "clipping:" <("$duet" info "$work/wavs/offset.wav")
expect_ok info-wav-silent "$duet" info "$work/wavs/zeros.wav"
check info-wav-silent-line grep -q "level:       silent (every sample is 0)" "$work/out"
expect_ok info-wav-empty "$duet" info "$work/wavs/none.wav"
check info-wav-empty-line grep -q "level:       no samples" "$work/out"
expect_fail info-empty-data "no recordings named" "$duet" info --data "$work/empty"
expect_fail info-no-data "does not exist" "$duet" info --data "$work/none"
expect_fail split-no-split "--split is required" "$duet" split --data "$work/empty" -o "$work/s"
# duet fonts: printed digits for eval --inputs.
mkdir -p "$work/nofonts" "$work/badfonts"
printf 'not a font' >"$work/badfonts/broken.ttf"
expect_fail fonts-no-out "fonts: --out DIR is required" "$duet" fonts
expect_fail fonts-missing-dir "--font-dir $work/nowhere: does not exist" "$duet" fonts --font-dir "$work/nowhere" --out "$work/f"
expect_fail fonts-empty-dir "no fonts \\(.ttf, .otf\\) found" "$duet" fonts --font-dir "$work/nofonts" --out "$work/f"
expect_fail fonts-broken "none of its 1 font files has all ten digits" "$duet" fonts --font-dir "$work/badfonts" --out "$work/f"
grep -q "skipped broken.ttf (not a font duet can read)" "$work/out" && passes=$((passes + 1)) ||
  { echo "FAIL fonts-broken-named: $(head -c 300 "$work/out")"; failures=$((failures + 1)); }
expect_fail fonts-bad-size "--size must be in" "$duet" fonts --size 4 --out "$work/f"
expect_fail fonts-strokes-range "--strokes must be in" "$duet" fonts --strokes 0 --out "$work/f"
expect_fail fonts-strokes-font-dir "--strokes draws duet's own digits; drop --font-dir and --size" "$duet" fonts --strokes 4 --font-dir "$work/nofonts" --out "$work/f"
expect_fail fonts-seed-alone "--seed applies to --strokes" "$duet" fonts --seed 3 --out "$work/f"
expect_ok fonts-strokes "$duet" fonts --strokes 5 --seed 2 --out "$work/strokes"
python3 - "$work/strokes/strokes.png" <<'PY' && passes=$((passes + 1)) || { echo "FAIL fonts-strokes-sheet"; failures=$((failures + 1)); }
import struct, sys
b = open(sys.argv[1], "rb").read()
w, h = struct.unpack(">II", b[16:24])  # the IHDR chunk: 5 columns and 10 rows of 88-pixel cells
sys.exit(0 if b[:8] == b"\x89PNG\r\n\x1a\n" and (w, h) == (5 * 88 + 4, 10 * 88 + 4) else 1)
PY
sans=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf  # fonts-dejavu-core (tools/setup.sh)
if [ -f "$sans" ]; then
  expect_ok fonts-one-file "$duet" fonts --font-dir "$sans" --out "$work/fonts"
  n=$(ls "$work/fonts" | grep -cE '^[0-9]_DejaVuSans\.png$')
  [ "$n" = 10 ] && passes=$((passes + 1)) || { echo "FAIL fonts-one-file: $n pictures"; failures=$((failures + 1)); }
else
  echo "SKIP fonts-one-file: $sans not installed"
fi
shared=${DUET_DATA:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/data}
if [ -d "$shared/fsdd" ]; then
  expect_fail split-bad-split "unknown split 'bogus'" "$duet" split --data "$shared" --split bogus -o "$work/s"
  expect_fail split-bad-speaker "no speaker 'nobody'" "$duet" split --data "$shared" --split speaker:nobody -o "$work/s"
  expect_ok split-official "$duet" split --data "$shared" --split official -o "$work/split"
  if [ "$(wc -l <"$work/split/test.csv")" -ne 301 ]; then echo "FAIL split-official: test.csv"; failures=$((failures + 1)); fi
  expect_ok info-data "$duet" info --data "$shared"
  check info-data-headers-fine not grep -q "header gives a wrong data size" "$work/out"
  # A data set with one recording streamed to a pipe (sizes unset): read, and listed.
  mkdir -p "$work/piped_data/fsdd/recordings"
  ln -sfn "$shared/mnist" "$work/piped_data/mnist"
  for f in "$shared"/fsdd/recordings/?_george_1.wav; do ln -sf "$f" "$work/piped_data/fsdd/recordings/"; done
  rm "$work/piped_data/fsdd/recordings/3_george_1.wav"
  python3 -c "import sys; b = open(sys.argv[1], 'rb').read(); open(sys.argv[2], 'wb').write(b'RIFF' + bytes(4) + b[8:40] + bytes(4) + b[44:])" \
    "$shared/fsdd/recordings/3_george_1.wav" "$work/piped_data/fsdd/recordings/3_george_1.wav"
  expect_ok info-data-piped "$duet" info --data "$work/piped_data"
  check info-data-piped-count grep -q "recordings: 10, speakers: 1" "$work/out"
  check info-data-piped-listed grep -q "1 file whose header gives a wrong data size (read to the end of the file):" "$work/out"
  check info-data-piped-named grep -q "3_george_1.wav: the data chunk's size field says 0 bytes but" "$work/out"
  expect_ok info-wav "$duet" info "$shared/fsdd/recordings/0_george_0.wav"
  expect_ok show "$duet" show "$shared/fsdd/recordings/0_george_0.wav" -o "$work/show.png"
  expect_ok show-fbank "$duet" show "$shared/fsdd/recordings/0_george_0.wav" --fbank -o "$work/fbank.png"
  # --words: two of george's words 0.4 s apart, listed and drawn (the picture differs from the one without).
  python3 - "$shared/fsdd/recordings" "$work/two_words.wav" <<'PY'
import sys, wave
out = b''
for name in ('0_george_0.wav', '1_george_0.wav'):
    w = wave.open(sys.argv[1] + '/' + name)
    out += w.readframes(w.getnframes()) + b'\0\0' * 3200
w = wave.open(sys.argv[2], 'wb'); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000); w.writeframes(out); w.close()
PY
  expect_ok show-words "$duet" show "$work/two_words.wav" --words -o "$work/words.png"
  check show-words-listed grep -qE "^words: +2: [0-9.]+-[0-9.]+ s, [0-9.]+-[0-9.]+ s$" "$work/out"
  cp "$work/out" "$work/words_listed"
  expect_ok show-number-words "$duet" show "$work/two_words.wav" --number -o "$work/number_words.png"
  check show-number-is-words cmp -s <(grep "^words:" "$work/out") <(grep "^words:" "$work/words_listed")
  expect_ok show-no-words "$duet" show "$work/two_words.wav" -o "$work/no_words.png"
  check show-no-words-listed not grep -q "^words:" "$work/out"
  check show-words-drawn not cmp -s "$work/words.png" "$work/no_words.png"
  expect_fail show-bad-nfft "--n-fft must be in" "$duet" show "$shared/fsdd/recordings/0_george_0.wav" --n-fft 1
  expect_fail show-short "too short for n_fft" "$duet" show "$shared/fsdd/recordings/0_george_0.wav" --n-fft 65536
fi

finish "cli"
