#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The man pages against the code: they must render without warnings, have
the sections a reader expects, and name every wifctl option (from the
built wifctl's --help), every module argument (pam/pam_wif.c), every
configuration key (common/config.c), every reason name (common/error.c)
and the prompt protocol's limits. A new option without documentation
fails here. README.md must stay a user's page (ReadmeTest), and nothing
shipped may point outside the repository.

Usage: check_docs.py --man-dir DIR --docs SRC_DOCS --source ROOT
                     [--wifctl PATH] [unittest args]
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import unittest

MAN_DIR = DOCS = ROOT = WIFCTL = None

PAGES = {
    "pam_wif.8": ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS",
                  "THE PROMPT PROTOCOL", "ENVIRONMENT", "RETURN VALUES",
                  "REASONS", "LOGGING", "FILES", "EXAMPLES",
                  "SECURITY NOTES", "SEE ALSO"],
    "pam_wif.conf.5": ["NAME", "SYNOPSIS", "DESCRIPTION", "GLOBAL SETTINGS",
                       "PROVIDER SETTINGS", "FILES", "EXAMPLES",
                       "SECURITY NOTES", "SEE ALSO"],
    "pam_wif.map.5": ["NAME", "SYNOPSIS", "DESCRIPTION", "DECISIONS",
                      "FILES", "EXAMPLES", "SECURITY NOTES", "SEE ALSO"],
    "wifctl.1": ["NAME", "SYNOPSIS", "DESCRIPTION", "GLOBAL OPTIONS",
                 "COMMANDS", "TOKEN OPTIONS", "TOKEN SOURCES", "ENVIRONMENT",
                 "EXIT STATUS", "FILES", "EXAMPLES", "SECURITY NOTES",
                 "SEE ALSO"],
}


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def source_text(page):
    """The scdoc source with its escapes and emphasis removed, so that a
    name is found whatever its formatting (hyphenation in the rendered
    page would split long names)."""
    s = read(os.path.join(DOCS, page + ".scd"))
    s = s.replace("\\\\", "\x00").replace("\\", "").replace("\x00", "\\")
    return s.replace("*", "")


def section(text, name):
    """The body of one `# NAME` section of an scdoc source."""
    m = re.search(r"^# " + re.escape(name) + r"\n(.*?)(?=^# |\Z)", text,
                  re.S | re.M)
    return m.group(1) if m else ""


def render(page, warnings=False):
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80", MANROFFSEQ="")
    args = ["man", "-E", "UTF-8", "-l"]
    if warnings:
        # What lintian runs: groff's own warnings, not the text.
        args = ["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z"]
    return subprocess.run(args + [os.path.join(MAN_DIR, page)], env=env,
                          capture_output=True, text=True, timeout=60)


class RenderTest(unittest.TestCase):
    def test_pages_render_without_warnings(self):
        for page in PAGES:
            with self.subTest(page=page):
                r = render(page, warnings=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stderr.strip(), "", page)

    def test_pages_have_their_sections(self):
        for page, sections in PAGES.items():
            r = render(page)
            self.assertEqual(r.returncode, 0, r.stderr)
            text = re.sub(".\b", "", r.stdout)  # overstrike bold
            headers = [l for l in text.splitlines() if re.match(r"[A-Z]", l)]
            for s in sections:
                with self.subTest(page=page, section=s):
                    self.assertIn(s, headers)
            # The header line names the page and its section.
            name, sect = page.rsplit(".", 1)
            self.assertTrue(text.lstrip().startswith(f"{name}({sect})"),
                            text[:80])


