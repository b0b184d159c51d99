#!/usr/bin/env bash
# duet train --stop-after and --resume through the binary, on a tiny data set made here (pure
# tones from three speakers): a training stopped or killed and resumed ends with the model and
# metrics of an unbroken run, a leave-one-speaker-out run goes on with the fold it was training,
# and every wrong use gives one line and exit 1. Usage: run_resume_tests.sh PATH/TO/duet WORKDIR
set -u
. "$(dirname "$0")/lib.sh" "$@"

same_model() { cmp -s "$1/model.safetensors" "$2/model.safetensors"; }
# metrics.csv without the seconds column: what a resumed run must reproduce exactly.
same_metrics() { diff <(cut -d, -f1-5 "$1/metrics.csv") <(cut -d, -f1-5 "$2/metrics.csv") >/dev/null; }
# signal_when_saved SIGNAL FILE PID: waits (up to 90 s) until the training PID has saved FILE,
# sends it SIGNAL and waits for it to end; $rc is then its exit status.
signal_when_saved() {
  for _ in $(seq 900); do
    [ -e "$2" ] && break
    sleep 0.1
  done
  kill "-$1" "$3" 2>/dev/null
  wait "$3" 2>/dev/null
  rc=$?
}

data=$work/data
python3 - "$data" <<'PY'
import math, os, struct, sys, wave
rec = os.path.join(sys.argv[1], "fsdd", "recordings")
os.makedirs(rec)
for d in range(10):
    for s, sp in enumerate(["amy", "ben", "cat"]):
        for k in range(4):
            f = 300 + 150 * d + 9 * s + 4 * k
            x = [int(9000 * math.sin(2 * math.pi * f * i / 8000)) for i in range(3000)]
            with wave.open(os.path.join(rec, f"{d}_{sp}_{k}.wav"), "wb") as w:
                w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
                w.writeframes(struct.pack(f"<{len(x)}h", *x))
PY
# audio:duet with its augmentation and mixup: the random generator, the examples' order, the
# momentum and the schedule all have to carry over. Two narrow conv blocks keep it quick.
run=(train --model audio --data "$data" --epochs 5 --batch 16 --mixup 0.4 --test-speeds 1 --channels 8,8 --device cpu)

expect_ok unbroken "$duet" "${run[@]}" --out "$work/ref"
# A CPU training gives the same model on any number of OpenMP threads (every sum over a batch
# is split the same way whichever threads do the work).
expect_ok one-thread env OMP_NUM_THREADS=1 "$duet" "${run[@]}" --epochs 2 --out "$work/one-thread"
expect_ok three-threads env OMP_NUM_THREADS=3 "$duet" "${run[@]}" --epochs 2 --out "$work/three-threads"
check threads-same-model same_model "$work/one-thread" "$work/three-threads"
check threads-same-metrics same_metrics "$work/one-thread" "$work/three-threads"
# --profile times the training steps op by op and changes nothing else: the same model.
expect_ok profile "$duet" "${run[@]}" --epochs 2 --profile --out "$work/profiled"
check profile-table grep -qE "^per-op time of the training steps \([0-9]+ steps, cpu, [0-9]+ OpenMP threads" "$work/out"
check profile-conv-row grep -qE "^  conv2d +2\.0 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+%" "$work/out"
check profile-same-model same_model "$work/one-thread" "$work/profiled"
python3 - "$work/profiled/profile.csv" >"$work/profile-check" 2>&1 <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
by = {(r["name"], r["kind"]): r for r in rows}
conv, steps = by[("conv2d", "op")], by[("steps", "steps")]
assert int(conv["forward_calls"]) == int(conv["backward_calls"]) == 2 * int(steps["forward_calls"]) > 0, conv
assert ("batch", "stage") in by and ("optimizer", "stage") in by and ("rest", "rest") in by, by.keys()
total = sum(float(r["seconds"]) for r in rows if r["kind"] != "steps")
assert abs(total - float(steps["seconds"])) <= 1e-3 * float(steps["seconds"]) + 1e-5, (total, steps)
assert abs(sum(float(r["share"]) for r in rows if r["kind"] != "steps") - 1) < 1e-3
PY
check profile-csv test $? -eq 0
expect_ok stop-after "$duet" "${run[@]}" --stop-after 2 --out "$work/part"
check stop-after-line grep -q "train: stopped after epoch 2 of 5 as asked; continue with: duet train --resume $work/part" "$work/out"
check stop-after-state test -s "$work/part/resume.safetensors" -a ! -e "$work/part/model.safetensors"
check stop-after-metrics test "$(wc -l <"$work/part/metrics.csv")" -eq 3
check_json stop-after-record "j['finished'] is False and '--out' not in j['args'] and '--stop-after' not in j['args'] and j['args'][:2] == ['--model', 'audio']" "$work/part/run.json"
# The recipe the flags made, defaults included, without the device (--resume may change it) and
# without what is measured from the training data.
check_json stop-after-recipe "j['recipe']['train']['overdrive'] == 0.3 and j['recipe']['train']['mixup'] == 0.4 and j['recipe']['model']['channels'] == [8, 8] and 'device' not in j['recipe']['train'] and 'normalizer' not in j['recipe']['model']" "$work/part/run.json"

