#!/usr/bin/env bash
# train / eval / predict through the binary: every wrong input gives one line on stderr and
# exit 1; small real trainings on ../shared/data reach sane accuracies and produce every
# promised output. Usage: run_training_tests.sh PATH/TO/duet WORKDIR [image|audio|fusion]
# (one part alone: CTest runs the three side by side; none: all of them).
set -u
. "$(dirname "$0")/lib.sh" "$@"
shared=${DUET_DATA:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/data}
part=${3:-all}
case $part in all | image | audio | fusion) ;; *) echo "run_training_tests.sh: unknown part '$part'" >&2; exit 2 ;; esac
runs() { [ "$part" = all ] || [ "$part" = "$1" ]; }
# eval --inputs FOLDER --number with MODEL (NAME MODEL FOLDER): the JSON summary in $work/BASENAME.json agrees with
# FOLDER_out/inputs.csv, and the text run succeeds (its output in $work/out).
eval_numbers() {
  local name=$1 model=$2 folder=$3
  "$duet" eval --model-dir "$model" --inputs "$folder" --number --json --device cpu --out "${folder}_out" >"$work/$(basename "$folder").json" 2>"$work/err"
  check "$name-sums" python3 "$(dirname "$0")/check_number_eval.py" "$work/$(basename "$folder").json" "${folder}_out/inputs.csv"
  expect_ok "$name-text" "$duet" eval --model-dir "$model" --inputs "$folder" --number --device cpu --out "${folder}_out"
}

# Inputs every part uses: a hand-drawn-style "1" (a dark vertical stroke on a light 40x50
# canvas, the opposite polarity to MNIST), a folder with it named as a 1, a file that is
# neither a picture nor a recording, and recordings without a word.
python3 - "$work/digit.pgm" <<'PY'
import sys
w, h = 40, 50
rows = [[230] * w for _ in range(h)]
for y in range(8, 44):
    for x in range(18, 23):
        rows[y][x] = 20
open(sys.argv[1], "wb").write(b"P5\n%d %d\n255\n" % (w, h) + bytes(v for r in rows for v in r))
PY
mkdir -p "$work/pics" && cp "$work/digit.pgm" "$work/pics/1_bar.pgm"
printf 'this is not a picture' >"$work/junk.png"
# Recordings with no word in them: no samples, digital silence, and a hiss of two steps of
# 16-bit audio (-84 dBFS).
python3 - "$work" <<'PY'
import struct, sys
def wav(name, samples):
    data = struct.pack('<%dh' % len(samples), *samples)
    fmt = struct.pack('<HHIIHH', 1, 1, 8000, 16000, 2, 16)
    body = b'WAVE' + b'fmt ' + struct.pack('<I', 16) + fmt + b'data' + struct.pack('<I', len(data)) + data
    open(sys.argv[1] + '/' + name, 'wb').write(b'RIFF' + struct.pack('<I', len(body)) + body)
wav('nosamples.wav', [])
wav('zeros.wav', [0] * 8000)
wav('hiss.wav', [(-2, 0, 2)[k % 3] for k in range(8000)])
PY

# Wrong uses that need no data (with the image part).
if runs image; then
  expect_ok train-help "$duet" train --help
  expect_fail train-bad-model "--model expects audio, image or fusion, got 'video'" "$duet" train --model video
  expect_fail train-arch-mismatch "--arch image:duet is not an audio architecture" "$duet" train --model audio --arch image:duet
  expect_fail train-arch-mismatch-fusion "--arch image:vgg is not a fusion architecture" "$duet" train --model fusion --arch image:vgg
  expect_fail train-unknown-arch "unknown architecture 'audio:huge'" "$duet" train --model audio --arch audio:huge
  expect_fail train-bad-schedule "--schedule expects constant or cosine" "$duet" train --schedule linear
  expect_fail train-bad-lr "--lr expects a number, got 'fast'" "$duet" train --lr fast
  expect_fail train-hard-audio "--hard applies to --model fusion" "$duet" train --model audio --hard
  expect_fail train-highpass-image "--highpass applies to --model audio" "$duet" train --model image --highpass 100
  expect_fail train-highpass-range "--highpass must be in \\[0, 1000\\], got -5" "$duet" train --model audio --highpass -5
  expect_fail train-highpass-number "--highpass expects a number, got 'low'" "$duet" train --model audio --highpass low
  expect_fail train-init-missing "model folder '$work/nope' does not exist" "$duet" train --model fusion --init-audio "$work/nope"
  expect_fail train-no-data "does not exist" "$duet" train --model audio --data "$work/nodata" --device cpu
  expect_fail eval-no-dir "--model-dir DIR is required" "$duet" eval
  expect_fail eval-missing-dir "model folder '$work/nope' does not exist" "$duet" eval --model-dir "$work/nope"
  expect_fail eval-dir-is-file "model folder '$work/junk.png' is a file, not a folder" "$duet" eval --model-dir "$work/junk.png"
  expect_fail train-data-is-file "FSDD folder '$work/junk.png' does not exist or is not a folder" "$duet" train --model audio --data "$work/junk.png" --device cpu
  expect_fail train-image-data-is-file "MNIST folder '$work/junk.png' does not exist or is not a folder" "$duet" train --model image --data "$work/junk.png" --device cpu
  mkdir -p "$work/notamodel"
  expect_fail eval-no-config "config.json: missing" "$duet" eval --model-dir "$work/notamodel"
  echo '{"format": "duet-model-1", "model"' >"$work/notamodel/config.json"
  expect_fail eval-bad-config "config.json: not valid JSON" "$duet" eval --model-dir "$work/notamodel"
  expect_fail predict-no-input "predict: --model-dir DIR is required" "$duet" predict --audio x.wav
fi

