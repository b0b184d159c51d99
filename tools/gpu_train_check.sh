#!/usr/bin/env bash
# The accuracy floors of the training and fusion work, measured on a GPU machine:
#   tools/gpu_train_check.sh [OUT_DIR] [STAGE ...]
# Stages (default: all, in this order; each writes OUT/<stage>/ and a line in OUT/results.txt):
#   seed      audio:seed, random 75/25, the course recipe (30 epochs)         floor 96.5%
#   audio     audio:duet, random and official splits (40 epochs)               floor 99.5%
#   image     image:vgg, the default image model (20 epochs)                   floor 99.5%
#             (TRAIN_ARGS="--arch image:duet" trains the other one into OUT/image-xarch-image-duet)
#   image-noise  image:duet with --augment-noise 0.1 (not in the default list): clean,
#             degraded and printed-digit accuracy against the image stage's
#   loso      audio:duet, the 6 leave-one-speaker-out folds                    floor: mean 85%
#   fusion    the four fusion strategies from the trained encoders + robustness floor 99.9% clean
#   hard      attention fusion on the --hard benchmark                         floor: best single + 10
#   torch-seed  the course recipe in PyTorch (bench/pytorch_course_accuracy.py) on duet's random
#             splits for --seed 0, 1, 2, five PyTorch seeds each: the spread audio:seed is judged by
# Audio and image models are evaluated with --robustness too; results.txt lists the noise rows,
# and the image model's accuracy on the digits of every installed font (duet fonts). Audio
# models heard at several test-time speeds (audio:duet) are also read from the clip alone
# (duet eval --test-speeds 1), a line of its own; the loso stage does so for every fold. Image
# models read with test-time shifts are likewise read from the picture alone (--test-shift 0).
# Single runs, for running stages side by side (one process each):
#   seed:N          audio:seed with --seed N (split and initialisation)
#   audio:SPLIT     audio:duet on one split (random or official)
#   fold:SPEAKER    audio:duet with SPEAKER held out (one LOSO fold)
#   fold-noband:SPEAKER   the same without per-band mean removal (ablation)
#   fold-notrim:SPEAKER   the same without silence trimming (ablation)
#   fusion:STRATEGY one fusion strategy (from the trained encoders when they exist)
#   audio:SPLIT@C1,C2,..., fold:SPEAKER@C1,C2,...   the same with audio:duet --channels C1,C2,...
#             (e.g. fold:george@32,64,64), into OUT/<name>-c32-64-64
# TRAIN_ARGS: extra flags for every `duet train` of the audio:, fold: and image stages (e.g.
#   TRAIN_ARGS="--epochs 80" tools/gpu_train_check.sh OUT audio:random fold:george); such runs
#   write OUT/<name>-x<flags> so they sit beside the default ones. Audio-only flags such as
#   TRAIN_ARGS="--n-fft 512" go with audio stages only (audio:random fold:george ...).
# IMAGE_INPUTS: folders of labelled pictures (duet eval --inputs) every image model is also read
#   on, each a line in results.txt, e.g. IMAGE_INPUTS="data/optdigits data/fonts-unseen" after
#   python3 tools/optdigits.py data/optdigits and duet fonts --font-dir DIR --out data/fonts-unseen
#   (the GPU machine cannot download; make them beforehand and carry them). A machine without
#   fonts notes "not measured" for the installed fonts' digits: duet fonts --out data/fonts made
#   where fonts are, with IMAGE_INPUTS=data/fonts, reads them instead.
# AUDIO_INPUTS: the same for every audio model (audio, audio:, fold:, seed stages), e.g.
#   AUDIO_INPUTS=data/voices after python3 tools/voices.py data/voices (synthetic accents and
#   women's voices; espeak-ng and flite are not on the GPU machine, so make them here and carry them).
# An OUT given again continues: a training folder whose run was cut short (the lease or the
# command's time limit ended it; carry OUT to the next machine) goes on from its last finished
# epoch (duet train --resume), a finished one is kept and evaluated again, e.g.
#   timeout 540 tools/gpu_train_check.sh OUT loso; tools/gpu_train_check.sh OUT loso
# Data: $DUET_DATA, else ./data, else ../shared/data. Build: BUILD_DIR (default build-gpu).
set -u
cd "$(dirname "$0")/.."
out=${1:-${OUT:-gpu_train_out}}
shift || true
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(seed audio image loso fusion hard)
mkdir -p "$out"
build=${BUILD_DIR:-build-gpu}
data=${DUET_DATA:-}
for d in "$data" data ../shared/data; do
  if [ -n "$d" ] && [ -d "$d/fsdd" ]; then data=$(cd "$d" && pwd); break; fi
