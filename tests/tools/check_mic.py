#!/usr/bin/env python3
"""tools/mic.py on made-up clips: which clips are written, the DC offset, the hum and the
overdrive sample by sample (clipped at full scale), the telephone copy's band and mu-law coding,
and a clear error (exit 1, the file or flag named) for every wrong input.

    check_mic.py MIC_PY WORK_DIR
"""
import array
import math
import os
import shutil
import struct
import subprocess
import sys
import wave


def run(script, *args):
    return subprocess.run([sys.executable, script, *args], capture_output=True, text=True)


def write(path, samples, width=2, channels=1, rate=8000):
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(array.array("h", samples).tobytes() if width == 2 else bytes(samples))


def read(path):
    with wave.open(path, "rb") as w:
        return list(array.array("h", w.readframes(w.getnframes()))), w.getframerate()


def read_mulaw(path):
    """A mu-law WAV as mic.py writes it: fmt (format code 7, 8 bits), fact, data; 16-bit values."""
    b = open(path, "rb").read()
    assert b[:4] == b"RIFF" and b[8:16] == b"WAVEfmt ", path
    tag, channels, rate, _, align, bits = struct.unpack("<HHIIHH", b[20:36])
    assert (tag, channels, align, bits) == (7, 1, 1, 8), (tag, channels, align, bits)
    pos = 20 + struct.unpack("<I", b[16:20])[0]
    while b[pos:pos + 4] != b"data":
        pos += 8 + struct.unpack("<I", b[pos + 4:pos + 8])[0]
    n = struct.unpack("<I", b[pos + 4:pos + 8])[0]

    def expand(code):  # G.711 mu-law (written out again here, not imported from mic.py)
        u = ~code & 0xFF
        t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
        return 0x84 - t if u & 0x80 else t - 0x84
    return [expand(c) for c in b[pos + 8:pos + 8 + n]], rate


def rms(x):
    return math.sqrt(sum(v * v for v in x) / len(x))


def expect_error(script, pattern, *args):
    r = run(script, *args)
    assert r.returncode == 1 and pattern in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r)