# Wrong uses, before the resumption.
mkdir -p "$work/empty"
expect_fail eval-unfinished "$work/part: the training in this folder has not finished \\(no model yet\\); duet train --resume $work/part finishes it" "$duet" eval --model-dir "$work/part"
expect_fail resume-other-flag "--resume goes on with the training .*only --device, --data and --stop-after may be given with it, not --epochs" "$duet" train --resume "$work/part" --epochs 9
expect_fail resume-profile "only --device, --data and --stop-after may be given with it, not --profile" "$duet" train --resume "$work/part" --profile
expect_fail resume-positional "train: unexpected argument 'extra'" "$duet" train --resume "$work/part" extra
expect_fail resume-out-flag "not --out" "$duet" train --resume "$work/part" --out "$work/elsewhere"
expect_fail resume-o-flag "not --out" "$duet" train --resume "$work/part" -o "$work/elsewhere"
expect_fail resume-missing "--resume: folder '$work/nowhere' does not exist" "$duet" train --resume "$work/nowhere"
echo junk >"$work/junk"
expect_fail resume-file "--resume: '$work/junk' is a file, not a folder" "$duet" train --resume "$work/junk"
expect_fail resume-not-a-run "$work/empty/run.json: missing" "$duet" train --resume "$work/empty"
expect_fail resume-stop-range "--stop-after must be in \\[1, 4\\]" "$duet" train --resume "$work/part" --stop-after 5
expect_fail stop-after-one-epoch "--stop-after needs a training of at least 2 epochs" "$duet" train --model audio --data "$data" --epochs 1 --stop-after 1
expect_fail stop-after-loso "--stop-after applies to one training, not to --split loso" "$duet" train --model audio --data "$data" --split loso --stop-after 1
expect_fail stop-after-word "--stop-after expects an integer" "$duet" train --model audio --data "$data" --stop-after soon
mkdir -p "$work/broken" "$work/other"
cp "$work/part/run.json" "$work/broken/" && printf 'garbage' >"$work/broken/resume.safetensors"
expect_fail resume-corrupt-state "$work/broken/resume.safetensors: " "$duet" train --resume "$work/broken"
echo '{"format": "duet-run-1", "args": ' >"$work/broken/run.json"
expect_fail resume-corrupt-record "$work/broken/run.json: " "$duet" train --resume "$work/broken"
# A state saved by another training (batch 8, not 16) is refused, naming the file (the record
# without its recipe, which would be refused first: resume-other-recipe, below).
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); j['args']+=['--batch','8']; del j['recipe']; json.dump(j,open(sys.argv[2],'w'))" \
  "$work/part/run.json" "$work/other/run.json" && cp "$work/part/resume.safetensors" "$work/other/"
expect_fail resume-other-training "$work/other/resume.safetensors: the saved state took .* steps in 2 epochs" "$duet" train --resume "$work/other"