done
duet="$build/duet"
[ -x "$duet" ] || { echo "gpu_train_check: $duet not built (run tools/gpu_check.sh or tools/build.sh first)" >&2; exit 1; }
export DUET_DATA=$data
# acc FILE.json: the accuracy, and for audio and image models the --robustness rows after it.
acc() {
  python3 - "$1" <<'PY' 2>/dev/null || echo "?"
import json, sys
j = json.load(open(sys.argv[1]))
rows = {k: v for k, v in j.get('robustness', {}).items() if k != 'clean' and isinstance(v, float)}
extra = ', '.join('%s %.2f%%' % (k, 100 * v) for k, v in rows.items())
print('%.2f%%' % (100 * j['accuracy']) + (' (%s)' % extra if extra else ''))
PY
}
# count FILE.json: how many files duet eval --inputs read.
count() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['count'])" "$1" 2>/dev/null || echo "?"; }
note() { echo "$*" | tee -a "$out/results.txt"; }
# train_into DIR LOG TRAIN_ARGS...: duet train TRAIN_ARGS --out DIR, output to LOG; when DIR holds
# an unfinished training (DIR/run.json), duet train --resume DIR instead (LOG appended to); when
# it holds a finished one, nothing.
train_into() {
  local dir=$1 log=$2 state
  shift 2
  state=$(python3 -c "import json, sys; print('finished' if json.load(open(sys.argv[1]))['finished'] else 'unfinished')" \
    "$dir/run.json" 2>/dev/null)
  case $state in
    finished) echo "gpu_train_check: $dir finished before; kept" >>"$log" ;;
    unfinished) $duet train --resume "$dir" >>"$log" 2>&1 ;;
    *) $duet train "$@" --out "$dir" >"$log" 2>&1 ;;
  esac
}
# run NAME LABEL TRAIN_ARGS...: trains into OUT/NAME, evaluates, notes "LABEL: accuracy".
run() {
  local name=$1 label=$2
  shift 2
  train_into "$out/$name" "$out/$name.log" "$@"
  $duet eval --model-dir "$out/$name" --json --robustness >"$out/$name.json" 2>>"$out/$name.log"
  note "$label: $(acc "$out/$name.json")"
  alone "$out/$name" "$label"
  if [[ " $* " == *" --model audio "* ]]; then read_inputs "$name" "$label" ${AUDIO_INPUTS:-}; fi
}
# alone DIR LABEL: for a model read with test-time views (an audio model heard at several
# speeds, an image model with test-time shifts), its accuracy from the clip or picture alone.
alone() {
  local views
  views=$(python3 -c "
import json, sys
c = json.load(open(sys.argv[1]))
if len(c.get('audio', {}).get('test_speeds', [])) > 1: print('audio')
elif c.get('model') == 'image' and c.get('image', {}).get('test_shift', 0) > 0: print('image')" "$1/config.json" 2>/dev/null)
  case $views in
    audio)
      $duet eval --model-dir "$1" --json --robustness --test-speeds 1 --out "$1/alone" >"$1.alone.json" 2>>"$1.log"
      note "$2, the clip alone (--test-speeds 1): $(acc "$1.alone.json")" ;;
    image)
      $duet eval --model-dir "$1" --json --robustness --test-shift 0 --out "$1/alone" >"$1.alone.json" 2>>"$1.log"
      note "$2, the picture alone (--test-shift 0): $(acc "$1.alone.json")" ;;
  esac
}
# image_run NAME LABEL TRAIN_ARGS...: run for an image model, then its accuracy on the printed
# digits of every installed font (duet fonts), never seen in training.
image_run() {
  local name=$1 label=$2
  shift 2
  run "$name" "$label" --model image "$@"
  local pics="$out/$name/font-digits"  # per run, so image stages can run side by side
  local why
  if why=$($duet fonts --out "$pics" 2>&1 >/dev/null); then
    $duet eval --model-dir "$out/$name" --inputs "$pics" --json --out "$out/$name/fonts" >"$out/$name.fonts.json" \
      2>>"$out/$name.log"
    note "$label on printed digits ($(ls "$pics" | wc -l) pictures): $(acc "$out/$name.fonts.json")"
  else  # e.g. a machine without fonts: make pictures elsewhere and pass them with IMAGE_INPUTS
    note "$label on printed digits: not measured ($(printf '%s' "$why" | tail -1))"
  fi
  read_inputs "$name" "$label" ${IMAGE_INPUTS:-}
}
# read_inputs NAME LABEL DIR...: the model in OUT/NAME on each folder of labelled files, a line
# each; for clips of tools/voices.py (a voices.csv beside them) also its accuracy by sex.
read_inputs() {
  local name=$1 label=$2 dir tag
  shift 2
  for dir in "$@"; do
    tag=$(basename "$dir")
    if $duet eval --model-dir "$out/$name" --inputs "$dir" --json --out "$out/$name/inputs-$tag" \
      >"$out/$name.$tag.json" 2>>"$out/$name.log"; then
      note "$label on $dir ($(count "$out/$name.$tag.json") files): $(acc "$out/$name.$tag.json")"
      if [ -f "$dir/voices.csv" ]; then
        note "  $(python3 tools/voices.py --report "$out/$name/inputs-$tag/inputs.csv" --clips "$dir" | grep '^sex:')"
      fi
    else
      note "$label on $dir: eval --inputs failed (see $name.log)"
    fi
  done
}
# fusion STRATEGY: from the trained encoders when they exist, plus the robustness table.
fusion() {
  local f=$1 init=()
  [ -f "$out/audio-random/model.safetensors" ] && [ "$f" != early ] && init+=(--init-audio "$out/audio-random")
  [ -f "$out/image/model.safetensors" ] && [ "$f" != early ] && init+=(--init-image "$out/image")
  run "fusion-$f" "fusion:$f clean (init: ${init[*]:-none}; table: fusion-$f.eval.txt)" \
    --model fusion --fusion "$f" --split random "${init[@]}"
  $duet eval --model-dir "$out/fusion-$f" >"$out/fusion-$f.eval.txt" 2>&1
}
extra=() xsfx=""
if [ -n "${TRAIN_ARGS:-}" ]; then
  read -ra extra <<<"$TRAIN_ARGS"
  xsfx="-x$(printf '%s' "$TRAIN_ARGS" | tr -cs 'A-Za-z0-9' '-' | sed 's/^-*//; s/-*$//')"
