#!/usr/bin/env python3
"""Voices and accents duet has never heard: the ten digit words spoken by speech synthesisers
(espeak-ng's English accents, each in men's and women's voices, and flite's voices), as WAV
files named for

    duet eval --model-dir AUDIO_MODEL --inputs OUT

    voices.py OUT [--engines espeak-ng,flite] [--variants m1,f1,...]
    voices.py --report EVAL_DIR/inputs.csv [--clips OUT]

FSDD's six speakers are all men; these clips are eight English accents (American, New York,
British, received pronunciation, Scottish, Lancashire, West Midlands, Caribbean) and women's
voices, whose pitch and formants lie higher than the training speakers'.
Synthetic speech is not a person's, so this measures how far a model's reading reaches, not
its accuracy on people. Each clip is OUT/D_GROUP_VARIANT.wav: D the digit, GROUP the accent
(espeak-ng) or the voice (flite), which `duet eval --inputs` reports accuracy by. OUT/voices.csv
lists every clip's engine, voice, accent, variant and sex. `--variants` names the espeak-ng voice
variants to speak (default all twelve, m1-m7 and f1-f5), so that one set can train a model
(`duet train --extra OUT`) and another, of other variants, test it. `--report` reads the inputs.csv that
`duet eval --inputs OUT --out EVAL_DIR` wrote and prints accuracy by digit, sex, accent and variant.
The synthesisers are Debian's espeak-ng and flite (tools/setup.sh installs them); the clips
are written at the synthesiser's own rate (duet resamples). Standard library only.
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import wave

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
# espeak-ng: group name -> voice (espeak-ng --voices=en), each spoken with these variants.
ESPEAK_ACCENTS = {
    "us": "en-us", "nyc": "en-us-nyc", "gb": "en-gb", "rp": "en-gb-x-rp",
    "scotland": "en-gb-scotland", "lancashire": "en-gb-x-gbclan",
    "westmidlands": "en-gb-x-gbcwmd", "caribbean": "en-029",
}
ESPEAK_VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5"]
# flite: voice -> (accent, sex); each spoken at three durations (slower, as is, faster).
FLITE_VOICES = {"kal": ("us", "m"), "kal16": ("us", "m"), "awb": ("scotland", "m"),
                "rms": ("us", "m"), "slt": ("us", "f")}
FLITE_STRETCH = ["0.85", "1", "1.2"]
ENGINES = ["espeak-ng", "flite"]


def fail(msg):
    print(f"voices.py: {msg}", file=sys.stderr)
    sys.exit(1)


def listing(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"`{' '.join(cmd)}` failed: {(r.stderr.strip().splitlines() or ['no output'])[-1]}")
    return r.stdout + r.stderr


def parse_variants(text):
    """--variants "m1,f2" -> ["m1", "f2"], each one of ESPEAK_VARIANTS, in the order given."""
    names = [v.strip() for v in text.split(",") if v.strip()]
    if not names:
        fail(f"--variants: name at least one of {', '.join(ESPEAK_VARIANTS)}")
    for v in names:
        if v not in ESPEAK_VARIANTS:
            fail(f"--variants: unknown espeak-ng variant '{v}' (expected some of {', '.join(ESPEAK_VARIANTS)})")
    if len(set(names)) != len(names):
        fail(f"--variants: a variant is named twice in '{text}'")
    return names


def check_voices(engine):
    """Unknown voices make both synthesisers fall back to a default one without an error,
    so every voice is looked up first."""
    if engine == "espeak-ng":
        langs = listing(["espeak-ng", "--voices=en"]).split()
        variants = listing(["espeak-ng", "--voices=variant"]).split()
        for voice in ESPEAK_ACCENTS.values():
            if voice not in langs:
                fail(f"espeak-ng has no voice {voice} (espeak-ng --voices=en lists those it has)")
        for v in ESPEAK_VARIANTS:
            if f"!v/{v}" not in variants:
                fail(f"espeak-ng has no variant {v} (espeak-ng --voices=variant lists those it has)")
    else:
        have = listing(["flite", "-lv"]).replace("Voices available:", "").split()
        for voice in FLITE_VOICES:
            if voice not in have:
                fail(f"flite has no voice {voice} (flite -lv lists those it has)")


def plan(engines, variants=ESPEAK_VARIANTS):
    """(file name, command, manifest row) for every clip."""
    clips = []
    for d, word in enumerate(WORDS):
        if "espeak-ng" in engines:
            for group, voice in ESPEAK_ACCENTS.items():
                for v in variants:
                    name = f"{d}_{group}_{v}.wav"
                    clips.append((name, ["espeak-ng", "-v", f"{voice}+{v}", "-w", None, word],
                                  [name, d, "espeak-ng", f"{voice}+{v}", group, v, v[0]]))
        if "flite" in engines:
            for voice, (accent, sex) in FLITE_VOICES.items():
                for s in FLITE_STRETCH:
                    name = f"{d}_{voice}_s{s}.wav"
                    clips.append((name, ["flite", "-voice", voice, "--setf", f"duration_stretch={s}",
                                         "-t", word, "-o", None],
                                  [name, d, "flite", voice, accent, f"s{s}", sex]))
    return clips


def previous_clips(out):
    """The clips an earlier run wrote to OUT (listed in its voices.csv), to be replaced; any
    other WAV file there is the user's, and OUT is then refused rather than mixed into."""
    if not os.path.isdir(out):
        return []
    listed = set()
    manifest = os.path.join(out, "voices.csv")
    if os.path.isfile(manifest):
        with open(manifest, newline="") as f:
            listed = {r.get("file", "") for r in csv.DictReader(f)}
    foreign = sorted(n for n in os.listdir(out) if n.lower().endswith(".wav") and n not in listed)
    if foreign:
        fail(f"{out} holds WAV files voices.py did not write ({foreign[0]}"
             f"{f' and {len(foreign) - 1} more' if len(foreign) > 1 else ''}); give an empty or new folder")
    return sorted(listed)