def main():
    script, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    clips, out = os.path.join(work, "clips"), os.path.join(work, "out")
    os.makedirs(clips)
    x = [int(20000 * math.sin(0.3 * k)) for k in range(800)]
    write(os.path.join(clips, "3_ann_0.wav"), x)
    write(os.path.join(clips, "3_ann_7.wav"), x)  # not an official test clip
    open(os.path.join(clips, "notes.txt"), "w").write("not a clip")

    # Tones for the telephone band: 1 kHz passes, 100 Hz and 3.8 kHz are cut (19 dB each).
    for name, hz in (("1_tone_0.wav", 1000), ("2_tone_0.wav", 100), ("4_tone_0.wav", 3800)):
        write(os.path.join(clips, name), [int(10000 * math.sin(2 * math.pi * hz * k / 8000)) for k in range(8000)])

    r = run(script, "--clips", clips, "--out", out, "--dc", "2,50", "--hum", "60", "--hum-level", "0.25",
            "--overdrive", "6,20")
    assert r.returncode == 0, r
    assert sorted(os.listdir(out)) == ["clean", "dc2", "dc50", "hum60", "over20", "over6", "phone"], os.listdir(out)
    for kind in os.listdir(out):
        assert sorted(os.listdir(os.path.join(out, kind))) == ["1_tone_0.wav", "2_tone_0.wav", "3_ann_0.wav",
                                                              "4_tone_0.wav"], (kind, os.listdir(os.path.join(out, kind)))
    clean, rate = read(os.path.join(out, "clean", "3_ann_0.wav"))
    assert clean == x and rate == 8000
    dc2, _ = read(os.path.join(out, "dc2", "3_ann_0.wav"))
    assert all(abs(d - (v + 655.36)) <= 0.5 for d, v in zip(dc2, x)), "dc2"
    dc50, _ = read(os.path.join(out, "dc50", "3_ann_0.wav"))
    assert max(dc50) == 32767 and all(d == min(32767, round(v + 16384)) for d, v in zip(dc50, x)), "dc50 clips"
    hum, _ = read(os.path.join(out, "hum60", "3_ann_0.wav"))
    peak = max(abs(v) for v in x)
    assert all(abs(h - (v + 0.25 * peak * math.sin(2 * math.pi * 60 * k / 8000))) <= 0.5
               for k, (h, v) in enumerate(zip(hum, x))), "hum60"

    peak = max(abs(v) for v in x)
    for db in (6, 20):
        over, _ = read(os.path.join(out, f"over{db}", "3_ann_0.wav"))
        want = [max(-32768, min(32767, round(v * 10 ** (db / 20) * 32768 / peak))) for v in x]
        assert all(abs(o - w) <= 1 for o, w in zip(over, want)), f"over{db}"
        assert sum(abs(o) >= 32767 for o in over) > (300 if db == 20 else 100), f"over{db} clips"
    phone, rate = read_mulaw(os.path.join(out, "phone", "3_ann_0.wav"))
    assert rate == 8000 and len(phone) == len(x), "phone length"
    gain = {}
    for name, hz in (("1_tone_0.wav", 1000), ("2_tone_0.wav", 100), ("4_tone_0.wav", 3800)):
        y, _ = read_mulaw(os.path.join(out, "phone", name))
        gain[hz] = 20 * math.log10(rms(y[2000:]) / (10000 / math.sqrt(2)))
    def butterworth_db(hz):  # the digital (bilinear) second-order Butterworth pair's gain in dB
        t = lambda f: math.tan(math.pi * f / 8000)
        return -10 * math.log10(1 + (t(300) / t(hz)) ** 4) - 10 * math.log10(1 + (t(hz) / t(3400)) ** 4)
    for hz, g in gain.items():
        assert abs(g - butterworth_db(hz)) < 0.5, (hz, g, butterworth_db(hz))
    assert gain[1000] > -0.5 and gain[100] < -18 and gain[3800] < -18, gain

    r = run(script, "--clips", clips, "--out", os.path.join(work, "all"), "--all", "--hum", "0", "--overdrive", "",
            "--no-phone")
    assert r.returncode == 0, r
    assert sorted(os.listdir(os.path.join(work, "all"))) == ["clean", "dc10", "dc2"]
    assert sorted(os.listdir(os.path.join(work, "all", "clean"))) == ["1_tone_0.wav", "2_tone_0.wav", "3_ann_0.wav",
                                                                     "3_ann_7.wav", "4_tone_0.wav"]

    expect_error(script, "--clips /nonexistent: not a folder", "--clips", "/nonexistent", "--out", out)
    expect_error(script, "--dc expects comma-separated numbers, got 'x'", "--clips", clips, "--out", out, "--dc", "x")
    expect_error(script, "--dc expects numbers in [0, 50], got '60'", "--clips", clips, "--out", out, "--dc", "60")
    expect_error(script, "--hum expects one frequency, got '50,60'", "--clips", clips, "--out", out, "--hum", "50,60")
    expect_error(script, "--hum-level expects numbers in [0, 10], got '-1'", "--clips", clips, "--out", out,
                 "--hum-level=-1")
    expect_error(script, "--overdrive expects numbers in [0, 40], got '50'", "--clips", clips, "--out", out,
                 "--overdrive", "50")
    expect_error(script, "--overdrive expects comma-separated numbers, got 'loud'", "--clips", clips, "--out", out,
                 "--overdrive", "loud")
    slow = os.path.join(work, "slow")
    os.makedirs(slow)
    write(os.path.join(slow, "1_b_0.wav"), x, rate=6000)
    expect_error(script, "1_b_0.wav: 6000 Hz; the telephone band (to 3400 Hz) needs 8000 Hz or more",
                 "--clips", slow, "--out", os.path.join(work, "slow_out"))
    assert not os.path.exists(os.path.join(work, "slow_out")), "nothing written before the error"
    assert run(script, "--clips", slow, "--out", os.path.join(work, "slow_out"), "--no-phone").returncode == 0
    r = run(script, "--clips", slow, "--out", os.path.join(work, "only_over"), "--no-phone", "--dc", "", "--hum", "0")
    assert r.returncode == 0 and sorted(os.listdir(os.path.join(work, "only_over"))) == ["clean", "over12"], r
    empty = os.path.join(work, "empty")
    os.makedirs(empty)
    expect_error(script, "no .wav clips of the official test split", "--clips", empty, "--out", out)
    odd = os.path.join(work, "odd")
    os.makedirs(odd)
    write(os.path.join(odd, "mine.wav"), x)
    expect_error(script, "mine.wav: not named like FSDD's", "--clips", odd, "--out", out)
    eight = os.path.join(work, "eight")
    os.makedirs(eight)
    write(os.path.join(eight, "1_b_0.wav"), [128] * 100, width=1)
    expect_error(script, "1_b_0.wav: 8-bit, 1 channel(s); expected 16-bit mono PCM", "--clips", eight, "--out", out)
    broken = os.path.join(work, "broken")
    os.makedirs(broken)
    open(os.path.join(broken, "1_b_0.wav"), "wb").write(b"RIFF0000WAVEjunk")
    expect_error(script, "1_b_0.wav: not a readable WAV file", "--clips", broken, "--out", out)
    print("mic.py: all checks passed")


if __name__ == "__main__":
    main()