# A training started by a duet of other defaults (here: before audio:duet clipped 30% of its
# training clips) is not resumed with today's, which would mix two recipes in one model; a
# record without a recipe (a folder written before run.json held one) is resumed unchecked.
mkdir -p "$work/olddefaults" "$work/norecipe"
for d in olddefaults norecipe; do cp "$work/part/resume.safetensors" "$work/$d/"; done
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); j['recipe']['train']['overdrive']=0.0; json.dump(j,open(sys.argv[2],'w'))" \
  "$work/part/run.json" "$work/olddefaults/run.json"
expect_fail resume-other-recipe "$work/olddefaults/run.json: this training started with another recipe than the same flags make with this duet \\(train.overdrive: 0.0 then, 0.3 now: .*train it again without --resume" "$duet" train --resume "$work/olddefaults"
check resume-other-recipe-kept test -s "$work/olddefaults/resume.safetensors"
# Likewise a training started before audio:duet put clicks in 30% of its clips (no clicks in its recipe).
mkdir -p "$work/noclicks" && cp "$work/part/resume.safetensors" "$work/noclicks/"
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); del j['recipe']['train']['clicks']; json.dump(j,open(sys.argv[2],'w'))" \
  "$work/part/run.json" "$work/noclicks/run.json"
expect_fail resume-before-clicks "$work/noclicks/run.json: this training started with another recipe than the same flags make with this duet \\(train.clicks: absent then, 0.3 now: " "$duet" train --resume "$work/noclicks"
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); del j['recipe']; json.dump(j,open(sys.argv[2],'w'))" \
  "$work/part/run.json" "$work/norecipe/run.json"
expect_ok resume-no-recipe "$duet" train --resume "$work/norecipe"
check resume-no-recipe-same-model same_model "$work/norecipe" "$work/ref"
check_json resume-no-recipe-recorded "j['recipe']['train']['overdrive'] == 0.3 and j['finished'] is True" "$work/norecipe/run.json"

expect_ok resume "$duet" train --resume "$work/part"
check resume-line grep -q "resuming after epoch 2 of 5 ($work/part/resume.safetensors)" "$work/out"
check resume-same-model same_model "$work/part" "$work/ref"
check resume-same-metrics same_metrics "$work/part" "$work/ref"
check resume-state-removed test ! -e "$work/part/resume.safetensors"
check_json resume-record-finished "j['finished'] is True" "$work/part/run.json"
expect_fail resume-finished "$work/part: this training finished .*there is nothing to resume" "$duet" train --resume "$work/part"

# Killed in the middle of an epoch (SIGKILL: nothing can be tidied up) and resumed.
"$duet" "${run[@]}" --out "$work/killed" >"$work/killed.log" 2>&1 &
signal_when_saved KILL "$work/killed/resume.safetensors" $!
check killed-before-the-end test ! -e "$work/killed/model.safetensors"
expect_ok resume-killed "$duet" train --resume "$work/killed"
check resume-killed-same-model same_model "$work/killed" "$work/ref"
check resume-killed-same-metrics same_metrics "$work/killed" "$work/ref"

# Terminated (SIGTERM, as timeout and job schedulers do): one line says how to go on, and duet
# ends by the signal.
"$duet" "${run[@]}" --out "$work/term" >"$work/term.log" 2>"$work/term.err" &
signal_when_saved TERM "$work/term/resume.safetensors" $!
check term-status test "$rc" -eq 143
check term-line grep -qE "^duet: interrupted; duet train --resume $work/term goes on after epoch [1-4] of 5$" "$work/term.err"
expect_ok resume-term "$duet" train --resume "$work/term"
check resume-term-same-model same_model "$work/term" "$work/ref"