if [ -d "$shared/fsdd" ] && runs image; then
  # Image: one short epoch on 4000 images.
  expect_ok train-image "$duet" train --model image --epochs 1 --train-limit 4000 --device cpu --data "$shared" --out "$work/img"
  check train-image-printed-line grep -q "printed digits: 10% of training images" "$work/out"
  check train-image-test-shift-line grep -q "test pictures read as they are and moved 1 px right, left, down and up" "$work/out"
  check_json image-default-test-shift "j['image']['test_shift'] == 1" "$work/img/config.json"
  check_json image-default-arch "j['arch'] == 'image:vgg' and abs(j['train']['lr'] - 0.025) < 1e-6" "$work/img/config.json"
  check train-image-default-line grep -q "image:vgg on cpu, 4000 train / 10000 test, 468202 parameters, 1 epochs, batch 64, lr 0.025" "$work/out"
  check_json image-default-printed "j['train']['printed'] == 0.1" "$work/img/config.json"
  check_json image-default-lowres "j['train']['lowres'] == 0" "$work/img/config.json"
  check train-image-lowres-off-line not grep -q "low resolution" "$work/out"
  check_json image-default-widen "j['train']['widen'] == 0.1" "$work/img/config.json"
  check train-image-widen-default-line grep -q "wider digits: 10% of training digits" "$work/out"
  check_json image-default-thicken "j['train']['thicken'] == 0.3" "$work/img/config.json"
  check train-image-thicken-default-line grep -q "thicker strokes: 30% of training digits" "$work/out"
  check train-image-noise-off-line not grep -q "pixel noise" "$work/out"
  check_json image-default-noise "j['train']['augment_noise'] == 0 and 'augment_noise_max' not in j['train']" "$work/img/config.json"
  expect_ok train-image-printed "$duet" train --model image --epochs 1 --train-limit 64 --printed 0 --lowres 0.5 --widen 0.25 --thicken 0 --test-shift 0 --augment-noise 0.2 --augment-noise-max 0.4 --device cpu --data "$shared" --out "$work/img_np"
  check train-image-noise-line grep -q "noise: 20% of training images get pixel noise (sigma 0-0.4), 10% a 4-14 px square blanked" "$work/out"
  check_json image-noise-config "j['train']['augment_noise'] == 0.2 and j['train']['augment_noise_max'] == 0.4" "$work/img_np/config.json"
  check train-image-thicken-off-line not grep -q "thicker strokes" "$work/out"
  check train-image-widen-line grep -q "wider digits: 25% of training digits" "$work/out"
  check_json image-widen-config "j['train']['widen'] == 0.25" "$work/img_np/config.json"
  check_json image-thicken-off-config "'thicken' not in j['train']" "$work/img_np/config.json"
  check train-image-printed-off-line not grep -q "printed digits" "$work/out"
  check train-image-test-shift-off-line not grep -q "test pictures" "$work/out"
  check_json image-test-shift-config "j['image']['test_shift'] == 0" "$work/img_np/config.json"
  check train-image-lowres-line grep -q "low resolution: 50% of training images" "$work/out"
  check_json image-printed-config "j['train']['printed'] == 0" "$work/img_np/config.json"
  check_json image-lowres-config "j['train']['lowres'] == 0.5" "$work/img_np/config.json"
  # image:duet, the other image network: trained with its own learning rate, recorded in config.json
  # and evaluated from its folder like the default (on the pictures alone: five readings of 10000
  # pictures cost CI time).
  expect_ok train-image-duet "$duet" train --model image --arch image:duet --epochs 1 --train-limit 64 --test-shift 0 --widen 0 --thicken 0.5 --device cpu --data "$shared" --out "$work/img_duet"
  check train-image-widen-off-line not grep -q "wider digits" "$work/out"
  check train-image-thicken-line grep -q "thicker strokes: 50% of training digits" "$work/out"
  check_json image-thicken-config "j['train']['thicken'] == 0.5" "$work/img_duet/config.json"
  check_json image-widen-off-config "'widen' not in j['train']" "$work/img_duet/config.json"
  check train-image-duet-line grep -q "image:duet on cpu, 64 train / 10000 test, 1199882 parameters, 1 epochs, batch 64, lr 0.05" "$work/out"
  check_json image-duet-config "j['arch'] == 'image:duet' and abs(j['train']['lr'] - 0.05) < 1e-6" "$work/img_duet/config.json"
  "$duet" eval --model-dir "$work/img_duet" --data "$shared" --device cpu --json >"$work/img_duet_eval.json" 2>"$work/err"
  check_json eval-image-duet "0 <= j['accuracy'] <= 1 and j['count'] == 10000 and j['test_shift'] == 0" "$work/img_duet_eval.json"
  # Fusion started from the default image model takes image:vgg's network as its image encoder,
  # recorded and rebuilt; from an image:duet model, image:duet's (fusion's own default: not written).
  expect_ok fusion-init-vgg "$duet" train --model fusion --fusion concat --init-image "$work/img" --epochs 1 \
    --train-limit 100 --device cpu --data "$shared" --out "$work/fus_vgg"
  check_json fusion-init-vgg-config "j['fusion']['image_arch'] == 'image:vgg'" "$work/fus_vgg/config.json"
  "$duet" eval --model-dir "$work/fus_vgg" --data "$shared" --device cpu --json >"$work/fus_vgg_eval.json" 2>"$work/err"
  check_json eval-fusion-vgg "abs(j['accuracy'] - json.load(open('$work/fus_vgg/config.json'))['results']['test_accuracy']) < 1e-6" "$work/fus_vgg_eval.json"
  expect_ok fusion-init-duet "$duet" train --model fusion --fusion concat --init-image "$work/img_duet" --epochs 1 \
    --train-limit 100 --device cpu --data "$shared" --out "$work/fus_duet"
  check_json fusion-init-duet-config "'image_arch' not in j['fusion']" "$work/fus_duet/config.json"
  for f in metrics.csv curves.png confusion.png errors.csv predictions.csv model.safetensors config.json; do
    [ -s "$work/img/$f" ] || { echo "FAIL train-image: no $f"; failures=$((failures + 1)); }
  done
  if [ "$(head -1 "$work/img/metrics.csv")" != "epoch,train_loss,train_acc,test_loss,test_acc,seconds" ]; then
    echo "FAIL metrics header: $(head -1 "$work/img/metrics.csv")"; failures=$((failures + 1))
  fi
  "$duet" eval --model-dir "$work/img" --data "$shared" --device cpu --json >"$work/img_eval.json" 2>"$work/err"
  check_json eval-image "j['accuracy'] > 0.8 and j['test_shift'] == 1" "$work/img_eval.json"
  # Test-time shifts: --test-shift 0 reads each picture alone (another reading of the same
  # model); wrong values and other models are refused.
  "$duet" eval --model-dir "$work/img" --data "$shared" --device cpu --json --test-shift 0 --out "$work/img_s0" >"$work/img_s0.json" 2>"$work/err"
  check_json eval-image-shift-0 "j['test_shift'] == 0 and j['count'] == 10000 and j['loss'] != json.load(open('$work/img_eval.json'))['loss']" "$work/img_s0.json"
  expect_fail eval-test-shift-range "eval: --test-shift must be in \\[0, 4\\], got 5" "$duet" eval --model-dir "$work/img" --test-shift 5
  expect_fail eval-test-shift-word "eval: --test-shift expects an integer, got 'one'" "$duet" eval --model-dir "$work/img" --test-shift one
  "$duet" predict --model-dir "$work/img" --image "$work/digit.pgm" --json --device cpu >"$work/pred.json" 2>"$work/err"
  check_json predict-image "j['prediction'] == 1 and abs(sum(j['probabilities']) - 1) < 1e-4 and j['test_shift'] == 1" "$work/pred.json"
  check predict-image-no-redraw-note not grep -q "strokes are thin" "$work/err"
  check predict-image-no-noise-note not grep -q "is noisy\|ruled line\|salt-and-pepper\|apart from the digit" "$work/err"
  # A 1 on a notebook's ruled page (112x112, a line every 28 pixels): the lines are taken out,
  # and said so; the same 1 in a grainy 28x28 file: read smoothed, and said so.
  python3 -c "open('$work/lined1.pgm','wb').write(b'P5\n112 112\n255\n' + bytes(40 if 52 <= x < 60 and 16 <= y < 96 else 150 if y % 28 in (5, 6) else 235 for y in range(112) for x in range(112)))"
  "$duet" predict --model-dir "$work/img" --image "$work/lined1.pgm" --json --device cpu >"$work/pred_lined.json" 2>"$work/err"
  check_json predict-lined-image "j['prediction'] == 1" "$work/pred_lined.json"
  check predict-lined-image-note grep -q "lined1.pgm: 4 ruled lines taken out before the digit was looked for" "$work/err"
  python3 -c "import random; r = random.Random(1); open('$work/noisy1.pgm','wb').write(b'P5\n28 28\n255\n' + bytes([min(255, max(0, round(255 * ((1 if 13 <= x <= 14 and 4 <= y < 24 else 0) + r.gauss(0, 0.3))))) for y in range(28) for x in range(28)]))"
  "$duet" predict --model-dir "$work/img" --image "$work/noisy1.pgm" --json --device cpu >"$work/pred_noisy.json" 2>"$work/err"
  check_json predict-noisy-image "j['prediction'] in range(10)" "$work/pred_noisy.json"
  check predict-noisy-image-note grep -q "noisy1.pgm: the picture is noisy (noise estimate 0\.[0-9][0-9]); it is read smoothed" "$work/err"
  # The lined page's 1 on clean paper with 5% of its pixels black or white: the specks are
  # replaced, and said so.
  python3 -c "import random; r = random.Random(2); open('$work/salt1.pgm','wb').write(b'P5\n112 112\n255\n' + bytes((0 if r.random() < 0.5 else 255) if r.random() < 0.05 else 40 if 52 <= x < 60 and 16 <= y < 96 else 235 for y in range(112) for x in range(112)))"
  "$duet" predict --model-dir "$work/img" --image "$work/salt1.pgm" --json --device cpu >"$work/pred_salt.json" 2>"$work/err"
  check_json predict-salt-image "j['prediction'] == 1" "$work/pred_salt.json"
  check predict-salt-image-note grep -q "salt1.pgm: [0-9.]*% of the pixels are specks unlike their neighbours (salt-and-pepper noise)" "$work/err"
  check predict-salt-image-not-smoothed not grep -q "is noisy" "$work/err"
  # The lined page's 1 on clean paper with an ink blot in a corner: the blot is left out, and
  # said so.
  python3 -c "open('$work/blot1.pgm','wb').write(b'P5\n112 112\n255\n' + bytes(40 if 52 <= x < 60 and 16 <= y < 96 or (x - 12) ** 2 + (y - 100) ** 2 <= 16 else 235 for y in range(112) for x in range(112)))"
  "$duet" predict --model-dir "$work/img" --image "$work/blot1.pgm" --json --device cpu >"$work/pred_blot.json" 2>"$work/err"
  check_json predict-blot-image "j['prediction'] == 1" "$work/pred_blot.json"
  check predict-blot-image-note grep -q "blot1.pgm: 1 mark apart from the digit (an ink blot, part of another character) left out" "$work/err"
  check predict-blot-not-side-by-side not grep -q "side by side" "$work/err"
  # 11 (two 1s side by side): read as one digit, and said so.
  python3 -c "open('$work/pair.pgm','wb').write(b'P5\n112 112\n255\n' + bytes(40 if (30 <= x < 38 or 70 <= x < 78) and 16 <= y < 96 else 235 for y in range(112) for x in range(112)))"
  expect_ok predict-side-by-side "$duet" predict --model-dir "$work/img" --image "$work/pair.pgm" --device cpu
  check predict-side-by-side-note grep -q "pair.pgm: the picture seems to hold 2 digits side by side; duet reads one digit per picture, and reads these together as one (crop the picture to one digit, or give --number to read each)" "$work/err"
  # A 1 drawn with a 1-pixel pen on a 200x200 canvas: redrawn at MNIST's width, and said so.
  # --number: the two bars read one by one, where they stand; one digit read as predict reads it.
  "$duet" predict --model-dir "$work/img" --image "$work/pair.pgm" --number --json --device cpu >"$work/pair_n.json" 2>"$work/err"
  check_json predict-image-number "len(j['digits']) == 2 and [d['box'] for d in j['digits']] == [[30, 16, 37, 95], [70, 16, 77, 95]] and [d['prediction'] for d in j['digits']] == [int(c) for c in j['number']]" "$work/pair_n.json"
  check predict-image-number-no-note not grep -q "side by side" "$work/err"
  "$duet" predict --model-dir "$work/img" --image "$work/digit.pgm" --number --json --device cpu >"$work/one_n.json" 2>"$work/err"
  check_json predict-image-number-one "len(j['digits']) == 1 and j['digits'][0]['probabilities'] == json.load(open('$work/pred.json'))['probabilities']" "$work/one_n.json"
  "$duet" predict --model-dir "$work/img" --image "$work/pair.pgm" --number --device cpu >"$work/out" 2>"$work/err"
  check predict-image-number-text grep -qE "^digit 2: [0-9] \([01]\.[0-9]{3}\), written at x 70-77, y 16-95$" "$work/out"
  # Four bars joined by a crossbar (one piece of ink, wider than tall): cut where the model reads a
  # digit in each part (noted); the parts abut.
  python3 -c "open('$work/comb.pgm','wb').write(b'P5\n200 112\n255\n' + bytes(40 if ((x - 30) % 40 < 8 and 30 <= x < 158 and 16 <= y < 96) or (30 <= x < 158 and 52 <= y < 56) else 235 for y in range(112) for x in range(200)))"
  "$duet" predict --model-dir "$work/img" --image "$work/comb.pgm" --number --json --device cpu >"$work/comb.json" 2>"$work/err"
  check_json predict-image-number-touching "len(j['digits']) >= 2 and len(j['number']) == len(j['digits']) and j['digits'][0]['box'][0] == 30 and j['digits'][-1]['box'][2] == 157 and all(a['box'][2] + 1 == b['box'][0] for a, b in zip(j['digits'], j['digits'][1:]))" "$work/comb.json"
  check predict-image-number-touching-note grep -qE "comb.pgm: ink that holds digits that touch is cut into [2-9] digits where the model reads them best \(digits written apart read surer\)" "$work/err"
  # show --model-dir: the digit or the digits the model reads, as predict reads them, drawn.
  expect_ok show-image-model "$duet" show "$work/digit.pgm" --model-dir "$work/img" --device cpu -o "$work/digit_show.png"
  check show-image-model-read grep -qE "^read: +$(python3 -c "import json; j = json.load(open('$work/pred.json')); p = j['prediction']; print('%d \\\\(%.2f\\\\)' % (p, j['probabilities'][p]))")$" "$work/out"
  expect_ok show-image-number-model "$duet" show "$work/comb.pgm" --number --model-dir "$work/img" --device cpu -o "$work/comb_show.png"
  check show-image-number-read grep -qE "^read: +$(python3 -c "import json; print(json.load(open('$work/comb.json'))['number'])")$" "$work/out"
  check show-image-number-boxes grep -qE "^digits: +$(python3 -c "import json; print(len(json.load(open('$work/comb.json'))['digits']))"): x 30-" "$work/out"
  check show-image-number-cut-note grep -q "comb.pgm: ink that holds digits that touch is cut into" "$work/err"
  check show-image-number-drawn test -s "$work/comb_show.png"
  expect_fail show-image-model-recording "show: --model-dir $work/img holds an image model; .*7_theo_3.wav is a recording: give an audio model" \
    "$duet" show "$shared/fsdd/recordings/7_theo_3.wav" --model-dir "$work/img"
  # eval --inputs --number: pictures named after their number, read as predict --number reads them.
  mkdir -p "$work/numbers_img" && cp "$work/pair.pgm" "$work/numbers_img/11_pair.pgm" && cp "$work/digit.pgm" "$work/numbers_img/1_bar.pgm"
  eval_numbers eval-inputs-number-image "$work/img" "$work/numbers_img"
  check_json eval-inputs-number-image "j['count'] == 2 and j['count_right'] == 1.0 and 0 <= j['digit_accuracy'] <= 1 and 0 <= j['accuracy'] <= 1 and j['errors'] == len(j['wrong'])" "$work/numbers_img.json"
  check eval-inputs-number-image-csv grep -qE "^.*11_pair.pgm,11,[0-9]{2},[0-9.e-]+$" "$work/numbers_img_out/inputs.csv"
  check eval-inputs-number-image-line grep -qE "^image: [0-9.]+% of 2 numbers read right \(.*numbers_img\); every digit found in 100.00%, and [0-9.]+% of their digits read right$" "$work/out"
  mkdir -p "$work/numbers_bad" && cp "$work/digit.pgm" "$work/numbers_bad/x12.pgm"
  expect_fail eval-inputs-number-bad-name "numbers_bad/x12.pgm: the name must start with its number and '_' \(like 427_mine_1.pgm\)" "$duet" eval --model-dir "$work/img" --inputs "$work/numbers_bad" --number
  expect_fail eval-number-without-inputs "eval: --number reads the numbers of --inputs FOLDER" "$duet" eval --model-dir "$work/img" --number
  python3 -c "open('$work/thin1.pgm','wb').write(b'P5\n200 200\n255\n' + bytes(40 if 95 <= x <= 95 + y // 60 and 20 <= y < 180 else 235 for y in range(200) for x in range(200)))"
  "$duet" predict --model-dir "$work/img" --image "$work/thin1.pgm" --json --device cpu >"$work/pred_thin.json" 2>"$work/err"
  check_json predict-thin-image "j['prediction'] == 1" "$work/pred_thin.json"
  check predict-thin-image-note grep -q "thin1.pgm: the digit's strokes are thin; it is read redrawn with a pen as wide as MNIST's" "$work/err"
  # A 1 drawn with a black pen on a transparent canvas (RGBA PNG; the untouched pixels 0,0,0,0,
  # as web canvases export them): read on white paper, and said so. A canvas transparent
  # everywhere: refused. A 1 stored lying on its side, as a phone stores a photo taken upright,
  # with EXIF orientation 6 (a grey PNG's eXIf chunk): read turned upright, and said so.
  cat >"$work/canvas.py" <<'PY'
