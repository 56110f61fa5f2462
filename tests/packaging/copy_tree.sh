#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Copies the project's own files (tracked and new ones that .gitignore does
# not exclude: never build trees, caches or .git) from SRC into DEST, for
# packaging builds that must leave the source tree untouched.
#   copy_tree.sh SRC DEST
set -eu
src=$1
dest=$2
mkdir -p "$dest"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Deleted but still tracked files are dropped; the inner script's $f is
  # meant for the inner shell.
  # shellcheck disable=SC2016
  git -C "$src" ls-files -z --cached --others --exclude-standard |
    (cd "$src" && xargs -0 sh -c \
      'for f; do [ -f "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done; :' sh) |
    (cd "$src" && tar --null -T - -cf -) | tar -xf - -C "$dest"
else
  (cd "$src" && tar --exclude='./build*' --exclude=./.git -cf - .) |
    tar -xf - -C "$dest"
fi