# Weight averaging (--average-last): stopped after epoch 3 of 4, when the average holds one
# epoch's weights, the state carries it, and the resumed run ends with the unbroken run's model.
avg=(train --model audio --data "$data" --epochs 4 --batch 16 --average-last 2 --test-speeds 1 --channels 8,8 --device cpu)
expect_ok avg-unbroken "$duet" "${avg[@]}" --out "$work/avg_ref"
check avg-line grep -q "weights averaged over the last 2 epochs (batch-norm statistics recomputed)" "$work/out"
check_json avg-config "j['train']['average_last'] == 2" "$work/avg_ref/config.json"
expect_ok avg-stop "$duet" "${avg[@]}" --stop-after 3 --out "$work/avg"
"$duet" checkpoint "$work/avg/resume.safetensors" --json >"$work/avg_state.json" 2>"$work/err"
check_json avg-state-holds-average "'trainer.weight_average' in j and json.loads(j['__metadata__']['duet_resume'])['averaged'] == 1" "$work/avg_state.json"
expect_ok avg-resume "$duet" train --resume "$work/avg"
check avg-resume-same-model same_model "$work/avg" "$work/avg_ref"
check avg-resume-same-metrics same_metrics "$work/avg" "$work/avg_ref"
expect_fail avg-one "--average-last must be 0 \\(off\\) or 2 to --epochs \\(4\\), got 1" "$duet" train --model audio --data "$data" --epochs 4 --average-last 1
expect_fail avg-too-many "--average-last must be 0 \\(off\\) or 2 to --epochs \\(4\\), got 5" "$duet" train --model audio --data "$data" --epochs 4 --average-last 5

# A new training over a folder holding an unfinished one says so and starts afresh.
expect_ok stop-again "$duet" "${run[@]}" --stop-after 1 --out "$work/over"
expect_ok start-over "$duet" "${run[@]}" --out "$work/over"
check start-over-line grep -q "$work/over held an unfinished training (1 epoch done); starting a new one over it" "$work/out"
check start-over-same-model same_model "$work/over" "$work/ref"
# ... and one holding an unreadable state file replaces it (a new training needs none of it).
mkdir -p "$work/garbage" && printf 'garbage' >"$work/garbage/resume.safetensors"
expect_ok start-over-garbage "$duet" "${run[@]}" --stop-after 1 --out "$work/garbage"
check start-over-garbage-line grep -q "$work/garbage/resume.safetensors could not be read; starting a new training over it" "$work/out"
check start-over-garbage-epoch diff <(cut -d, -f1-5 "$work/garbage/metrics.csv") <(head -2 "$work/ref/metrics.csv" | cut -d, -f1-5)
check start-over-garbage-saved test "$(wc -c <"$work/garbage/resume.safetensors")" -gt 1000

# Leave-one-speaker-out: killed while the second fold (ben) trains; resuming reads amy's
# finished fold back, goes on with ben's and trains cat's.
loso=(train --model audio --data "$data" --split loso --epochs 3 --batch 16 --no-augment --test-speeds 1 --channels 8,8 --device cpu)
expect_ok loso-unbroken "$duet" "${loso[@]}" --out "$work/loso_ref"
"$duet" "${loso[@]}" --out "$work/loso" >"$work/loso.log" 2>&1 &
signal_when_saved KILL "$work/loso/loso-ben/resume.safetensors" $!
check loso-killed-in-ben test -e "$work/loso/loso-amy/model.safetensors" -a ! -e "$work/loso/loso-cat/run.json"
check_json loso-fold-record "j['args'][-2:] == ['--split', 'speaker:ben'] and not j['finished']" "$work/loso/loso-ben/run.json"
expect_ok loso-resume "$duet" train --resume "$work/loso"
check loso-amy-read-back grep -q "fold amy: finished before: test accuracy" "$work/out"
check loso-ben-resumed grep -q "resuming after epoch [12] of 3 ($work/loso/loso-ben/resume.safetensors)" "$work/out"
for sp in amy ben cat; do
  check "loso-$sp-same-model" same_model "$work/loso/loso-$sp" "$work/loso_ref/loso-$sp"
done
check loso-same-table diff "$work/loso/loso.csv" "$work/loso_ref/loso.csv"
check_json loso-record-finished "j['finished'] is True" "$work/loso/run.json"

finish "resume"
