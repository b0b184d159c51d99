#!/usr/bin/env python3
"""Recordings as plain equipment makes them: FSDD clips written again on a DC offset (a sound
card's) and with mains hum added, as folders for

    duet eval --model-dir AUDIO_MODEL --inputs OUT/NAME

    mic.py --clips DIR --out OUT [--all] [--dc LIST] [--hum HZ] [--hum-level X]

By default the official split's test clips (index 0-4 of each speaker and digit, 300 of
FSDD's 3000; --all: every clip) are written to
    OUT/clean    as they are
    OUT/dcN      on a DC offset of N% of full scale, one folder per entry of --dc (default 2,10)
    OUT/humF     with a sine hum of F Hz (--hum, default 50; 0: none) at --hum-level times the
                 clip's own peak (default 0.5)
keeping their names (7_theo_3.wav), so eval --inputs reads the digit and the speaker from them.
Samples beyond full scale are clipped, as a sound card clips them. The clips must be 16-bit PCM
WAV (FSDD's format); anything else is an error naming the file. docs/dsp.md has what duet
makes of them. Standard library only.
"""
import argparse
import array
import math
import os
import sys
import wave


def fail(message):
    print(f"mic.py: error: {message}", file=sys.stderr)
    sys.exit(1)


def number_list(text, flag, lo, hi):
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        fail(f"{flag} expects comma-separated numbers, got '{text}'")
    if not values or any(not lo <= v <= hi for v in values):
        fail(f"{flag} expects numbers in [{lo:g}, {hi:g}], got '{text}'")
    return values


def read_clip(path):
    try:
        with wave.open(path, "rb") as w:
            if w.getsampwidth() != 2 or w.getnchannels() != 1:
                fail(f"{path}: {8 * w.getsampwidth()}-bit, {w.getnchannels()} channel(s); expected 16-bit mono PCM")
            samples = array.array("h", w.readframes(w.getnframes()))
            rate = w.getframerate()
    except (wave.Error, EOFError) as e:
        fail(f"{path}: not a readable WAV file ({e})")
    if sys.byteorder == "big":
        samples.byteswap()
    return samples, rate


def write_clip(path, samples, rate):
    out = array.array("h", (max(-32768, min(32767, int(round(v)))) for v in samples))
    if sys.byteorder == "big":
        out.byteswap()
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(out.tobytes())


def main():
    p = argparse.ArgumentParser(description="FSDD clips on a DC offset and with mains hum, for duet eval --inputs")
    p.add_argument("--clips", required=True, help="folder of WAV clips named like FSDD's (7_theo_3.wav)")
    p.add_argument("--out", required=True, help="folder to write clean/, dcN/ and humF/ into")
    p.add_argument("--all", action="store_true", help="every clip, not only the official test clips")
    p.add_argument("--dc", default="2,10", help="DC offsets in %% of full scale (default 2,10)")
    p.add_argument("--hum", default="50", help="hum frequency in Hz (default 50; 0: none)")
    p.add_argument("--hum-level", default="0.5", help="hum amplitude relative to the clip's peak (default 0.5)")
    a = p.parse_args()
    if not os.path.isdir(a.clips):
        fail(f"--clips {a.clips}: not a folder")
    dcs = number_list(a.dc, "--dc", 0, 50)
    hum = number_list(a.hum, "--hum", 0, 1000)
    if len(hum) != 1:
        fail(f"--hum expects one frequency, got '{a.hum}'")
    hum = hum[0]
    level = number_list(a.hum_level, "--hum-level", 0, 10)
    if len(level) != 1:
        fail(f"--hum-level expects one number, got '{a.hum_level}'")
    level = level[0]

    names = []
    for name in sorted(os.listdir(a.clips)):
        parts = os.path.splitext(name)[0].split("_")
        if not name.endswith(".wav"):
            continue
        if not a.all:
            if len(parts) != 3 or not parts[2].isdigit():
                fail(f"{os.path.join(a.clips, name)}: not named like FSDD's DIGIT_SPEAKER_INDEX.wav (--all takes any name)")
            if int(parts[2]) > 4:
                continue
        names.append(name)
    if not names:
        fail(f"--clips {a.clips}: no .wav clips" + ("" if a.all else " of the official test split (index 0-4)"))

    kinds = {"clean": lambda x, rate, peak: x}
    for dc in dcs:
        kinds[f"dc{dc:g}"] = lambda x, rate, peak, dc=dc: [v + dc / 100 * 32768 for v in x]
    if hum > 0:
        kinds[f"hum{hum:g}"] = lambda x, rate, peak: [
            v + level * peak * math.sin(2 * math.pi * hum * k / rate) for k, v in enumerate(x)]
    for kind in kinds:
        os.makedirs(os.path.join(a.out, kind), exist_ok=True)
    for name in names:
        samples, rate = read_clip(os.path.join(a.clips, name))
        peak = max((abs(v) for v in samples), default=0)
        for kind, change in kinds.items():
            write_clip(os.path.join(a.out, kind, name), change(samples, rate, peak), rate)
    print(f"wrote {len(names)} clips to each of {', '.join(os.path.join(a.out, k) for k in kinds)}")


if __name__ == "__main__":
    main()
