#!/usr/bin/env python3
"""Every option a duet command accepts is named in that command's --help.

Reads the option lists each command hands its parser (`Args args(argv, {options},
{switches}, "command")` in tools/cmd_*.cpp), runs `duet COMMAND --help`, and fails for an
option the help text leaves out, or an option the help names that neither the command nor
another command named on the same line accepts.

Usage: check_help_options.py PATH/TO/duet TOOLS_DIR
"""
import glob
import os
import re
import subprocess
import sys

ARGS = re.compile(r'Args\s+\w+\(\s*\w+\s*,\s*\{([^}]*)\}\s*,\s*\{([^}]*)\}\s*,\s*"([\w-]+)"\s*\)', re.S)
NAME = re.compile(r'"([\w-]+)"')
# Options a help text shows in another form: -o is the short spelling of --out.
SPELLINGS = {"out": ("--out", "-o")}


def main():
    duet, tools = sys.argv[1], sys.argv[2]
    commands = {}
    for path in sorted(glob.glob(os.path.join(tools, "cmd_*.cpp"))):
        with open(path) as f:
            for m in ARGS.finditer(f.read()):
                commands[m.group(3)] = NAME.findall(m.group(1)) + NAME.findall(m.group(2))
    # A parser call written another way would drop out of this check silently: insist on the
    # commands `duet --help` lists.
    listing = subprocess.run([duet, "--help"], capture_output=True, text=True, check=True).stdout
    listed = re.findall(r"^  ([a-z]+)\s{2,}", listing, re.M)
    failures = [f"'duet --help' lists {c}, but no parser for it was found in {tools}" for c in listed if c not in commands]
    if len(listed) < 10:
        failures.append(f"'duet --help' lists only {len(listed)} commands: {listed}")

    for command, options in sorted(commands.items()):
        text = subprocess.run([duet, command, "--help"], capture_output=True, text=True).stdout
        for option in options:
            if option == "help":
                continue
            if not any(re.search(re.escape(s) + r"(?![\w-])", text) for s in SPELLINGS.get(option, ("--" + option,))):
                failures.append(f"'duet {command} --help' does not name --{option}")
        # The other direction: a flag the help names must exist, in this command or in another
        # command the same line names ("see duet fonts --strokes N").
        for line in text.splitlines():
            for named in re.findall(r"(?<![\w-])--([a-z][\w-]*)", line):
                others = [c for c in re.findall(r"duet ([a-z]+)", line) if c != command]
                if named not in options and not any(named in commands.get(c, ()) for c in others):
                    failures.append(f"'duet {command} --help' names --{named}, which {command} does not accept")
        print(f"{command}: {len(options)} options")

    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