class CodeTest(unittest.TestCase):
    """Names in the code that the pages must carry."""

    def test_module_arguments(self):
        code = read(os.path.join(ROOT, "pam", "pam_wif.c"))
        body = code[code.index("static bool parse_arg("):]
        body = body[:body.index("\n}\n")]
        args = set(re.findall(r'strcmp\(arg, "([a-z_]+)"\)', body))
        args |= set(re.findall(
            r'(?:wif_text_skip_prefix|nonempty)\(arg, "([a-z_]+=)"', body))
        self.assertIn("config=", args)  # the pattern still finds them
        text = section(source_text("pam_wif.8"), "OPTIONS")
        for a in sorted(args):
            with self.subTest(argument=a):
                self.assertIn(a, text)

    def test_reason_names(self):
        code = read(os.path.join(ROOT, "common", "error.c"))
        names = re.findall(r'\[WIF_[A-Z_]+\]\s*=\s*\{\s*"([A-Z_]+)"', code)
        self.assertGreater(len(names), 20)
        text = section(source_text("pam_wif.8"), "REASONS")
        for n in names:
            with self.subTest(reason=n):
                self.assertRegex(text, r"(?m)^\|\s+" + n + r"\s*$")

    def test_config_keys(self):
        code = read(os.path.join(ROOT, "common", "config.c"))
        keys = re.findall(r'\{"([a-z_]+)", K_[A-Z_]+,', code)
        self.assertIn("issuer", keys)
        text = source_text("pam_wif.conf.5")
        body = section(text, "GLOBAL SETTINGS") + section(
            text, "PROVIDER SETTINGS")
        for k in keys:
            with self.subTest(key=k):
                self.assertRegex(body, r"(?m)^" + k + r" = ")

    def test_limits_and_prompts(self):
        jwt_h = read(os.path.join(ROOT, "common", "jwt.h"))
        token_max = re.search(r"#define WIF_TOKEN_MAX (\d+)", jwt_h).group(1)
        # Wherever the protocol lives (the module, or a core file).
        code = "\n".join(read(f) for f in [
            os.path.join(ROOT, "pam", "pam_wif.c")] + sorted(
                glob.glob(os.path.join(ROOT, "common", "*.[ch]"))))
        parts = re.search(r"#define (?:WIF_PROMPT_)?PARTS_MAX (\d+)",
                          code).group(1)
        first = re.search(r'#define (?:WIF_)?PROMPT_FIRST "([^"]*)"',
                          code).group(1)
        # The part prompt may be one format or built from a head.
        part = re.search(r'"([^"]*\(part)[ %]', code).group(1) + " N):"
        text = section(source_text("pam_wif.8"), "THE PROMPT PROTOCOL")
        flat = " ".join(text.split()).replace("_", "")
        self.assertIn(f"At most {parts} parts and {token_max} bytes", flat)
        self.assertIn(first.strip(), flat)
        self.assertIn(part, flat)

    def test_environment_names(self):
        code = read(os.path.join(ROOT, "common", "handover.c"))
        m = re.search(r"wif_handover_names\[WIF_HO_COUNT\] = \{(.*?)\};",
                      code, re.S)
        names = re.findall(r'"([A-Z_]+)"', m.group(1))
        self.assertIn("WIF_PROVIDER", names)
        text = section(source_text("pam_wif.8"), "ENVIRONMENT")
        for n in names:
            with self.subTest(variable=n):
                self.assertIn(n, text)

    def test_error_names_exist(self):
        """Every reason named anywhere in the pages is a real one."""
        code = read(os.path.join(ROOT, "common", "error.c"))
        names = set(re.findall(r'\{\s*"([A-Z_]+)",', code))
        for page in PAGES:
            text = source_text(page)
            for used in re.findall(r"\(([A-Z][A-Z_]{4,})[,)]", text):
                if used.startswith("PAM_") or used.startswith("WIF_"):
                    continue
                with self.subTest(page=page, reason=used):
                    self.assertIn(used, names)


