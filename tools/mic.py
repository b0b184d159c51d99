#!/usr/bin/env python3
"""Recordings as plain equipment makes them: FSDD clips written again on a DC offset (a sound
card's), with mains hum added, overdriven into clipping, and as a telephone carries them, as
folders for

    duet eval --model-dir AUDIO_MODEL --inputs OUT/NAME

    mic.py --clips DIR --out OUT [--all] [--dc LIST] [--hum HZ] [--hum-level X]
           [--overdrive LIST] [--no-phone]

By default the official split's test clips (index 0-4 of each speaker and digit, 300 of
FSDD's 3000; --all: every clip) are written to
    OUT/clean    as they are
    OUT/dcN      on a DC offset of N% of full scale, one folder per entry of --dc (default 2,10;
                 empty: none)
    OUT/humF     with a sine hum of F Hz (--hum, default 50; 0: none) at --hum-level times the
                 clip's own peak (default 0.5)
    OUT/overN    amplified until its peak lies N dB above full scale, and clipped there (a
                 microphone input turned up too far), one folder per entry of --overdrive
                 (default 12; empty: none)
    OUT/phone    as a telephone line carries it: band-limited to 300-3400 Hz (second-order
                 Butterworth high- and low-pass, causal) and coded as 8-bit G.711 mu-law
                 (a mu-law WAV; --no-phone: none)
keeping their names (7_theo_3.wav), so eval --inputs reads the digit and the speaker from them.
Samples beyond full scale are clipped, as a sound card clips them. The clips must be 16-bit PCM
WAV (FSDD's format) at 8 kHz or more; anything else is an error naming the file. docs/dsp.md
and docs/training.md have what duet makes of them. Standard library only.
"""
import argparse
import array
import bisect
import math
import os
import struct
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


def mulaw_expand(code):
    """The G.711 mu-law code's 16-bit linear value."""
    u = ~code & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return 0x84 - t if u & 0x80 else t - 0x84


MULAW = sorted((mulaw_expand(c), c) for c in range(256))
MULAW_VALUES = [v for v, _ in MULAW]


def mulaw_encode(x):
    """The code whose expansion lies nearest to x (G.711 reconstructs at each step's middle)."""
    i = bisect.bisect_left(MULAW_VALUES, x)
    best = min((k for k in (i - 1, i) if 0 <= k < len(MULAW_VALUES)), key=lambda k: abs(MULAW_VALUES[k] - x))
    return MULAW[best][1]


def write_mulaw(path, samples, rate):
    codes = bytes(mulaw_encode(max(-32768, min(32767, v))) for v in samples)
    fmt = struct.pack("<HHIIHHH", 7, 1, rate, rate, 1, 8, 0)
    body = (b"WAVEfmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<II", 4, len(codes)) +
            b"data" + struct.pack("<I", len(codes)) + codes + b"\0" * (len(codes) & 1))
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)


def biquad(x, rate, hz, kind):
    """Second-order Butterworth (Q = 1/sqrt 2) high- or low-pass, run forward once (RBJ cookbook)."""
    w = 2 * math.pi * hz / rate
    alpha = math.sin(w) / math.sqrt(2)
    c = math.cos(w)
    if kind == "high":
        b = [(1 + c) / 2, -(1 + c), (1 + c) / 2]
    else:
        b = [(1 - c) / 2, 1 - c, (1 - c) / 2]
    a0, a1, a2 = 1 + alpha, -2 * c, 1 - alpha
    b = [v / a0 for v in b]
    a1, a2 = a1 / a0, a2 / a0
    y, x1, x2, y1, y2 = [], 0.0, 0.0, 0.0, 0.0
    for v in x:
        out = b[0] * v + b[1] * x1 + b[2] * x2 - a1 * y1 - a2 * y2
        x2, x1, y2, y1 = x1, v, y1, out
        y.append(out)
    return y


def telephone(x, rate):
    return biquad(biquad(x, rate, 300, "high"), rate, 3400, "low")


def main():
    p = argparse.ArgumentParser(description="FSDD clips on a DC offset, with mains hum, overdriven and over a "
                                "telephone line, for duet eval --inputs")
    p.add_argument("--clips", required=True, help="folder of WAV clips named like FSDD's (7_theo_3.wav)")
    p.add_argument("--out", required=True, help="folder to write clean/, dcN/ and humF/ into")
    p.add_argument("--all", action="store_true", help="every clip, not only the official test clips")
    p.add_argument("--dc", default="2,10", help="DC offsets in %% of full scale (default 2,10)")
    p.add_argument("--hum", default="50", help="hum frequency in Hz (default 50; 0: none)")
    p.add_argument("--hum-level", default="0.5", help="hum amplitude relative to the clip's peak (default 0.5)")
    p.add_argument("--overdrive", default="12", help="peaks this many dB above full scale, clipped (default 12)")
    p.add_argument("--no-phone", action="store_true", help="no telephone (300-3400 Hz, mu-law) folder")
    a = p.parse_args()
    if not os.path.isdir(a.clips):
        fail(f"--clips {a.clips}: not a folder")
    dcs = number_list(a.dc, "--dc", 0, 50) if a.dc.strip() else []
    hum = number_list(a.hum, "--hum", 0, 1000)
    if len(hum) != 1:
        fail(f"--hum expects one frequency, got '{a.hum}'")
    hum = hum[0]
    level = number_list(a.hum_level, "--hum-level", 0, 10)
    if len(level) != 1:
        fail(f"--hum-level expects one number, got '{a.hum_level}'")
    level = level[0]
    overdrives = number_list(a.overdrive, "--overdrive", 0, 40) if a.overdrive.strip() else []

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
    for db in overdrives:
        kinds[f"over{db:g}"] = lambda x, rate, peak, db=db: [v * 10 ** (db / 20) * 32768 / max(peak, 1) for v in x]
    folders = list(kinds) + ([] if a.no_phone else ["phone"])
    clips = [(name, *read_clip(os.path.join(a.clips, name))) for name in names]  # every clip checked first
    for name, _, rate in clips:
        if not a.no_phone and rate < 8000:
            fail(f"{os.path.join(a.clips, name)}: {rate} Hz; the telephone band (to 3400 Hz) needs 8000 Hz or more")
    for kind in folders:
        os.makedirs(os.path.join(a.out, kind), exist_ok=True)
    for name, samples, rate in clips:
        peak = max((abs(v) for v in samples), default=0)
        for kind, change in kinds.items():
            write_clip(os.path.join(a.out, kind, name), change(samples, rate, peak), rate)
        if not a.no_phone:
            write_mulaw(os.path.join(a.out, "phone", name), telephone(samples, rate), rate)
    print(f"wrote {len(names)} clips to each of {', '.join(os.path.join(a.out, k) for k in folders)}")


if __name__ == "__main__":
    main()
