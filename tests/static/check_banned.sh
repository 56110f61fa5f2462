#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when common/, pam/ or tools/ use a banned function: strcpy strcat
# sprintf vsprintf gets atoi atol strtok sscanf system popen, or getenv
# (secure_getenv is the allowed form).
#
#   tests/static/check_banned.sh [ROOT]
#
# Matching is on whole identifiers (so snprintf, strtok_r's prefix and
# secure_getenv do not match, but strtok does) in code with comments and
# string/char literals removed: "a system call failed" in a message is
# text, not a call. Line numbers refer to the original file.
set -eu
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
exec /usr/bin/python3 - "$root" <<'PY'
import os
import re
import sys

BANNED = ("strcpy strcat sprintf vsprintf gets atoi atol strtok sscanf "
          "system popen getenv").split()
WORD = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(BANNED) +
                  r")(?![A-Za-z0-9_])")


def strip(text):
    """Blanks comments and string/char literals, keeping newlines."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "*":
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c == "/" and nxt == "/":
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


root = sys.argv[1]
found = 0
checked = 0
for sub in ("common", "pam", "tools"):
    base = os.path.join(root, sub)
    if not os.path.isdir(base):
        continue
    for dirpath, _, files in os.walk(base):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            checked += 1
            for no, line in enumerate(strip(text).split("\n"), 1):
                for m in WORD.finditer(line):
                    found += 1
                    print("%s:%d: banned: %s" % (
                        os.path.relpath(path, root), no, m.group(1)))
if checked == 0:
    print("check_banned: no source files under %s" % root)
    sys.exit(1)
print("check_banned: %d files, %d banned uses" % (checked, found))
sys.exit(1 if found else 0)
PY