class ReadmeTest(unittest.TestCase):
    """README.md stays a user's page, the documents' links resolve, and
    nothing shipped points outside the repository."""

    SHIPPED = ["README.md", "HACKING.md", "CMakeLists.txt", "docs", "conf",
               "packaging", "common", "pam", "tools", "helper", "demo"]

    def test_readme_is_short(self):
        lines = read(os.path.join(ROOT, "README.md")).splitlines()
        self.assertLessEqual(len(lines), 250,
                             "README.md is for users: developer material "
                             "goes to HACKING.md")

    def test_quick_start_commands(self):
        text = read(os.path.join(ROOT, "README.md"))
        quick = section(text.replace("## ", "# "), "Quick start")
        block = re.search(r"```sh\n(.*?)```", quick, re.S)
        self.assertIsNotNone(block, "no command block in Quick start")
        cmds = [l.split("#")[0].strip()
                for l in block.group(1).splitlines() if l.strip()]
        self.assertEqual(cmds, ["./demo/run.sh", "./tests/run.sh"])
        for c in cmds:
            with self.subTest(command=c):
                path = os.path.join(ROOT, c)
                self.assertTrue(os.access(path, os.X_OK), path)

    def test_readme_links_man_pages_and_documents(self):
        text = read(os.path.join(ROOT, "README.md"))
        targets = set(re.findall(r"\]\(([^)#\s]+)", text))
        pages = sorted(os.path.relpath(p, ROOT) for p in glob.glob(
            os.path.join(DOCS, "*.scd")))
        self.assertGreaterEqual(len(pages), 4)
        for want in pages + ["HACKING.md", "docs/SECURITY.md",
                             "docs/DESIGN.md", "LICENSE"]:
            with self.subTest(link=want):
                self.assertIn(want, targets)

    def test_links_resolve(self):
        docs = ["README.md", "HACKING.md"] + [
            os.path.relpath(p, ROOT)
            for p in glob.glob(os.path.join(DOCS, "*.md"))]
        for doc in docs:
            text = read(os.path.join(ROOT, doc))
            for target in re.findall(r"\]\(([^)#\s]+)", text):
                if re.match(r"[a-z]+:", target):
                    continue
                path = os.path.normpath(os.path.join(
                    ROOT, os.path.dirname(doc), target))
                with self.subTest(doc=doc, link=target):
                    self.assertTrue(os.path.exists(path), path)

    def test_readme_reasons_exist(self):
        code = read(os.path.join(ROOT, "common", "error.c"))
        names = set(re.findall(r'\{\s*"([A-Z_]+)",', code))
        text = read(os.path.join(ROOT, "README.md"))
        rows = re.findall(r"(?m)^\| (`[A-Z_]+`.*?) \|", text)
        self.assertGreater(len(rows), 3)
        for row in rows:
            for used in re.findall(r"`([A-Z][A-Z_]+)`", row):
                with self.subTest(reason=used):
                    self.assertIn(used, names)

    def test_hacking_documents_quick_mode(self):
        text = read(os.path.join(ROOT, "HACKING.md"))
        self.assertIn("tests/run.sh quick", text)
        run = read(os.path.join(ROOT, "tests", "run.sh"))
        self.assertRegex(run, r"(?m)^quick\) mode=quick")

    def test_nothing_shipped_points_outside(self):
        # The test build alone may default its Wycheproof vectors to a
        # directory beside the checkout (WIF_VECTORS_DIR).
        bad = re.compile(r"\.\./shared\b|(?<![\w.-])shared/(?:vectors|bench|"
                         r"seed|DESIGN|SECURITY-CASES|STYLE)")
        files = []
        for name in self.SHIPPED:
            path = os.path.join(ROOT, name)
            if os.path.isfile(path):
                files.append(path)
            for d, _, fs in os.walk(path):
                files += [os.path.join(d, f) for f in fs]
        self.assertGreater(len(files), 20)
        for f in files:
            try:
                text = read(f)
            except (UnicodeDecodeError, OSError):
                continue
            for n, line in enumerate(text.splitlines(), 1):
                if bad.search(line) and "WIF_VECTORS_DIR" not in line:
                    with self.subTest(file=os.path.relpath(f, ROOT), line=n):
                        self.fail(line.strip())


class WifctlTest(unittest.TestCase):
    """Every command and option of the built wifctl is in wifctl(1)."""

    def setUp(self):
        self.assertIsNotNone(WIFCTL, "WifctlTest needs --wifctl")

    def help(self, *args):
        r = subprocess.run([WIFCTL, *args, "--help"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def commands(self):
        text = self.help()
        block = text[text.index("Commands:"):text.index("Options:")]
        return re.findall(r"^  ([a-z]+)\s", block, re.M)

    def test_commands(self):
        cmds = self.commands()
        self.assertIn("verify", cmds)
        text = source_text("wifctl.1")
        for c in cmds:
            with self.subTest(command=c):
                if c == "help":
                    self.assertIn("help [COMMAND]", text.replace("_", ""))
                else:
                    self.assertRegex(text, r"(?m)^## " + c + "$")

    def test_options(self):
        text = source_text("wifctl.1")
        for c in [None] + [c for c in self.commands() if c != "help"]:
            out = self.help(c) if c else self.help()
            opts = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+|-[a-z])\b",
                                  out))
            for o in sorted(opts):
                with self.subTest(command=c, option=o):
                    self.assertIn(o, text)

    def test_version(self):
        r = subprocess.run([WIFCTL, "--version"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^wifctl \(pam_wif\) \d+\.\d+\.\d+")


def main():
    global MAN_DIR, DOCS, ROOT, WIFCTL
    p = argparse.ArgumentParser()
    p.add_argument("--man-dir", required=True)
    p.add_argument("--docs", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--wifctl")
    args, rest = p.parse_known_args()
    MAN_DIR, DOCS, ROOT, WIFCTL = (args.man_dir, args.docs, args.source,
                                   args.wifctl)
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()