def synthesise(out, engines, variants):
    clips = plan(engines, variants)
    old = previous_clips(out)
    # Written to a scratch folder beside OUT first, so a synthesiser failing halfway leaves
    # OUT as it was.
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=".voices-", dir=parent)
    try:
        rows = []
        for name, cmd, row in clips:
            path = os.path.join(scratch, name)
            cmd = [path if c is None else c for c in cmd]
            r = subprocess.run(cmd, capture_output=True, text=True)
            try:
                with wave.open(path, "rb") as w:
                    frames, rate = w.getnframes(), w.getframerate()
            except (OSError, EOFError, wave.Error) as e:
                frames, rate = 0, 0
                why = str(e)
            else:
                why = "no samples"
            if r.returncode != 0 or frames == 0:
                detail = (r.stderr.strip().splitlines() or [why])[-1]
                fail(f"`{' '.join(cmd)}` did not write a WAV file with samples (exit {r.returncode}: {detail})")
            rows.append(row + [rate, f"{frames / rate:.3f}"])
        with open(os.path.join(scratch, "voices.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["file", "digit", "engine", "voice", "accent", "variant", "sex", "sample_rate", "seconds"])
            w.writerows(rows)
        os.makedirs(out, exist_ok=True)
        for name in old:
            if os.path.exists(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
        for name in os.listdir(scratch):
            os.replace(os.path.join(scratch, name), os.path.join(out, name))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    counts = ", ".join(f"{e}: {sum(r[2] == e for r in rows)}" for e in engines)
    print(f"wrote {len(rows)} clips ({counts}) and voices.csv to {out} "
          f"(duet eval --model-dir AUDIO_MODEL --inputs {out})")


def report(inputs_csv, clips=None):
    if not os.path.isfile(inputs_csv):
        fail(f"--report {inputs_csv}: no such file")
    with open(inputs_csv, newline="") as f:
        results = list(csv.DictReader(f))
    if not results or not {"file", "label", "prediction"} <= set(results[0]):
        fail(f"--report {inputs_csv}: not an inputs.csv of duet eval --inputs "
             "(expected the columns file, label, prediction and at least one row)")
    # The file column holds the paths duet eval was given, relative to where it ran.
    folder = clips if clips is not None else os.path.dirname(results[0]["file"])
    manifest = os.path.join(folder, "voices.csv")
    if not os.path.isfile(manifest):
        fail(f"--report {inputs_csv}: the clips' folder {folder or '.'} has no voices.csv "
             "(not written by voices.py, or give the folder with --clips DIR)")
    with open(manifest, newline="") as f:
        about = {r["file"]: r for r in csv.DictReader(f)}
    tally = {}
    for r in results:
        info = about.get(os.path.basename(r["file"]))
        if info is None:
            fail(f"--report {inputs_csv}: {r['file']} is not listed in {manifest}")
        ok = r["label"] == r["prediction"]
        sex = {"m": "men's voices", "f": "women's voices"}.get(info.get("sex"), "unknown")
        engine, variant = info.get("engine") or "?", info.get("variant") or "?"
        for key in (("all", "all"), ("digit", r["label"]), ("sex", sex), ("engine", engine),
                    ("accent", info.get("accent") or "?"), ("variant", engine + " " + variant)):
            c = tally.setdefault(key, [0, 0])
            c[0] += ok
            c[1] += 1
    c = tally[("all", "all")]
    print(f"all: {100 * c[0] / c[1]:.2f}% ({c[1]} clips)")
    for kind in ("digit", "sex", "engine", "accent", "variant"):
        cells = [f"{name}: {100 * c[0] / c[1]:.2f}% ({c[1]})" for (k, name), c in sorted(tally.items()) if k == kind]
        print(f"{kind}: " + "  ".join(cells))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", help="folder for the clips")
    ap.add_argument("--engines", default=None,
                    help="comma-separated: espeak-ng, flite (default: every one installed)")
    ap.add_argument("--variants", default=None,
                    help="comma-separated espeak-ng variants to speak (default all: "
                         + ",".join(ESPEAK_VARIANTS) + "); flite's voices are not affected")
    ap.add_argument("--report", metavar="INPUTS_CSV", help="accuracy by digit, sex, accent and variant")
    ap.add_argument("--clips", metavar="DIR", help="with --report: the clips' folder (default: as inputs.csv names it)")
    args = ap.parse_args()
    if args.report:
        if args.out or args.engines or args.variants:
            fail("--report takes only the inputs.csv (no OUT, no --engines, no --variants)")
        return report(args.report, args.clips)
    if args.clips:
        fail("--clips goes with --report")
    if not args.out:
        fail("name the folder to write the clips to (voices.py OUT), or --report INPUTS_CSV")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        fail(f"{args.out} exists and is not a folder")
    if args.engines is None:
        engines = [e for e in ENGINES if shutil.which(e)]
        if not engines:
            fail("neither espeak-ng nor flite is installed (apt-get install espeak-ng flite, "
                 "or bash tools/setup.sh)")
    else:
        engines = [e.strip() for e in args.engines.split(",") if e.strip()]
        for e in engines:
            if e not in ENGINES:
                fail(f"--engines: unknown engine '{e}' (expected espeak-ng and/or flite)")
            if not shutil.which(e):
                fail(f"--engines: {e} is not installed (apt-get install {e})")
        if not engines:
            fail("--engines: name at least one of espeak-ng, flite")
    variants = ESPEAK_VARIANTS if args.variants is None else parse_variants(args.variants)
    if args.variants is not None and "espeak-ng" not in engines:
        fail("--variants chooses espeak-ng's voice variants; add espeak-ng to --engines")
    for e in engines:
        check_voices(e)
    synthesise(args.out, engines, variants)


if __name__ == "__main__":
    main()