import struct, sys, zlib
def png(path, rows, colour=6, extra=b""):
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    raw = b"".join(b"\0" + bytes(r) for r in rows)
    size = struct.pack(">II", len(rows[0]) // (4 if colour == 6 else 1), len(rows))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", size + bytes([8, colour, 0, 0, 0]))
                           + (chunk(b"eXIf", extra) if extra else b"") + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
png(sys.argv[1], [[c for x in range(96) for c in ((0, 0, 0, 255) if 44 <= x < 52 and 12 <= y < 84 else (0, 0, 0, 0))] for y in range(96)])
png(sys.argv[2], [[0] * (4 * 96) for y in range(96)])
exif = b"MM\0\x2a" + struct.pack(">IH", 8, 1) + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack(">I", 0)
png(sys.argv[3], [[40 if 44 <= y < 52 and 12 <= x < 84 else 235 for x in range(96)] for y in range(96)], 0, exif)
PY
  python3 "$work/canvas.py" "$work/canvas1.png" "$work/clear.png" "$work/side1.png"
  "$duet" predict --model-dir "$work/img" --image "$work/canvas1.png" --json --device cpu >"$work/pred_canvas.json" 2>"$work/err"
  check_json predict-transparent-image "j['prediction'] == 1" "$work/pred_canvas.json"
  check predict-transparent-image-note grep -q "canvas1.png: 94% of the picture is transparent; it is read on white, behind its dark strokes" "$work/err"
  expect_fail predict-clear-image "clear.png: the picture is transparent everywhere: no digit to read" "$duet" predict --model-dir "$work/img" --image "$work/clear.png" --device cpu
  "$duet" predict --model-dir "$work/img" --image "$work/side1.png" --json --device cpu >"$work/pred_side.json" 2>"$work/err"
  check_json predict-exif-image "j['prediction'] == 1" "$work/pred_side.json"
  check predict-exif-image-note grep -q "side1.png: its EXIF orientation is 6; it is read turned 90 degrees clockwise, upright as a viewer shows it" "$work/err"
  "$duet" predict --model-dir "$work/img" --image "$work/digit.pgm" --json --device cpu --test-shift 0 >"$work/pred0.json" 2>"$work/err"
  check_json predict-image-shift-0 "j['test_shift'] == 0 and j['probabilities'] != json.load(open('$work/pred.json'))['probabilities']" "$work/pred0.json"
  expect_fail predict-image-on-audio-flag "an image model takes --image FILE" "$duet" predict --model-dir "$work/img" --audio x.wav
  expect_fail predict-bad-image "junk.png: cannot read image" "$duet" predict --model-dir "$work/img" --image "$work/junk.png"
  printf '\0\0\0\030ftypheic\0\0\0\0mif1heic' >"$work/photo.heic"
  expect_fail predict-heic-image "photo.heic: a HEIC picture \\(an iPhone's photo\\), a format duet does not read; convert it to PNG or JPEG first" "$duet" predict --model-dir "$work/img" --image "$work/photo.heic"
  expect_fail predict-image-folder "$work/img: is a folder, not a picture" "$duet" predict --model-dir "$work/img" --image "$work/img"
  # Every field of config.json predict reads, set to wrong values: an answer or one error line.
  check config-fields-image python3 "$(dirname "$0")/check_config_fields.py" "$duet" "$work/img" "$work/cf_img" -- --image "$work/digit.pgm"
  # A 1 KB file whose header claims 400 megapixels: refused before decoding; a missing file.
  python3 -c "open('$work/huge.pgm','wb').write(b'P5\n20000 20000\n255\n' + bytes(1000))"
  expect_fail predict-huge-picture "huge.pgm: the picture is 20000x20000 pixels \\(400 megapixels\\); duet reads pictures of up to 100 megapixels" "$duet" predict --model-dir "$work/img" --image "$work/huge.pgm"
  expect_fail predict-missing-picture "nothere.png: cannot open the picture" "$duet" predict --model-dir "$work/img" --image "$work/nothere.png"
  # A configuration naming an architecture this duet does not know: the file and the known ones.
  mkdir -p "$work/img_arch" && cp "$work/img/model.safetensors" "$work/img_arch/"
  python3 -c "import json; c = json.load(open('$work/img/config.json')); c['arch'] = 'image:huge'; json.dump(c, open('$work/img_arch/config.json', 'w'))"
  expect_fail eval-config-unknown-arch "img_arch/config.json: unknown architecture 'image:huge' \\(known: image:duet, image:vgg\\)" "$duet" eval --model-dir "$work/img_arch"
  python3 -c "open('$work/blank.pgm','wb').write(b'P5\n8 8\n255\n' + bytes([255]*64))"
  expect_fail predict-blank-image "blank.pgm: the image is blank: no digit found" "$duet" predict --model-dir "$work/img" --image "$work/blank.pgm" --device cpu
  mkdir -p "$work/mine_blankpic" && cp "$work/digit.pgm" "$work/mine_blankpic/1_a.pgm" && cp "$work/blank.pgm" "$work/mine_blankpic/3_b.pgm"
  expect_fail eval-inputs-blank-image "3_b.pgm: the image is blank" "$duet" eval --model-dir "$work/img" --inputs "$work/mine_blankpic" --device cpu
  # eval --inputs: the user's own pictures, labelled by name; two "1"s named as 1 and one named 7.
  mkdir -p "$work/mine" "$work/mine_bad" "$work/mine_blank" "$work/mine_none"
  cp "$work/digit.pgm" "$work/mine/1_bar_a.pgm" && cp "$work/digit.pgm" "$work/mine/1-bar-b.pgm"
  cp "$work/digit.pgm" "$work/mine/7_wrong.pgm" && echo notes >"$work/mine/README.txt"
  "$duet" eval --model-dir "$work/img" --inputs "$work/mine" --device cpu --json --out "$work/mine_out" >"$work/mine.json" 2>"$work/err"
  check_json eval-inputs-image "j['count'] == 3 and j['errors'] == 1 and abs(j['accuracy'] - 2 / 3) < 1e-9 and j['per_class_accuracy'] == {'1': 1.0, '7': 0.0} and j['wrong'][0]['file'].endswith('7_wrong.pgm') and j['wrong'][0]['prediction'] == 1 and sorted(j['per_group_accuracy']) == ['bar', 'wrong'] and j['prepared'] == {'transparent_flattened': 0, 'turned_upright': 0, 'smoothed': 0, 'specks_replaced': 0, 'ruled_lines_taken_out': 0, 'stray_marks_left_out': 0, 'redrawn': 0, 'digits_side_by_side': 0}" "$work/mine.json"
  # inputs.csv: a row per file with its class probabilities (summing to 1; the prediction the
  # most probable class, the confidence its probability) and, last, what the preparation did
  # (nothing, for these clean pictures).
  python3 - "$work/mine_out/inputs.csv" <<'PY' && passes=$((passes + 1)) || { echo "FAIL eval-inputs-csv"; failures=$((failures + 1)); }
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
assert rows[0] == ["file", "label", "prediction", "confidence"] + [f"p{c}" for c in range(10)] + ["prepared"], rows[0]
assert len(rows) == 4, len(rows)
for r in rows[1:]:
    assert len(r) == 15 and r[14] == "", r
    p = [float(v) for v in r[4:14]]
    assert len(p) == 10 and abs(sum(p) - 1) < 1e-4, r
    assert int(r[2]) == p.index(max(p)) and abs(float(r[3]) - max(p)) < 1e-6, r
PY
  expect_ok eval-inputs-text "$duet" eval --model-dir "$work/img" --inputs "$work/mine" --device cpu --out "$work/mine_out"
  grep -q "accuracy 66.67% on 3 files" "$work/out" && grep -q "7_wrong.pgm read as 1" "$work/out" && passes=$((passes + 1)) ||
    { echo "FAIL eval-inputs-text: $(head -c 300 "$work/out")"; failures=$((failures + 1)); }
  check eval-inputs-shift-line grep -q "pictures read as they are and moved 1 px right, left, down and up" "$work/out"
  check eval-inputs-no-preparation-line not grep -q "prepared beyond fitting" "$work/out"
  check eval-inputs-no-left-out-note not grep -q "left out" "$work/err"
  # The pictures predict notes above, in one folder: eval --inputs counts what was done to them.
  mkdir -p "$work/mine_prep" && for f in lined1 salt1 noisy1 thin1 blot1 pair; do cp "$work/$f.pgm" "$work/mine_prep/1_$f.pgm"; done
  cp "$work/canvas1.png" "$work/mine_prep/1_canvas1.png" && cp "$work/side1.png" "$work/mine_prep/1_side1.png"
  : >"$work/mine_prep/1_phone.heic"  # an iPhone's picture format: left out, and said so
  "$duet" eval --model-dir "$work/img" --inputs "$work/mine_prep" --device cpu --json --out "$work/mine_prep_out" >"$work/prep.json" 2>"$work/err"
  check_json eval-inputs-prepared "j['count'] == 8 and j['prepared']['digits_side_by_side'] == 1 and j['prepared']['stray_marks_left_out'] >= 1 and j['prepared']['transparent_flattened'] == 1 and j['prepared']['turned_upright'] == 1 and j['prepared']['smoothed'] >= 1 and j['prepared']['specks_replaced'] == 1 and j['prepared']['ruled_lines_taken_out'] == 1 and j['prepared']['redrawn'] >= 1" "$work/prep.json"
  expect_ok eval-inputs-prepared-text "$duet" eval --model-dir "$work/img" --inputs "$work/mine_prep" --device cpu --out "$work/mine_prep_out"
  python3 -c "import csv,os,sys; r={os.path.basename(row['file'])[2:]: row['prepared'] for row in csv.DictReader(open(sys.argv[1]))}; sys.exit(0 if 'lines' in r['lined1.pgm'].split(';') and 'specks' in r['salt1.pgm'].split(';') and 'smoothed' in r['noisy1.pgm'].split(';') and 'redrawn' in r['thin1.pgm'].split(';') and 'transparent' in r['canvas1.png'].split(';') and 'turned' in r['side1.png'].split(';') and 'strays' in r['blot1.pgm'].split(';') and r['pair.pgm'].split(';') == ['side_by_side'] else 1)" \
    "$work/mine_prep_out/inputs.csv" && passes=$((passes + 1)) || { echo "FAIL eval-inputs-csv-prepared: $(cut -d, -f1,15 "$work/mine_prep_out/inputs.csv" | tr '\n' ' ')"; failures=$((failures + 1)); }
  check eval-inputs-heic-note grep -q "mine_prep: 1 .heic file left out: a format duet does not read; convert it to PNG or JPEG first" "$work/err"
  check eval-inputs-prepared-line grep -q "pictures prepared beyond fitting: 1 with a transparent background read as paper, 1 turned upright as their EXIF orientation says, [0-9] read smoothed (noisy), 1 with salt-and-pepper specks replaced, 1 with ruled lines taken out, [0-9] with marks apart from the digit left out, [0-9] redrawn with a wider pen (thin strokes), 1 holding digits side by side (read together as one)" "$work/out"
  # The text output names the reading --test-shift asks for (the same line as a test-set eval).
  expect_ok eval-inputs-shift-0-text "$duet" eval --model-dir "$work/img" --inputs "$work/mine" --device cpu --test-shift 0 --out "$work/mine_s0"
  check eval-inputs-shift-0-line grep -q "pictures read as they are (no test-time shifts)" "$work/out"
  # A comma in a file name stays one CSV field.
  mkdir -p "$work/mine_comma" && cp "$work/digit.pgm" "$work/mine_comma/1_a,b.pgm"
  "$duet" eval --model-dir "$work/img" --inputs "$work/mine_comma" --device cpu --out "$work/mine_comma_out" >/dev/null 2>&1
  python3 -c "import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); sys.exit(0 if len(r) == 1 and r[0]['file'].endswith('1_a,b.pgm') and r[0]['label'] == '1' else 1)" \
    "$work/mine_comma_out/inputs.csv" && passes=$((passes + 1)) || { echo "FAIL eval-inputs-csv-comma"; failures=$((failures + 1)); }
  cp "$work/digit.pgm" "$work/mine_bad/one.pgm"
  expect_fail eval-inputs-unlabelled "one.pgm: the name must start with its digit" "$duet" eval --model-dir "$work/img" --inputs "$work/mine_bad"
  cp "$work/blank.pgm" "$work/mine_blank/3_blank.pgm"
  expect_fail eval-inputs-blank "3_blank.pgm: .*no digit found" "$duet" eval --model-dir "$work/img" --inputs "$work/mine_blank" --device cpu
  expect_fail eval-inputs-empty "no images .* named like 7_anything" "$duet" eval --model-dir "$work/img" --inputs "$work/mine_none"
  expect_fail eval-inputs-missing "--inputs $work/nowhere: not a folder" "$duet" eval --model-dir "$work/img" --inputs "$work/nowhere"
  expect_fail eval-inputs-split "--split does not apply" "$duet" eval --model-dir "$work/img" --inputs "$work/mine" --split official
  expect_fail eval-inputs-robustness "--robustness does not apply to --inputs" "$duet" eval --model-dir "$work/img" --inputs "$work/mine" --robustness
  # --extra FOLDER: the user's own pictures join MNIST's training images (after --train-limit),
  # each brought to MNIST form; the folder is recorded as an absolute path (--resume may run elsewhere).
  expect_ok train-image-extra "$duet" train --model image --epochs 1 --train-limit 64 --test-shift 0 --device cpu \
    --extra "$(realpath --relative-to=. "$work/mine")" --data "$shared" --out "$work/img_extra"
  check train-image-extra-line grep -q "image:vgg on cpu, 67 train / 10000 test" "$work/out"
  check train-image-extra-count grep -q "extra: 3 pictures from $work/mine added to the training set" "$work/out"
  check_json train-image-extra-config "j['data']['extra'] == '$work/mine' and j['data']['extra_size'] == 3" "$work/img_extra/config.json"
  check_json train-image-extra-run "j['args'][-2:] == ['--extra', '$work/mine']" "$work/img_extra/run.json"
  # eval --inputs on the folder a model trained on says that this is no test (stderr; the JSON is the same).
  "$duet" eval --model-dir "$work/img_extra" --inputs "$work/mine" --device cpu --json --out "$work/mine_x" >"$work/mine_x.json" 2>"$work/err"
  check_json eval-inputs-extra-json "j['count'] == 3" "$work/mine_x.json"
  check eval-inputs-extra-note grep -q "img_extra trained on the files of .*mine (duet train --extra): its accuracy on them is not a test" "$work/err"
  "$duet" eval --model-dir "$work/img" --inputs "$work/mine" --device cpu --json --out "$work/mine_x" >/dev/null 2>"$work/err"
  check eval-inputs-no-extra-note not grep -q "duet train --extra" "$work/err"
  expect_fail train-image-extra-blank "--extra: .*3_blank.pgm: the image is blank" "$duet" train --model image --epochs 1 \
    --train-limit 64 --extra "$work/mine_blank" --device cpu --data "$shared" --out "$work/x"
  expect_fail train-image-extra-unlabelled "--extra: .*one.pgm: the name must start with its digit" "$duet" train --model image \
    --extra "$work/mine_bad" --device cpu --data "$shared" --out "$work/x"
  expect_fail train-image-extra-empty "--extra .*mine_none: no images .* named like 7_anything" "$duet" train --model image \
    --extra "$work/mine_none" --device cpu --data "$shared" --out "$work/x"
  # Printed digits: one font's ten pictures, labelled and grouped by the names duet fonts gives.
  sans=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
  if [ -f "$sans" ] && "$duet" fonts --font-dir "$sans" --out "$work/fonts" >/dev/null 2>&1; then
    "$duet" eval --model-dir "$work/img" --inputs "$work/fonts" --device cpu --json --out "$work/fonts_out" >"$work/fonts.json" 2>"$work/err"
    check_json eval-inputs-fonts "j['count'] == 10 and sorted(j['per_class_accuracy']) == [str(d) for d in range(10)] and list(j['per_group_accuracy']) == ['DejaVuSans'] and abs(j['accuracy'] * 10 - (10 - j['errors'])) < 1e-9" "$work/fonts.json"
  else
    echo "SKIP eval-inputs-fonts: $sans not installed"
  fi
  # Flags of the other models, refused on an image model.
  expect_fail eval-test-speeds-image "--test-speeds applies to audio models, not image models" "$duet" eval --model-dir "$work/img" --test-speeds 1
  expect_fail predict-test-speeds-image "--test-speeds applies to audio models, not image models" "$duet" predict --model-dir "$work/img" --image "$work/digit.pgm" --test-speeds 1
  expect_fail fusion-init-wrong-kind "--init-audio needs an audio:duet model" "$duet" train --model fusion \
    --init-audio "$work/img" --epochs 1 --device cpu --data "$shared" --out "$work/x"
fi

if [ -d "$shared/fsdd" ] && runs audio; then
  # Audio: four short epochs of the default model on 1200 clips of the official split.
  expect_ok train-audio "$duet" train --model audio --split official --epochs 4 --train-limit 1200 --device cpu --data "$shared" --out "$work/aud"
  "$duet" eval --model-dir "$work/aud" --data "$shared" --device cpu --json >"$work/aud_eval.json" 2>"$work/err"
  check_json eval-audio "j['accuracy'] > 0.5 and len(j['per_class_accuracy']) == 10" "$work/aud_eval.json"
  # The official split tests every speaker; errors.csv lists exactly the misclassified clips.
  check_json eval-audio-speakers "len(j['per_speaker_accuracy']) == 6 and j['errors'] == round((1 - j['accuracy']) * j['count'])" "$work/aud_eval.json"
  if [ "$(head -1 "$work/aud/errors.csv")" != "example,group,truth,prediction,confidence,truth_probability" ] ||
     [ "$(($(wc -l <"$work/aud/errors.csv") - 1))" != "$(python3 -c "import json; print(json.load(open('$work/aud_eval.json'))['errors'])")" ]; then
    echo "FAIL eval-audio-errors-csv: $(head -3 "$work/aud/errors.csv")"; failures=$((failures + 1))
  else
    passes=$((passes + 1))
  fi
  # predictions.csv: one row per test clip (300 in the official split), probabilities summing
  # to 1, the predicted class their argmax, and the misclassified rows those of errors.csv.
  if python3 - "$work/aud/predictions.csv" "$work/aud/errors.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
errs = {r['example'] for r in csv.DictReader(open(sys.argv[2]))}
assert len(rows) == 300, len(rows)
for r in rows:
    p = [float(r['p%d' % c]) for c in range(10)]
    assert abs(sum(p) - 1) < 1e-3, r
    assert p[int(r['prediction'])] >= max(p) - 1e-6, r
assert {r['example'] for r in rows if r['truth'] != r['prediction']} == errs
PY
  then passes=$((passes + 1)); else echo "FAIL eval-audio-predictions-csv"; failures=$((failures + 1)); fi
  # --robustness: the audio rows of the fusion table on the same 300 clips; the clean row is the
  # plain accuracy, and robustness.csv/png are written where --out says.
  "$duet" eval --model-dir "$work/aud" --data "$shared" --device cpu --robustness --json --out "$work/aud_rob" >"$work/aud_rob.json" 2>"$work/err"
  check_json eval-audio-robustness "sorted(j['robustness']) == sorted(['clean', 'audio SNR 20 dB', 'audio SNR 10 dB', 'audio SNR 0 dB', 'audio SNR -5 dB', 'audio pink SNR 10 dB', 'audio pink SNR 0 dB', 'audio speed 0.87', 'audio speed 1.15', 'audio room 0.5 s', 'audio room 1 s', 'audio cut start 25%', 'audio cut end 25%', 'audio clipped 12 dB']) and j['robustness']['clean'] == j['accuracy'] and j['robustness']['audio SNR -5 dB'] < j['accuracy']" "$work/aud_rob.json"
  if [ "$(head -1 "$work/aud_rob/robustness.csv" 2>/dev/null)" = "degradation,accuracy,loss" ] && [ "$(wc -l <"$work/aud_rob/robustness.csv")" = 15 ] &&
     [ -s "$work/aud_rob/robustness.png" ]; then passes=$((passes + 1)); else echo "FAIL eval-audio-robustness-files"; failures=$((failures + 1)); fi
  expect_fail eval-robustness-bad-seed "--seed expects an integer, got 'x'" "$duet" eval --model-dir "$work/aud" --data "$shared" --robustness --seed x
  expect_fail eval-out-not-a-folder "output folder '$work/aud/config.json/x': cannot create it" "$duet" eval --model-dir "$work/aud" --data "$shared" --device cpu --out "$work/aud/config.json/x"
  "$duet" predict --model-dir "$work/aud" --audio "$shared/fsdd/recordings/7_theo_3.wav" --json --device cpu >"$work/apred.json" 2>"$work/err"
  check config-fields-audio python3 "$(dirname "$0")/check_config_fields.py" "$duet" "$work/aud" "$work/cf_aud" -- --audio "$shared/fsdd/recordings/7_theo_3.wav"
  check_json predict-audio "0 <= j['prediction'] <= 9 and len(j['probabilities']) == 10" "$work/apred.json"
  # 7_theo_3 is an official test clip: predict gives it the probabilities eval wrote for it.
  check_json predict-audio-as-eval "[abs(p - q) < 2e-4 for p, q in zip(j['probabilities'], [float(r['p%d' % c]) for r in __import__('csv').DictReader(open('$work/aud/predictions.csv')) if r['example'].endswith('/7_theo_3.wav') for c in range(10)])].count(True) == 10" "$work/apred.json"
  # Test-time speeds: audio:duet saves 0.92, 1, 1.08 and eval reports them; --test-speeds 1
  # evaluates the clip alone (a different reading of the same model), 0.92,1,1.08 reproduces
  # the saved one; other models and bad lists are refused.
  check_json audio-test-speeds-config "j['audio']['test_speeds'] == [0.92, 1.0, 1.08]" "$work/aud/config.json"
  check_json eval-audio-test-speeds "j['test_speeds'] == [0.92, 1.0, 1.08]" "$work/aud_eval.json"
  "$duet" eval --model-dir "$work/aud" --data "$shared" --device cpu --json --test-speeds 1 --out "$work/aud_s1" >"$work/aud_s1.json" 2>"$work/err"
  check_json eval-audio-speed-1 "j['test_speeds'] == [1.0] and j['count'] == 300 and j['loss'] != json.load(open('$work/aud_eval.json'))['loss']" "$work/aud_s1.json"
  "$duet" eval --model-dir "$work/aud" --data "$shared" --device cpu --json --test-speeds 0.92,1,1.08 --out "$work/aud_s3" >"$work/aud_s3.json" 2>"$work/err"
  check_json eval-audio-speeds-saved "j['loss'] == json.load(open('$work/aud_eval.json'))['loss']" "$work/aud_s3.json"
  "$duet" predict --model-dir "$work/aud" --audio "$shared/fsdd/recordings/7_theo_3.wav" --json --device cpu --test-speeds 1 >"$work/apred1.json" 2>"$work/err"
  check_json predict-audio-speed-1 "[abs(p - q) < 2e-4 for p, q in zip(j['probabilities'], [float(r['p%d' % c]) for r in __import__('csv').DictReader(open('$work/aud_s1/predictions.csv')) if r['example'].endswith('/7_theo_3.wav') for c in range(10)])].count(True) == 10" "$work/apred1.json"
  expect_fail eval-test-speeds-bad "--test-speeds expects 1 to 9 comma-separated speed factors" "$duet" eval --model-dir "$work/aud" --data "$shared" --test-speeds 0
  expect_fail eval-test-shift-audio "--test-shift applies to image models, not audio models" "$duet" eval --model-dir "$work/aud" --test-shift 1
  expect_fail predict-test-shift-audio "--test-shift applies to image models, not audio models" "$duet" predict --model-dir "$work/aud" --audio "$shared/fsdd/recordings/7_theo_3.wav" --test-shift 1
  expect_fail predict-audio-bad-wav "not a WAV file" "$duet" predict --model-dir "$work/aud" --audio "$work/junk.png"
  expect_fail predict-audio-folder "$work/aud: is a folder, not a recording \\(WAV, AIFF, CAF, FLAC, MP3, M4A or Ogg Vorbis\\)" "$duet" predict --model-dir "$work/aud" --audio "$work/aud"
  # Recordings with no word in them are refused, naming the file: no samples, digital
  # silence, nothing above -80 dBFS (here -84 dBFS).
  expect_fail predict-audio-no-samples "nosamples.wav: the recording holds no samples" "$duet" predict --model-dir "$work/aud" --audio "$work/nosamples.wav"
  expect_fail predict-audio-silent "zeros.wav: the recording is silent \\(every sample is 0\\): no word to hear" "$duet" predict --model-dir "$work/aud" --audio "$work/zeros.wav"
  expect_fail predict-audio-hiss "hiss.wav: the recording is silent \\(its loudest sample at -84 dBFS\\)" "$duet" predict --model-dir "$work/aud" --audio "$work/hiss.wav"
  # A recording longer than the window once trimmed (three words with pauses): predicted, with
  # a note on stderr that the model hears its loudest second; stdout stays one JSON object.
  python3 - "$shared/fsdd/recordings" "$work/three.wav" <<'PY'
import struct, sys, wave
out = b''
for name in ('1_george_0.wav', '2_george_0.wav', '3_george_0.wav'):
    w = wave.open(sys.argv[1] + '/' + name)
    out += w.readframes(w.getnframes()) + b'\0\0' * 2400
w = wave.open(sys.argv[2], 'wb'); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000); w.writeframes(out); w.close()
PY
  "$duet" predict --model-dir "$work/aud" --audio "$work/three.wav" --json --device cpu >"$work/three.json" 2>"$work/err"
  check_json predict-audio-long "0 <= j['prediction'] <= 9 and len(j['probabilities']) == 10" "$work/three.json"
  check predict-audio-long-note grep -qE "three.wav: the sound lasts [0-9.]+ s once the silence around it is trimmed; the model hears its loudest 1.00 s \(digits said in a row: --number reads each\)$" "$work/err"
  # --number: the same three words read one by one, in order, without the long-recording note.
  "$duet" predict --model-dir "$work/aud" --audio "$work/three.wav" --number --json --device cpu >"$work/three_n.json" 2>"$work/err"
  check_json predict-audio-number "len(j['number']) == 3 and [d['prediction'] for d in j['digits']] == [int(c) for c in j['number']] and all(0 <= a['start_s'] < a['end_s'] < b['start_s'] for a, b in zip(j['digits'], j['digits'][1:])) and all(abs(sum(d['probabilities']) - 1) < 1e-4 for d in j['digits'])" "$work/three_n.json"
  check predict-audio-number-no-note not grep -q 'note:' "$work/err"
  "$duet" predict --model-dir "$work/aud" --audio "$work/three.wav" --number --device cpu >"$work/out" 2>"$work/err"
  check predict-audio-number-text grep -qE "^number: [0-9]{3}$" "$work/out"
  check predict-audio-number-words grep -qE "^digit 3: [0-9] \([01]\.[0-9]{3}\), said [0-9.]+-[0-9.]+ s$" "$work/out"
  # Three words said back to back (their silences cut off), then a fourth after a pause: the stretch
  # of the three is cut into words where the model reads them best (noted); the pieces meet.
  python3 - "$shared/fsdd/recordings" "$work/together.wav" "$work/tone.wav" <<'PY'