fi
xl=${TRAIN_ARGS:+ $TRAIN_ARGS}  # for the result labels
image_label="image:vgg$xl"  # the default image model's; TRAIN_ARGS naming another: "image --arch ..."
[[ " ${TRAIN_ARGS:-} " == *" --arch "* ]] && image_label="image$xl"
for stage in "${stages[@]}"; do
  ch=() sfx=""
  if [[ $stage == *@* ]]; then
    case $stage in audio:* | fold:*) ;; *) echo "gpu_train_check: @channels applies to audio: and fold: stages, not '$stage'" >&2; exit 1 ;; esac
    ch=(--channels "${stage#*@}") sfx="-c${stage#*@}" sfx=${sfx//,/-} stage=${stage%@*}
  fi
  case $stage in
    seed) run seed "audio:seed random 75/25 (course recipe)" --model audio --arch audio:seed --split random ;;
    audio) for split in random official; do run "audio-$split$xsfx" "audio:duet $split$xl" --model audio --split $split "${extra[@]}"; done ;;
    image) image_run "image$xsfx" "$image_label" "${extra[@]}" ;;
    image-noise) image_run "image-noise$xsfx" "image:duet --augment-noise 0.1$xl" --arch image:duet --augment-noise 0.1 \
      "${extra[@]}" ;;
    loso)
      train_into "$out/loso" "$out/loso.log" --model audio --split loso
      note "audio:duet leave-one-speaker-out: $(tr '\n' ' ' <"$out/loso/loso.csv")"
      for f in "$out"/loso/loso-*/; do alone "${f%/}" "audio:duet $(basename "$f") held out"; done ;;
    fusion) for f in attention concat early late; do fusion $f; done ;;
    hard)
      train_into "$out/hard" "$out/hard.log" --model fusion --fusion attention --hard
      $duet eval --model-dir "$out/hard" --hard >"$out/hard.eval.txt" 2>&1
      note "hard benchmark (attention): $(sed -n 3p "$out/hard.eval.txt")" ;;
    audio:*) run "audio-${stage#audio:}$sfx$xsfx" "audio:duet ${stage#audio:}${ch[*]:+ ${ch[*]}}$xl" --model audio \
      --split "${stage#audio:}" "${ch[@]}" "${extra[@]}" ;;
    seed:*)
      n=${stage#seed:}
      run "seed-$n" "audio:seed random 75/25 --seed $n" --model audio --arch audio:seed --split random --seed "$n" ;;
    fold:*) run "fold-${stage#fold:}$sfx$xsfx" "audio:duet ${stage#fold:} held out${ch[*]:+ ${ch[*]}}$xl" --model audio \
      --split "speaker:${stage#fold:}" "${ch[@]}" "${extra[@]}" ;;
    fold-noband:* | fold-notrim:*)
      sp=${stage#*:} what=${stage%%:*}
      flag=--no-band-norm
      [ "$what" = fold-notrim ] && flag=--no-trim
      run "$what-$sp" "audio:duet $sp held out, $flag" --model audio --split "speaker:$sp" "$flag" ;;
    fusion:*) fusion "${stage#fusion:}" ;;
    torch-seed)
      mkdir -p "$out/torch-seed"
      for n in 0 1 2; do
        $duet split --split random --seed "$n" -o "$out/torch-seed/split-$n" >/dev/null
        for t in 0 1 2 3 4; do
          r="$out/torch-seed/split-$n-torch-$t"
          python3 bench/pytorch_course_accuracy.py --split-dir "$out/torch-seed/split-$n" --seed "$t" --json >"$r.log" 2>&1
          tail -1 "$r.log" >"$r.json"
          note "PyTorch course recipe, duet's random split --seed $n, torch seed $t: $(acc "$r.json")"
        done
      done ;;
    *) echo "gpu_train_check: unknown stage '$stage'" >&2; exit 1 ;;
  esac
done
cat "$out/results.txt"