import array, math, sys, wave
def word(name):
    w = wave.open(sys.argv[1] + '/' + name)
    x = array.array('h', w.readframes(w.getnframes()))
    e = [sum(v * v for v in x[i:i + 256]) for i in range(0, len(x) - 256, 64)]
    on = [i for i, v in enumerate(e) if v >= max(e) * 1e-4]
    return x[on[0] * 64:on[-1] * 64 + 256]
out = array.array('h')
for name, gap in (('4_george_5.wav', 0), ('2_george_7.wav', 0), ('7_george_9.wav', 4000), ('1_george_9.wav', 0)):
    out += word(name) + array.array('h', [0] * gap)
w = wave.open(sys.argv[2], 'wb'); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000); w.writeframes(out.tobytes()); w.close()
tone = array.array('h', [0] * 2000 + [int(8000 * math.sin(2 * math.pi * 300 * i / 8000)) for i in range(10400)] + [0] * 2000)
w = wave.open(sys.argv[3], 'wb'); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000); w.writeframes(tone.tobytes()); w.close()
PY
  "$duet" predict --model-dir "$work/aud" --audio "$work/together.wav" --number --json --device cpu >"$work/together.json" 2>"$work/err"
  check_json predict-audio-number-together "len(j['digits']) >= 3 and all(a['end_s'] == b['start_s'] for a, b in zip(j['digits'][:-2], j['digits'][1:-1])) and j['digits'][-2]['end_s'] + 0.4 < j['digits'][-1]['start_s']" "$work/together.json"
  check predict-audio-number-together-note grep -qE "together.wav: 1 stretch of sound longer than a word is cut into the [2-9] words said without a pause where the model reads them best \(a pause of 0\.2 s between digits reads surer\)" "$work/err"
  # show --words --model-dir: the words as predict --number reads them (the stretch cut), each with its digit.
  expect_ok show-audio-words-model "$duet" show "$work/together.wav" --words --model-dir "$work/aud" --device cpu -o "$work/together.png"
  check show-audio-words-read grep -qE "^read: +$(python3 -c "import json; print(json.load(open('$work/together.json'))['number'])")$" "$work/out"
  check show-audio-words-listed grep -qE "^words: +$(python3 -c "import json; d = json.load(open('$work/together.json'))['digits']; print('%d: ' % len(d) + ', '.join('%.2f-%.2f s read %d \\\\(%.2f\\\\)' % (w['start_s'], w['end_s'], w['prediction'], w['probabilities'][w['prediction']]) for w in d))")$" "$work/out"
  check show-audio-words-cut-note grep -q "together.wav: 1 stretch of sound longer than a word is cut into" "$work/err"
  expect_ok show-audio-model "$duet" show "$shared/fsdd/recordings/7_theo_3.wav" --model-dir "$work/aud" --device cpu -o "$work/theo.png"
  check show-audio-model-read grep -qE "^read: +$(python3 -c "import json; j = json.load(open('$work/apred.json')); p = j['prediction']; print('%d \\\\(%.2f\\\\)' % (p, j['probabilities'][p]))")$" "$work/out"
  check show-audio-model-no-words not grep -q "^words:" "$work/out"
  python3 -c "open('$work/bar.pgm','wb').write(b'P5\n40 50\n255\n' + bytes(40 if 18 <= x < 22 and 8 <= y < 42 else 235 for y in range(50) for x in range(40)))"
  expect_fail show-audio-model-picture "show: --model-dir $work/aud holds an audio model; .*bar.pgm is a picture: give an image model" \
    "$duet" show "$work/bar.pgm" --model-dir "$work/aud"
  expect_fail show-audio-model-silent "zeros.wav: the recording is silent" "$duet" show "$work/zeros.wav" --model-dir "$work/aud"
  # One word (FSDD's clips hold little silence around it): read as predict reads the recording.
  for clip in 7_theo_3 3_nicolas_6; do
    "$duet" predict --model-dir "$work/aud" --audio "$shared/fsdd/recordings/$clip.wav" --json --device cpu >"$work/one.json" 2>"$work/err"
    "$duet" predict --model-dir "$work/aud" --audio "$shared/fsdd/recordings/$clip.wav" --number --json --device cpu >"$work/one_n.json" 2>"$work/err"
    check_json "predict-audio-number-one-$clip" "len(j['digits']) == 1 and j['digits'][0]['probabilities'] == json.load(open('$work/one.json'))['probabilities']" "$work/one_n.json"
  done
  # A steady tone of 1.3 s has no dip to cut at: one word, longer than the window: noted.
  "$duet" predict --model-dir "$work/aud" --audio "$work/tone.wav" --number --json --device cpu >"$work/tone.json" 2>"$work/err"
  check_json predict-audio-number-tone "len(j['digits']) == 1" "$work/tone.json"
  check predict-audio-number-tone-note grep -qE "tone.wav: word 1 lasts 1\.[0-9]{2} s, longer than the model hears \(1\.00 s\): it is read as one digit \(pause 0\.2 s between digits\)" "$work/err"
  check predict-audio-number-tone-no-cut not grep -q "is cut into" "$work/err"
  mkdir -p "$work/numbers_aud" && cp "$work/three.wav" "$work/numbers_aud/123_george.wav" && cp "$shared/fsdd/recordings/7_theo_3.wav" "$work/numbers_aud/7_theo.wav"
  eval_numbers eval-inputs-number-audio "$work/aud" "$work/numbers_aud"
  check_json eval-inputs-number-audio "j['count'] == 2 and j['count_right'] == 1.0 and set(j['per_group_accuracy']) == {'george', 'theo'} and j['test_speeds'] == [0.92, 1.0, 1.08]" "$work/numbers_aud.json"
  check eval-inputs-number-audio-csv grep -qE "123_george.wav,123,[0-9]{3},[0-9.e-]+$" "$work/numbers_aud_out/inputs.csv"
  check eval-inputs-number-audio-groups grep -q "per-group accuracy (the name's second field):" "$work/out"
  expect_fail predict-audio-number-silent "zeros.wav: the recording is silent" "$duet" predict --model-dir "$work/aud" --audio "$work/zeros.wav" --number
  "$duet" predict --model-dir "$work/aud" --audio "$shared/fsdd/recordings/7_theo_3.wav" --device cpu >"$work/out" 2>"$work/err"
  check predict-audio-short-no-note not grep -q 'note:' "$work/err"
  # Other ways a recording arrives: streamed to a pipe (the header's sizes left unset, read to
  # the end of the file with a note on stderr: the same samples, the same probabilities) and
  # G.711 mu-law, as telephone recordings are (8-bit; nearly the same probabilities).
  python3 - "$shared/fsdd/recordings/7_theo_3.wav" "$work" <<'PY'
import bisect, struct, sys, wave
w = wave.open(sys.argv[1])
pcm = w.readframes(w.getnframes())
fmt = struct.pack('<HHIIHH', 1, 1, 8000, 16000, 2, 16)
body = b'WAVEfmt ' + struct.pack('<I', 16) + fmt + b'data' + struct.pack('<I', 0xFFFFFFFF) + pcm
open(sys.argv[2] + '/7_piped.wav', 'wb').write(b'RIFF' + struct.pack('<I', 0xFFFFFFFF) + body)
def mulaw(u):  # the G.711 expansion of one code
    u = ~u & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return 0x84 - t if u & 0x80 else t - 0x84
table = sorted((mulaw(c), c) for c in range(256))
values = [v for v, _ in table]
def encode(x):  # the code whose expansion lies nearest
    i = bisect.bisect_left(values, x)
    near = [k for k in (i - 1, i) if 0 <= k < len(values)]
    return table[min(near, key=lambda k: abs(values[k] - x))][1]
samples = struct.unpack('<%dh' % (len(pcm) // 2), pcm)
codes = bytes(encode(x) for x in samples)
fmt = struct.pack('<HHIIHHH', 7, 1, 8000, 8000, 1, 8, 0)
body = b'WAVEfmt ' + struct.pack('<I', 18) + fmt + b'fact' + struct.pack('<II', 4, len(codes)) + b'data' + struct.pack('<I', len(codes)) + codes
open(sys.argv[2] + '/7_mulaw.wav', 'wb').write(b'RIFF' + struct.pack('<I', len(body)) + body)
PY
  "$duet" predict --model-dir "$work/aud" --audio "$work/7_piped.wav" --json --device cpu >"$work/piped.json" 2>"$work/err"
  check_json predict-audio-piped "j == json.load(open('$work/apred.json'))" "$work/piped.json"
  check predict-audio-piped-note grep -qE "7_piped.wav: the data chunk's size field says 4294967295 bytes but [0-9]+ follow it; read to the end of the file" "$work/err"
  "$duet" predict --model-dir "$work/aud" --audio "$work/7_mulaw.wav" --json --device cpu >"$work/mulaw.json" 2>"$work/err"
  # (8-bit codes carry the clip to about 38 dB SNR: the small model's probabilities move
  # by 0.004 here; bytes read as 8-bit PCM would be noise.)
  check_json predict-audio-mulaw "max(abs(p - q) for p, q in zip(j['probabilities'], json.load(open('$work/apred.json'))['probabilities'])) < 0.02" "$work/mulaw.json"
  check predict-audio-mulaw-no-note not grep -q 'note:' "$work/err"
  # A clipped recording (the clip driven 12 dB past full scale): read, with a note.
  python3 - "$shared/fsdd/recordings/7_theo_3.wav" "$work/7_clipped.wav" <<'PY'
import struct, sys, wave
w = wave.open(sys.argv[1])
x = struct.unpack('<%dh' % w.getnframes(), w.readframes(w.getnframes()))
peak = max(abs(v) for v in x)
y = [max(-32768, min(32767, round(v * 4 * 32768 / peak))) for v in x]
o = wave.open(sys.argv[2], 'wb'); o.setnchannels(1); o.setsampwidth(2); o.setframerate(8000)
o.writeframes(struct.pack('<%dh' % len(y), *y)); o.close()
PY
  "$duet" predict --model-dir "$work/aud" --audio "$work/7_clipped.wav" --json --device cpu >"$work/clipped.json" 2>"$work/err"
  check_json predict-audio-clipped "0 <= j['prediction'] <= 9" "$work/clipped.json"
  check predict-audio-clipped-note grep -qE "7_clipped.wav: [0-9]+ samples \([0-9.]+ ms in all\) lie within 1% of the peak \(0.0 dBFS\): the recording is clipped" "$work/err"
  "$duet" predict --model-dir "$work/aud" --audio "$shared/fsdd/recordings/7_theo_3.wav" --json --device cpu >/dev/null 2>"$work/err"
  check predict-audio-unclipped-no-note not grep -q "clipped" "$work/err"
  mkdir -p "$work/mine_piped" && cp "$work/7_piped.wav" "$work/7_mulaw.wav" "$work/mine_piped/"
  "$duet" eval --model-dir "$work/aud" --inputs "$work/mine_piped" --device cpu --json --out "$work/mine_piped_out" >"$work/piped_eval.json" 2>"$work/err"
  check_json eval-inputs-piped-mulaw "j['count'] == 2" "$work/piped_eval.json"
  check eval-inputs-piped-note grep -q "7_piped.wav: the data chunk's size field says" "$work/err"
  mkdir -p "$work/mine_silent" && cp "$shared/fsdd/recordings/7_theo_3.wav" "$work/mine_silent/" && cp "$work/zeros.wav" "$work/mine_silent/4_zeros.wav"
  expect_fail eval-inputs-silent-wav "4_zeros.wav: the recording is silent" "$duet" eval --model-dir "$work/aud" --inputs "$work/mine_silent" --device cpu
  # eval --inputs with recordings: FSDD's names already carry the digit and the speaker.
  mkdir -p "$work/mine_wav" "$work/mine_badwav"
  cp "$shared/fsdd/recordings/7_theo_3.wav" "$shared/fsdd/recordings/2_george_0.wav" "$shared/fsdd/recordings/2_jackson_1.wav" "$work/mine_wav/"
  "$duet" eval --model-dir "$work/aud" --inputs "$work/mine_wav" --device cpu --json --out "$work/mine_wav_out" >"$work/mine_wav.json" 2>"$work/err"
  check_json eval-inputs-audio "j['count'] == 3 and sorted(j['per_group_accuracy']) == ['george', 'jackson', 'theo'] and sorted(j['per_class_accuracy']) == ['2', '7']" "$work/mine_wav.json"
  # FLAC: the same clips through the reference encoder (which tools/setup.sh installs), one left
  # as WAV beside them, read sample for sample as the WAVs are; a FLAC file cut short keeps its
  # whole frames with a note; a damaged frame is refused naming the file.
  if command -v flac >/dev/null; then
    mkdir -p "$work/mine_flac"
    flac -s -8 "$shared/fsdd/recordings/7_theo_3.wav" -o "$work/mine_flac/7_theo_3.flac"
    flac -s -0 "$shared/fsdd/recordings/2_jackson_1.wav" -o "$work/mine_flac/2_jackson_1.FLAC"
    cp "$shared/fsdd/recordings/2_george_0.wav" "$work/mine_flac/"
    "$duet" eval --model-dir "$work/aud" --inputs "$work/mine_flac" --device cpu --json --out "$work/mine_flac_out" >"$work/mine_flac.json" 2>"$work/err"
    check_json eval-inputs-flac "j['count'] == 3 and j['accuracy'] == json.load(open('$work/mine_wav.json'))['accuracy']" "$work/mine_flac.json"
    # inputs.csv: every file's label, prediction and probabilities as its WAV's (names aside).
    check inputs-flac-as-wav cmp <(cut -d, -f2- "$work/mine_wav_out/inputs.csv") <(cut -d, -f2- "$work/mine_flac_out/inputs.csv")
    "$duet" predict --model-dir "$work/aud" --audio "$work/mine_flac/7_theo_3.flac" --json --device cpu >"$work/apred_flac.json" 2>"$work/err"
    check_json predict-flac "j['probabilities'] == json.load(open('$work/apred.json'))['probabilities']" "$work/apred_flac.json"
    check info-flac grep -q "encoding:    flac, 16 bits" <("$duet" info "$work/mine_flac/7_theo_3.flac")
    flac -s -5 -b 576 "$shared/fsdd/recordings/7_theo_3.wav" -o "$work/7_blocks.flac"
    python3 -c "b = open('$work/7_blocks.flac', 'rb').read(); open('$work/7_cut.flac', 'wb').write(b[:len(b) - 300]); d = bytearray(b); d[-3] ^= 0x40; open('$work/7_damaged.flac', 'wb').write(d)"
    expect_ok predict-flac-cut "$duet" predict --model-dir "$work/aud" --audio "$work/7_cut.flac" --device cpu
    check predict-flac-cut-note grep -q "7_cut.flac: the file ends in the middle of FLAC frame" "$work/err"
    expect_fail predict-flac-damaged "7_damaged.flac: FLAC frame [0-9]+ \\(byte [0-9]+\\): frame fails its CRC-16 check \\(damaged file\\)" "$duet" predict --model-dir "$work/aud" --audio "$work/7_damaged.flac"
  elif [ -n "${CI:-}" ]; then
    echo "FAIL flac: the reference encoder is not installed (tools/setup.sh installs it)"; failures=$((failures + 1))
  else
    echo "skip: flac not installed; the FLAC checks need it (tools/setup.sh installs it)"
  fi
  # MP3: the same clips through the reference encoder (lame, which tools/setup.sh installs), one
  # left as WAV; a clip reads as the reference decoder (mpg123) reads it; a damaged CRC-protected
  # frame is refused naming the file and frame; a file cut short keeps its whole frames.
  if command -v lame >/dev/null && command -v mpg123 >/dev/null; then
    mkdir -p "$work/mine_mp3"
    lame --quiet -b 32 "$shared/fsdd/recordings/7_theo_3.wav" "$work/mine_mp3/7_theo_3.mp3"
    lame --quiet -V 2 "$shared/fsdd/recordings/2_jackson_1.wav" "$work/mine_mp3/2_jackson_1.MP3"
    cp "$shared/fsdd/recordings/2_george_0.wav" "$work/mine_mp3/"
    "$duet" eval --model-dir "$work/aud" --inputs "$work/mine_mp3" --device cpu --json --out "$work/mine_mp3_out" >"$work/mine_mp3.json" 2>"$work/err"
    check_json eval-inputs-mp3 "j['count'] == 3 and sorted(j['per_group_accuracy']) == ['george', 'jackson', 'theo']" "$work/mine_mp3.json"
    mpg123 -q -e f32 -w "$work/7_theo_3_mpg123.wav" "$work/mine_mp3/7_theo_3.mp3"
    "$duet" predict --model-dir "$work/aud" --audio "$work/mine_mp3/7_theo_3.mp3" --json --device cpu >"$work/apred_mp3.json" 2>"$work/err"
    "$duet" predict --model-dir "$work/aud" --audio "$work/7_theo_3_mpg123.wav" --json --device cpu >"$work/apred_mpg123.json" 2>"$work/err"
    check_json predict-mp3-as-mpg123 "max(abs(p - q) for p, q in zip(j['probabilities'], json.load(open('$work/apred_mpg123.json'))['probabilities'])) < 1e-4" "$work/apred_mp3.json"
    check info-mp3 grep -q "encoding:    MPEG-2.5 layer III (MP3), 32 kbit/s" <("$duet" info "$work/mine_mp3/7_theo_3.mp3")
    expect_ok show-mp3 "$duet" show "$work/mine_mp3/7_theo_3.mp3" -o "$work/mp3.png"
    lame --quiet -p -b 32 "$shared/fsdd/recordings/7_theo_3.wav" "$work/7_crc.mp3"
    python3 -c "b = open('$work/7_crc.mp3', 'rb').read(); open('$work/7_cut.mp3', 'wb').write(b[:len(b) - 30]); d = bytearray(b); d[288 + 8] ^= 0x40; open('$work/7_damaged.mp3', 'wb').write(d)"
    expect_ok predict-mp3-cut "$duet" predict --model-dir "$work/aud" --audio "$work/7_cut.mp3" --device cpu
    check predict-mp3-cut-note grep -q "7_cut.mp3: the file is cut short in frame [0-9]*; the frames before it are read" "$work/err"
    expect_fail predict-mp3-damaged "7_damaged.mp3: frame 2 \\(byte 288\\): CRC mismatch \\(the frame is damaged\\)" "$duet" predict --model-dir "$work/aud" --audio "$work/7_damaged.mp3"
  elif [ -n "${CI:-}" ]; then
    echo "FAIL mp3: lame or mpg123 is not installed (tools/setup.sh installs them)"; failures=$((failures + 1))
  else
    echo "skip: lame or mpg123 not installed; the MP3 checks need them (tools/setup.sh installs them)"
  fi
  # AAC: the same clips through ffmpeg's encoder (which tools/setup.sh installs) as M4A and ADTS,
  # one left as WAV; a clip reads as ffmpeg's decoder reads it; an M4A cut short keeps its whole
  # frames; Apple Lossless in an M4A is named.
  if command -v ffmpeg >/dev/null; then
    mkdir -p "$work/mine_aac"
    ffmpeg -hide_banner -loglevel error -nostdin -y -i "$shared/fsdd/recordings/7_theo_3.wav" -c:a aac -b:a 32k "$work/mine_aac/7_theo_3.m4a"
    ffmpeg -hide_banner -loglevel error -nostdin -y -i "$shared/fsdd/recordings/2_jackson_1.wav" -c:a aac -b:a 24k "$work/mine_aac/2_jackson_1.aac"
    cp "$shared/fsdd/recordings/2_george_0.wav" "$work/mine_aac/"
    "$duet" eval --model-dir "$work/aud" --inputs "$work/mine_aac" --device cpu --json --out "$work/mine_aac_out" >"$work/mine_aac.json" 2>"$work/err"
    check_json eval-inputs-aac "j['count'] == 3 and sorted(j['per_group_accuracy']) == ['george', 'jackson', 'theo']" "$work/mine_aac.json"
    # predict_as_ffmpeg NAME FILE (an 8 kHz clip): predict reads FILE as it reads ffmpeg's
    # decoding of it, cut to the length duet reads (ffmpeg keeps the padding after an M4A's edit
    # list), as a float WAV.
    predict_as_ffmpeg() {
      local name=$1 file=$2 samples
      samples=$("$duet" info "$file" | sed -n 's/^samples: *\([0-9]*\) per channel/\1/p')
      ffmpeg -hide_banner -loglevel error -nostdin -y -i "$file" -f f32le "$work/$name.f32"
      python3 -c "
import struct
d = open('$work/$name.f32', 'rb').read()[:4 * $samples]
fmt = struct.pack('<HHIIHH', 3, 1, 8000, 32000, 4, 32)
open('$work/$name.wav', 'wb').write(b'RIFF' + struct.pack('<I', 36 + len(d)) + b'WAVEfmt ' + struct.pack('<I', 16) + fmt + b'data' + struct.pack('<I', len(d)) + d)"
      "$duet" predict --model-dir "$work/aud" --audio "$file" --json --device cpu >"$work/$name.json" 2>"$work/err"
      "$duet" predict --model-dir "$work/aud" --audio "$work/$name.wav" --json --device cpu >"$work/${name}_ffmpeg.json" 2>"$work/err"
      check_json "$name" "max(abs(p - q) for p, q in zip(j['probabilities'], json.load(open('$work/${name}_ffmpeg.json'))['probabilities'])) < 1e-4" "$work/$name.json"
    }
    predict_as_ffmpeg predict-m4a-as-ffmpeg "$work/mine_aac/7_theo_3.m4a"
    check info-m4a grep -q "encoding:    AAC-LC (M4A)" <("$duet" info "$work/mine_aac/7_theo_3.m4a")
    ffmpeg -hide_banner -loglevel error -nostdin -y -i "$shared/fsdd/recordings/7_theo_3.wav" -c:a aac -movflags +faststart "$work/7_fast.m4a"
    python3 -c "b = open('$work/7_fast.m4a', 'rb').read(); open('$work/7_cut.m4a', 'wb').write(b[:len(b) - 200])"
    expect_ok predict-m4a-cut "$duet" predict --model-dir "$work/aud" --audio "$work/7_cut.m4a" --device cpu
    check predict-m4a-cut-note grep -q "7_cut.m4a: the file is cut short in AAC frame [0-9]*; the frames before it are read" "$work/err"
    ffmpeg -hide_banner -loglevel error -nostdin -y -i "$shared/fsdd/recordings/7_theo_3.wav" -c:a alac "$work/7_alac.m4a"
    expect_fail predict-alac "7_alac.m4a: an MP4 file whose audio is 'alac' \\(Apple Lossless\\), not AAC" "$duet" predict --model-dir "$work/aud" --audio "$work/7_alac.m4a"
    # Ogg Vorbis: clips through ffmpeg's libvorbis as .ogg and .oga beside a WAV; a clip reads as
    # ffmpeg's decoder reads it; a file cut short keeps the packets of its whole pages.
    mkdir -p "$work/mine_vorbis"
    ffmpeg -hide_banner -loglevel error -nostdin -y -i "$shared/fsdd/recordings/7_theo_3.wav" -c:a libvorbis -q:a 2 "$work/mine_vorbis/7_theo_3.ogg"
    ffmpeg -hide_banner -loglevel error -nostdin -y -i "$shared/fsdd/recordings/2_jackson_1.wav" -c:a libvorbis -q:a 0 -f ogg "$work/mine_vorbis/2_jackson_1.oga"
    cp "$shared/fsdd/recordings/2_george_0.wav" "$work/mine_vorbis/"
    "$duet" eval --model-dir "$work/aud" --inputs "$work/mine_vorbis" --device cpu --json --out "$work/mine_vorbis_out" >"$work/mine_vorbis.json" 2>"$work/err"
    check_json eval-inputs-vorbis "j['count'] == 3 and sorted(j['per_group_accuracy']) == ['george', 'jackson', 'theo']" "$work/mine_vorbis.json"
    predict_as_ffmpeg predict-ogg-as-ffmpeg "$work/mine_vorbis/7_theo_3.ogg"
    check info-ogg grep -q "encoding:    Vorbis (Ogg)" <("$duet" info "$work/mine_vorbis/7_theo_3.ogg")
    ffmpeg -hide_banner -loglevel error -nostdin -y -i "$shared/fsdd/recordings/7_theo_3.wav" -c:a libvorbis -page_duration 100000 "$work/7_pages.ogg"
    python3 -c "b = open('$work/7_pages.ogg', 'rb').read(); open('$work/7_cut.ogg', 'wb').write(b[:len(b) - 100])"
    expect_ok predict-ogg-cut "$duet" predict --model-dir "$work/aud" --audio "$work/7_cut.ogg" --device cpu
    check predict-ogg-cut-note grep -q "7_cut.ogg: the file ends inside Ogg page [0-9]* (byte [0-9]*; cut short?): the packets before it read" "$work/err"
    python3 -c "b = bytearray(open('$work/7_pages.ogg', 'rb').read()); b[len(b) // 2] ^= 1; open('$work/7_bad.ogg', 'wb').write(bytes(b))"
    expect_fail predict-ogg-crc "7_bad.ogg: Ogg page [0-9]+ \\(byte [0-9]+\\): its CRC does not match its bytes \\(damaged\\)" "$duet" predict --model-dir "$work/aud" --audio "$work/7_bad.ogg"
    # AIFF and CAF (a Mac's and an iPhone app's recordings): big-endian PCM, AIFF-C float and CAF
    # little-endian PCM clips read through eval --inputs, predict (as ffmpeg decodes them) and info.
    mkdir -p "$work/mine_apple"
    ffmpeg -hide_banner -loglevel error -nostdin -y -i "$shared/fsdd/recordings/7_theo_3.wav" -c:a pcm_s16be "$work/mine_apple/7_theo_3.aiff"
    ffmpeg -hide_banner -loglevel error -nostdin -y -i "$shared/fsdd/recordings/2_jackson_1.wav" -c:a pcm_f32be -f aiff "$work/mine_apple/2_jackson_1.aif"
    ffmpeg -hide_banner -loglevel error -nostdin -y -i "$shared/fsdd/recordings/2_george_0.wav" -c:a pcm_s16le "$work/mine_apple/2_george_0.caf"
    "$duet" eval --model-dir "$work/aud" --inputs "$work/mine_apple" --device cpu --json --out "$work/mine_apple_out" >"$work/mine_apple.json" 2>"$work/err"
    check_json eval-inputs-aiff-caf "j['count'] == 3 and sorted(j['per_group_accuracy']) == ['george', 'jackson', 'theo']" "$work/mine_apple.json"
    predict_as_ffmpeg predict-aiff-as-ffmpeg "$work/mine_apple/7_theo_3.aiff"
    predict_as_ffmpeg predict-caf-as-ffmpeg "$work/mine_apple/2_george_0.caf"
    check info-aiff grep -q "encoding:    float (AIFF-C), 32 bits" <("$duet" info "$work/mine_apple/2_jackson_1.aif")
    check info-caf grep -q "encoding:    pcm (CAF), 16 bits" <("$duet" info "$work/mine_apple/2_george_0.caf")
    # Compressed CAF and an AIFF whose COMM chunk claims more than the file holds: one-line refusals.
    ffmpeg -hide_banner -loglevel error -nostdin -y -i "$shared/fsdd/recordings/7_theo_3.wav" -c:a alac -f caf "$work/7_alac.caf"
    expect_fail predict-caf-alac "7_alac.caf: a CAF file of 'alac' audio \\(Apple Lossless\\); duet reads linear PCM, float and G.711 CAF" "$duet" predict --model-dir "$work/aud" --audio "$work/7_alac.caf"
    python3 -c "b = bytearray(open('$work/mine_apple/7_theo_3.aiff', 'rb').read()); i = b.index(b'COMM'); b[i + 4:i + 8] = (10**6).to_bytes(4, 'big'); open('$work/7_bad.aiff', 'wb').write(bytes(b))"
    expect_fail predict-aiff-bad-comm "7_bad.aiff: chunk 'COMM' claims 1000000 bytes but the file ends after [0-9]+ \\(truncated\\?\\)" "$duet" predict --model-dir "$work/aud" --audio "$work/7_bad.aiff"
  elif [ -n "${CI:-}" ]; then
    echo "FAIL aac: ffmpeg is not installed (tools/setup.sh installs it)"; failures=$((failures + 1))
  else
    echo "skip: ffmpeg not installed; the AAC, Ogg Vorbis, AIFF and CAF checks need it (tools/setup.sh installs it)"
  fi
  cp "$work/junk.png" "$work/mine_badwav/4_junk.wav"
  expect_fail eval-inputs-bad-wav "4_junk.wav: not a WAV file" "$duet" eval --model-dir "$work/aud" --inputs "$work/mine_badwav" --device cpu
  expect_fail eval-inputs-no-wav "no .wav, .aiff, .caf, .flac, .mp3, .m4a, .aac or .ogg \\(Vorbis\\) files" "$duet" eval --model-dir "$work/aud" --inputs "$work/pics"
  # An Ogg Opus file (a voice note) and an AMR file (a phone's voice codec): named, with how to
  # convert them, whether given alone or left out of a folder beside WAV files. The Opus file is
  # its first page: OpusHead, with the page's CRC.
  mkdir -p "$work/mine_ogg" "$work/mine_mixed"
  python3 -c "
import struct
def crc(b):
    c = 0
    for x in b:
        c ^= x << 24
        for _ in range(8):
            c = ((c << 1) ^ 0x04C11DB7 if c & 0x80000000 else c << 1) & 0xFFFFFFFF
    return c
body = b'OpusHead' + bytes([1, 1, 0x38, 1, 0x40, 0x1F, 0, 0, 0, 0, 0])
page = b'OggS' + bytes([0, 2]) + struct.pack('<qIII', 0, 1, 0, 0) + bytes([1, len(body)]) + body
open('$work/mine_ogg/3_note.ogg', 'wb').write(page[:22] + struct.pack('<I', crc(page)) + page[26:])"
  cp "$work/mine_ogg/3_note.ogg" "$work/mine_mixed/" && printf '#!AMR\n' >"$work/mine_mixed/4_call.amr"
  cp "$shared/fsdd/recordings/7_theo_3.wav" "$work/mine_mixed/"
  expect_fail eval-inputs-only-ogg "no .wav, .aiff, .caf, .flac, .mp3, .m4a, .aac or .ogg \\(Vorbis\\) files named like 7_anything \\(1 .ogg \\(Opus\\) file: a format duet does not read; convert it to WAV first \\(e.g. ffmpeg -i IN -ac 1 OUT.wav\\)\\)" "$duet" eval --model-dir "$work/aud" --inputs "$work/mine_ogg"
  "$duet" eval --model-dir "$work/aud" --inputs "$work/mine_mixed" --device cpu --json --out "$work/mine_mixed_out" >"$work/mixed.json" 2>"$work/err"
  check_json eval-inputs-mixed "j['count'] == 1" "$work/mixed.json"
  check eval-inputs-mixed-note grep -q "mine_mixed: 1 .amr and 1 .ogg (Opus) files left out: formats duet does not read; convert them to WAV first" "$work/err"
  expect_fail predict-ogg "3_note.ogg: an Ogg Opus recording; duet reads WAV, AIFF, CAF, FLAC, MP3, AAC \\(M4A\\) and Ogg Vorbis recordings" "$duet" predict --model-dir "$work/aud" --audio "$work/mine_ogg/3_note.ogg"
  # An M4A file without its index (a recording stopped before the app wrote it): refused, naming it.
  python3 -c "open('$work/3_phone.m4a','wb').write(b'\\0\\0\\0\\x20ftypM4A ' + bytes(24))"
  expect_fail predict-m4a-no-index "3_phone.m4a: an MP4 file with no 'moov' box" "$duet" predict --model-dir "$work/aud" --audio "$work/3_phone.m4a"
  # --extra FOLDER: the user's own recordings join the training set (after --train-limit).
  expect_ok train-audio-extra "$duet" train --model audio --split official --epochs 1 --train-limit 50 --extra "$work/mine_wav" \
    --device cpu --data "$shared" --out "$work/aud_extra"
  check train-audio-extra-line grep -q "audio:duet on cpu, 53 train / 300 test" "$work/out"
  check train-audio-extra-count grep -q "extra: 3 recordings from $work/mine_wav added to the training set" "$work/out"
  check_json train-audio-extra-config "j['data']['extra_size'] == 3 and j['data']['train_size'] == 53" "$work/aud_extra/config.json"
  expect_fail train-audio-extra-silent "4_zeros.wav: the recording is silent" "$duet" train --model audio --split official \
    --epochs 1 --train-limit 50 --extra "$work/mine_silent" --device cpu --data "$shared" --out "$work/x"
  expect_fail train-audio-extra-bad-wav "4_junk.wav: not a WAV file" "$duet" train --model audio --split official --epochs 1 \
    --train-limit 50 --extra "$work/mine_badwav" --device cpu --data "$shared" --out "$work/x"
  expect_fail train-audio-extra-pictures "--extra .*pics: no .wav, .aiff, .caf, .flac, .mp3, .m4a, .aac or .ogg \\(Vorbis\\) files named like 7_anything" "$duet" train --model audio \
    --extra "$work/pics" --device cpu --data "$shared" --out "$work/x"
  expect_fail eval-bad-split "no speaker 'nobody'" "$duet" eval --model-dir "$work/aud" --data "$shared" --split speaker:nobody

  # Channel counts: a two-block audio:duet is trained, recorded in config.json and rebuilt by eval.
  expect_ok train-audio-channels "$duet" train --model audio --channels 8,16 --speed-range 0.9,1.1 --pink-noise 0.5 --reverb 0.5 --cut-word 0.4 --overdrive 0.2 --clicks 0.5 --lossy 0.4 --vtlp 0.9,1.2 --highpass 80 --split official --epochs 1 --train-limit 300 --device cpu --data "$shared" --out "$work/aud_ch"
  check train-audio-highpass-line grep -q "high-pass: each clip's DC offset and what lies below 80 Hz removed" "$work/out"
  check train-audio-reverb-line grep -q "rooms: 50% of the training clips heard in a random room" "$work/out"
  check train-audio-cut-word-line grep -q "cut words: 40% of the training clips lose up to 30% of the word" "$work/out"
  check train-audio-overdrive-line grep -q "overdrive: 20% of the training clips amplified until their peak lies 0-24 dB above full scale, clipped" "$work/out"
  check train-audio-vtlp-line grep -q "vocal-tract length perturbation: each clip's spectrum warped by a factor from 0.9-1.2" "$work/out"
  check train-audio-clicks-line grep -q "clicks: 50% of the training clips with a click of 1-6 ms up to 0.15 s before or after the word" "$work/out"
  check_json audio-vtlp-config "j['train']['vtlp'] == [0.9, 1.2]" "$work/aud_ch/config.json"
  check_json audio-default-no-vtlp "'vtlp' not in j['train']" "$work/aud/config.json"
  check_json audio-clicks-config "j['train']['clicks'] == 0.5" "$work/aud_ch/config.json"
  check_json audio-default-clicks "j['train']['clicks'] == 0.3" "$work/aud/config.json"
  check train-audio-lossy-line grep -q "lossy coding: 40% of the training clips heard as a low-bitrate coder returns them" "$work/out"
  check_json audio-lossy-config "j['train']['lossy'] == 0.4 and j['train']['lossy_after_noise'] is True" "$work/aud_ch/config.json"
  check_json audio-default-no-lossy "'lossy' not in j['train']" "$work/aud/config.json"
  check_json audio-channels-config "j['channels'] == [8, 16]" "$work/aud_ch/config.json"
  check_json audio-default-channels "j['channels'] == [16, 32, 64, 64]" "$work/aud/config.json"
  check_json audio-speed-range-config "j['train']['speed_range'] == [0.9, 1.1]" "$work/aud_ch/config.json"
  check_json audio-default-speed-range "j['train']['speed_range'] == [0.85, 1.18]" "$work/aud/config.json"
  check_json audio-pink-noise-config "j['train']['pink_noise'] == 0.5" "$work/aud_ch/config.json"
  check_json audio-default-pink-noise "j['train']['pink_noise'] == 0" "$work/aud/config.json"
  check_json audio-reverb-config "j['train']['reverb'] == 0.5" "$work/aud_ch/config.json"
  check_json audio-default-reverb "j['train']['reverb'] == 0.3" "$work/aud/config.json"
  check_json audio-cut-word-config "j['train']['cut_word'] == 0.4" "$work/aud_ch/config.json"
  check_json audio-default-cut-word "j['train']['cut_word'] == 0" "$work/aud/config.json"
  check_json audio-overdrive-config "j['train']['overdrive'] == 0.2" "$work/aud_ch/config.json"
  check_json audio-default-overdrive "j['train']['overdrive'] == 0.3" "$work/aud/config.json"
  check_json audio-highpass-config "j['audio']['highpass_hz'] == 80" "$work/aud_ch/config.json"
  check_json audio-default-highpass "j['audio']['highpass_hz'] == 0" "$work/aud/config.json"
  "$duet" eval --model-dir "$work/aud_ch" --data "$shared" --device cpu --json >"$work/aud_ch_eval.json" 2>"$work/err"
  check_json eval-audio-channels "abs(j['accuracy'] - json.load(open('$work/aud_ch/config.json'))['results']['test_accuracy']) < 1e-6" "$work/aud_ch_eval.json"
  expect_fail fusion-init-channels "--channels differs from the channel counts of the --init-audio model" "$duet" train \
    --model fusion --init-audio "$work/aud_ch" --channels 16,32,32 --epochs 1 --device cpu --data "$shared" --out "$work/x"
  # Fusion started from an audio model hears its recordings through that model's high-pass.
  expect_ok fusion-init-highpass "$duet" train --model fusion --fusion concat --init-audio "$work/aud_ch" --epochs 1 \
    --train-limit 100 --device cpu --data "$shared" --out "$work/fus_hp"
  check_json fusion-init-highpass-config "j['audio']['highpass_hz'] == 80 and j['fusion']['audio_channels'] == [8, 16]" "$work/fus_hp/config.json"

  # duet bench on the CPU: the front-end timing only (the epochs take minutes without a GPU).
  "$duet" bench --device cpu --data "$shared" --only frontend --repeat 1 --json >"$work/bench.json" 2>"$work/err"
  check_json bench-frontend "j['frontend_ms'] > 0 and j['device'] == 'cpu'" "$work/bench.json"
  expect_fail bench-bad-only "--only expects frontend, audio_seed, image_duet or fusion_concat" "$duet" bench --only all
  expect_fail fusion-init-image-kind "--init-image needs an image:duet or image:vgg model, got audio:duet" "$duet" train \
    --model fusion --init-image "$work/aud" --epochs 1 --device cpu --data "$shared" --out "$work/x"
  expect_fail fusion-early-init "do not apply to early fusion" "$duet" train --model fusion --fusion early \
    --init-audio "$work/aud" --epochs 1 --device cpu --data "$shared" --out "$work/x"
fi

if [ -d "$shared/fsdd" ] && runs fusion; then
  # Fusion: one short epoch of attention fusion, then its robustness evaluation.
  expect_ok train-fusion "$duet" train --model fusion --fusion attention --epochs 1 --train-limit 400 --device cpu --data "$shared" --out "$work/fus"
  "$duet" eval --model-dir "$work/fus" --data "$shared" --device cpu --json >"$work/fus_eval.json" 2>"$work/err"
  check_json eval-fusion "'accuracy' in j and len(j['robustness']) == 11 and 'disagreements' in j" "$work/fus_eval.json"
  expect_fail eval-inputs-fusion "--inputs takes an audio or image model" "$duet" eval --model-dir "$work/fus" --inputs "$work/pics"
  for f in robustness.csv robustness.png disagreements.csv; do
    [ -s "$work/fus/$f" ] || { echo "FAIL eval-fusion: no $f"; failures=$((failures + 1)); }
  done
  "$duet" predict --model-dir "$work/fus" --audio "$shared/fsdd/recordings/1_george_3.wav" --image "$work/digit.pgm" --json --device cpu >"$work/fpred.json" 2>"$work/err"
  check_json predict-fusion "abs(j['modality_weights']['audio'] + j['modality_weights']['image'] - 1) < 1e-4 and len(j['audio_probabilities']) == 10" "$work/fpred.json"
  check config-fields-fusion python3 "$(dirname "$0")/check_config_fields.py" "$duet" "$work/fus" "$work/cf_fus" -- \
    --audio "$shared/fsdd/recordings/1_george_3.wav" --image "$work/digit.pgm"
  expect_fail predict-fusion-number "predict: --number reads several digits with an audio or an image model; $work/fus holds a fusion model" "$duet" predict --model-dir "$work/fus" --audio "$work/zeros.wav" --number
  expect_fail show-fusion-model "show: --model-dir $work/fus holds a fusion model; .*digit.pgm is a picture: give an image model" \
    "$duet" show "$work/digit.pgm" --model-dir "$work/fus"
  # Two digits side by side: the note does not offer --number (a fusion model reads one digit).
  python3 -c "open('$work/pair.pgm','wb').write(b'P5\n112 112\n255\n' + bytes(40 if (30 <= x < 38 or 70 <= x < 78) and 16 <= y < 96 else 235 for y in range(112) for x in range(112)))"
  expect_ok predict-fusion-side-by-side "$duet" predict --model-dir "$work/fus" --audio "$shared/fsdd/recordings/1_george_3.wav" --image "$work/pair.pgm" --device cpu
  check predict-fusion-side-by-side-note grep -q "pair.pgm: the picture seems to hold 2 digits side by side; duet reads one digit per picture, and reads these together as one (crop the picture to one digit)$" "$work/err"
  expect_fail predict-fusion-silent "zeros.wav: the recording is silent" "$duet" predict --model-dir "$work/fus" --audio "$work/zeros.wav" --image "$work/digit.pgm"
  expect_fail eval-hard-on-plain "was not trained with --hard" "$duet" eval --model-dir "$work/fus" --data "$shared" --hard
  expect_fail fusion-bad-strategy "unknown fusion strategy 'middle'" "$duet" train --model fusion --fusion middle \
    --epochs 1 --device cpu --data "$shared" --out "$work/x"
fi

finish "training cli ($part)"
