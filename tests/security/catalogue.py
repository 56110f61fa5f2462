#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes tests/security/README.md: every SECURITY-CASES.md case, its tests
and their result.

A test covers a case when its function (or class) name starts with the
case id (test_e11_aud covers E11) or a comment or string naming the id sits
at most a few lines above or inside it. NOTES below adds what no name
carries: tests that cover a case under another name, and cases that are not
applicable or still pending, with the reason.

  tests/security/catalogue.py --cases ../shared/SECURITY-CASES.md \\
      [--ctest-log build/ctest.log] > tests/security/README.md

--ctest-log is the output of a full `ctest` run; each case's result is
"pass" when every ctest test holding its tests passed, else the failing or
skipped ones are named.
"""
import argparse
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# Coverage no name carries, and cases without a test. "na:" and
# "pending:" entries replace the scan; others are added to it.
NOTES = {
    "B8": ["tests/unit/test_jwt.c::test_b7_b9_key_headers_ignored",
           "tests/integration/test_wifctl.py::test_header_policy",
           "note: jku/x5u are ignored by wif_jwt_parse, and the validation "
           "path (validate.c) has no HTTP client at all, so no request can "
           "follow from a token"],
    "C4": ["tests/unit/test_wycheproof.c::test_rsa_pkcs1"],
    "C8": ["na: no HMAC code exists: HS* is refused before any key is "
           "touched (B3 tests), so there is no MAC to compare"],
    "E10": ["na: issuers are compared byte for byte (E9 tests); there are "
            "no issuer templates or wildcards, so a multi-tenant template "
            "can only be configured as the literal string, which no Entra "
            "token carries"],
    "E12": ["na: no azp policy is built in; `require = azp = CLIENT-ID` "
            "binds it (tests/unit/test_claims.c::test_require_globs)"],
    "E17": ["tests/unit/test_claims.c::test_e11_aud",
            "note: another relying party's audience is AUD_MISMATCH"],
    "E20": ["tests/integration/pam/test_pam.c::test_one_time",
            "tests/unit/test_replay.c::test_first_use_then_replay",
            "tests/unit/test_replay.c::test_concurrent_first_use",
            "tests/unit/test_replay.c::test_torn_record",
            "tests/unit/test_replay.c::test_journal_corrupt",
            "note: a provider with one_time = yes records each accepted "
            "jti (hashed) in a bounded, locked, crash-safe store in "
            "cache_dir, written only after signature, claims, mapping and "
            "account passed; a replay is REPLAYED. Without one_time a "
            "still-valid token can be presented again (tokens are "
            "short-lived; max_token_age bounds their lifetime, E8)"],
    "F3": ["tests/unit/test_jwt.c::test_a3_size_cap",
           "tests/unit/test_jwk.c::test_limits"],
    "H7": ["note: finding: libpam does not refuse a stack whose module "
           "cannot be loaded (missing file, or a DT_NEEDED library "
           "missing); it runs that line as a module that fails with "
           "PAM_MODULE_UNKNOWN, and the control flags decide. The shipped "
           "samples (conf/pam.d: `auth [success=done default=die] "
           "pam_wif.so` with nothing after it that could grant, `account "
           "required pam_wif.so`) therefore fail closed; a stack that puts "
           "pam_wif as `sufficient` before pam_permit.so would not "
           "(test_h7_contrast_sufficient_then_permit shows it). The "
           "pam-auth-update profile (`[success=end default=ignore]` ahead "
           "of pam_unix) falls through to the password: no weaker than "
           "without pam_wif. The module links "
           "no libcurl; fetches run in pam_wif-helper: without the helper "
           "a login that needs a fetch is PAM_AUTHINFO_UNAVAIL, one served "
           "from the key cache still works "
           "(fi_pam.c::test_h7_helper_missing)"],
    "H9": ["tests/integration/pam/test_pam.c::test_parts",
           "tests/integration/pam/test_pam.c::test_size_limit"],
    "M4": ["tests/faultinject/fi_pam.c::test_h1_sweep_warm",
           "tests/faultinject/fi_pam.c::test_h1_sweep_cold",
           "note: the fi_pam sweeps run the module with `debug` and check "
           "every line it logs, on every injected failure path, for any 24 "
           "contiguous bytes of the token"],
    "I9": ["na: there is no debug-file option; log lines go only to the "
           "injected sink (syslog in the module, stderr in wifctl)"],
    "J6": ["note: CURLOPT_NOSIGNAL and the timeouts are set in "
           "common/http.c; DNS failure itself is not simulated (no network "
           "in tests)",
           "tests/integration/keys/test_keys.py::test_down"],
    "J11": ["tests/integration/keys/test_keys.py::"
            "test_revoke_refuses_removed_key"],
    "J12": ["tests/unit/test_jwks_cache.c::test_rotation_one_refetch"],
    "J15": ["tests/integration/keys/test_keys.py::"
            "test_no_retry_within_the_minute",
            "note: the JWKS client does not retry within one login (one "
            "attempt, then the per-minute cooldown); token sources retry "
            "with back-off (K1, K2)"],
    "L5": ["tests/hostile/test_hostile.py::test_n7_exec_program_clean_start",
           "note: exec: programs (host identity mode) run as root with the "
           "clean start of common/subprocess.c: in the forked child only, "
           "setgroups to group 0 alone, then setresgid and setresuid to 0 "
           "(real, effective and saved), each checked, then cwd /, umask "
           "077, fixed limits and no_new_privs before fexecve, so a setuid "
           "caller's real ids and groups never reach the program; the "
           "module's own ids are never changed. hostile/N7 checks the ids "
           "and groups the program sees"],
    "M1": ["tests/integration/pam/test_pam.c::test_stacks",
           "note: the module links no libcurl (fetches run in "
           "pam_wif-helper) and calls no OpenSSL cleanup; repeated "
           "dlopen/dlclose is exercised by each pam_wrapper transaction"],
    "M2": ["tests/unit/test_http.c::test_not_initialised_before_use"],
    "M6": ["tests/faultinject/fi_core.c::test_sweep_pipeline_file",
           "tests/faultinject/fi_pam.c::test_h1_sweep_warm",
           "tests/faultinject/fi_pam.c::test_h1_sweep_cold",
           "tests/faultinject/fi_pam.c::test_h1_sweep_warm_https",
           "tests/faultinject/fi_wifctl.py::verify_config",
           "tests/faultinject/fi_wifctl.py::verify_standalone"],
    "M3": ["tests/unit/test_source_exec.c::test_l4_environment_and_fds",
           "note: every descriptor the core opens is O_CLOEXEC and no curl "
           "handle outlives a request; the exec source's child sees no "
           "inherited descriptor (L4)"],
    "M8": ["tests/unit/test_claims.c::test_e2_exp_boundaries",
           "tests/unit/test_jwks_cache.c::test_failed_refresh_counts",
           "note: claims take `now` as an argument (WIF_TEST_NOW in the "
           "tests); the key cache's cooldowns take an injected clock"],
    "M7": ["tests/unit/test_jwk.c::test_limits",
           "tests/unit/test_jwk.c::test_d11_huge_rsa"],
    "H1": ["tests/faultinject/fi_core.c::test_sweep_validate_cold",
           "tests/faultinject/fi_wifctl.py::verify_config",
           "tests/faultinject/fi_wifctl.py::token_file",
           "tests/faultinject/fi_wifctl.py::token_exec",
           "tests/faultinject/fi_wifctl.py::token_azure",
           "tests/faultinject/fi_wifctl.py::token_gcp",
           "note: fi_pam drives pam_sm_authenticate + pam_sm_acct_mgmt "
           "(pam_wif.c compiled in, on a fake PAM handle) and fails every "
           "wrapped call, pam_get_item, pam_get_user, pam_putenv and the "
           "conversation in turn: warm (jwks_file), warm_parts, first_pass, "
           "cold (HTTPS IdP, empty cache) and warm_https (cache filled, IdP "
           "stopped). Every run ends in a failure code with no grant, "
           "except failures inside the key cache's own work that the design "
           "survives (jwks_cache.h: an unreadable cache is read again or "
           "ignored, an unwritable one leaves the keys in memory): those "
           "logins still verify the token, and the test requires a "
           "LOG_WARNING naming the degradation; PAM calls, the conversation "
           "and curl_easy_perform may never be survived"],
    "H10": ["tests/faultinject/fi_core.c::test_freed_memory_holds_no_token"],
}

TEST_GLOBS = ["tests/unit/*.c", "tests/integration/*.py",
              "tests/integration/*/*.py", "tests/integration/*/*.c",
              "tests/faultinject/*.c", "tests/fuzz/fuzz_*.c",
              "tests/e2e/**/*.py", "tests/e2e/**/*.c", "tests/e2e/**/*.sh",
              "tests/hostile/test_*.py"]
DEF = re.compile(r"^(?:static\s+(?:void|int)\s+(test_\w+)\s*\(|"
                 r"\s*def\s+(test_\w+)\s*\(|class\s+(\w+)\s*[(:])", re.M)


def read_cases(path):
    cases = []
    section = ""
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^### ([A-N])\. (.*)", line)
        if m:
            section = m.group(2).strip()
        m = re.match(r"^\| ([A-N]\d+) \| (.*?) \| (.*?) \|", line)
        if m:
            cases.append((m.group(1), section, m.group(2), m.group(3)))
    return cases


def scan(ids):
    """case id -> set of "file::function" that name it."""
    found = {}
    for pattern in TEST_GLOBS:
        for path in glob.glob(os.path.join(ROOT, pattern), recursive=True):
            rel = os.path.relpath(path, ROOT)
            text = open(path, encoding="utf-8", errors="replace").read()
            defs = [(m.start(), m.group(1) or m.group(2) or m.group(3))
                    for m in DEF.finditer(text)]
            tests = [(s, n) for s, n in defs if n.startswith("test_")]
            for s, name in tests:
                m = re.match(r"test_((?:[a-n]\d+_)+)", name + "_")
                for part in (m.group(1).split("_") if m else []):
                    cid = part.upper()
                    if cid in ids:
                        found.setdefault(cid, set()).add(rel + "::" + name)
            for m in re.finditer(r"(?<![A-Za-z0-9_])([A-N]\d{1,2})(?![0-9])",
                                 text):
                cid = m.group(1)
                if cid not in ids:
                    continue
                pos = m.start()
                after = [(s, n) for s, n in tests if s > pos]
                before = [(s, n) for s, n in tests if s <= pos]
                # A comment just above a test belongs to it; otherwise the
                # mention is inside the test that precedes it.
                if after and text.count("\n", pos, after[0][0]) <= 4:
                    name = after[0][1]
                elif before:
                    name = before[-1][1]
                else:
                    continue
                found.setdefault(cid, set()).add(rel + "::" + name)
    return found


def ctest_name(ref, classes):
    """The ctest test that runs file::function."""
    path, func = ref.split("::", 1)
    base = os.path.basename(path)
    stem = os.path.splitext(base)[0]
    if path.startswith("tests/unit/"):
        return "unit/" + stem
    if path.startswith("tests/faultinject/fi_core"):
        return "faultinject/core"
    if path.startswith("tests/faultinject/fi_pam"):
        https = ("test_h1_sweep_cold", "test_h1_sweep_warm_https",
                 "test_h7_helper_missing")
        return "faultinject/pam/" + ("https" if func in https else "local")
    if path.startswith("tests/faultinject/fi_wifctl"):
        return "faultinject/wifctl/" + func
    if path.startswith("tests/fuzz/"):
        return "fuzz/replay/" + stem[len("fuzz_"):]
    if path.startswith("tests/hostile/"):
        # One ctest test per case: hostile/N1 runs every test_n1_*.
        m = re.match(r"test_([a-z]\d+)_", func)
        return "hostile/" + m.group(1).upper() if m else None
    if path.startswith("tests/integration/"):
        suite = os.path.basename(os.path.dirname(path))
        if suite == "integration":
            suite = "wifctl"
        if path.endswith(".c"):
            return "integration/%s/transactions" % suite
        return "integration/%s/%s" % (suite, classes.get((path, func), "?"))
    return None


def python_classes():
    """(file, test function) -> its unittest class."""
    out = {}
    for pattern in ("tests/integration/*.py", "tests/integration/*/*.py"):
        for path in glob.glob(os.path.join(ROOT, pattern)):
            rel = os.path.relpath(path, ROOT)
            cls = None
            for line in open(path, encoding="utf-8", errors="replace"):
                m = re.match(r"class\s+(\w+)", line)
                if m:
                    cls = m.group(1)
                m = re.match(r"\s+def\s+(test_\w+)", line)
                if m and cls:
                    out[(rel, m.group(1))] = cls
    return out


def read_results(paths):
    res = {}
    for line in (l for p in paths for l in open(p, errors="replace")):
        m = re.search(r"Test\s+#\d+: (\S+) \.+\s*(?:\*+)?(\w[\w ]*?)\s+[\d.]+ sec",
                      line)
        if m:
            res[m.group(1)] = m.group(2).strip()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--ctest-log", action="append", default=[],
                    help="ctest output; repeat to merge runs (a full run "
                         "and a root-only `ctest -L hostile`)")
    args = ap.parse_args()
    cases = read_cases(args.cases)
    ids = {c[0] for c in cases}
    found = scan(ids)
    classes = python_classes()
    results = read_results(args.ctest_log)
    rows = []
    counts = {"pass": 0, "fail": 0, "na": 0, "pending": 0, "none": 0}
    for cid, section, what, _ in cases:
        refs = set(found.get(cid, set()))
        notes = []
        status = None
        for n in NOTES.get(cid, []):
            if n.startswith("na: "):
                status, notes = "not applicable", [n[4:]]
                refs = set()
                break
            if n.startswith("pending: "):
                notes.append("pending: " + n[9:])
            elif n.startswith("note: "):
                notes.append(n[6:])
            else:
                refs.add(n)
        if status is None:
            names = sorted({ctest_name(r, classes) for r in refs} - {None})
            if not refs:
                status = "pending"
                counts["none"] += 1
            elif results:
                bad = [n for n in names if results.get(n) != "Passed"]
                status = "pass" if not bad else "FAIL/skip: " + ", ".join(
                    "%s (%s)" % (n, results.get(n, "not run")) for n in bad)
            else:
                status = "not run"
            if any(n.startswith("pending: ") for n in notes) and \
                    status == "pass":
                status = "pass (partial)"
        key = ("na" if status == "not applicable" else
               "pass" if status.startswith("pass") else
               "pending" if status.startswith("pending") else "fail")
        counts[key] += 1
        cells = ["`%s`" % r for r in sorted(refs)]
        cells += [n.replace("|", "\\|") for n in notes]
        tests = "<br>".join(cells) or "—"
        short = what if len(what) <= 90 else what[:87] + "..."
        rows.append("| %s | %s | %s | %s |" % (cid, short.replace("|", "\\|"),
                                               tests, status))
    print(HEADER % {"total": len(cases), **counts})
    print("| Case | Input / fault | Tests | Result |")
    print("|---|---|---|---|")
    print("\n".join(rows))


HEADER = """# Security catalogue: every case and the tests that cover it

Generated by `tests/security/catalogue.py` from
`../shared/SECURITY-CASES.md` (the case list), the test sources (a test
covers a case when its name starts with the case id, `test_e11_aud`, or a
comment naming the id sits on it) and a full `ctest` run's output (the
result). Cases that no test name carries are mapped by hand in the
script's NOTES, each with its reason. Regenerate after adding tests:

    ctest --test-dir build | tee build/ctest.log
    tests/security/catalogue.py --cases ../shared/SECURITY-CASES.md \\
        --ctest-log build/ctest.log > tests/security/README.md

A test named `file::function` runs as ctest test `unit/<file>` (tests/unit),
`integration/<suite>/<Class>` (Python suites), `integration/pam/transactions`
(tests/integration/pam/test_pam.c), `faultinject/core`,
`faultinject/pam/local` and `faultinject/pam/https` (tests/faultinject/
fi_pam.c: the module's entry points on a fake PAM handle; `https` starts
the loopback test IdP), `faultinject/wifctl/<sweep>`,
`fuzz/replay/<target>` or `hostile/<case>` (tests/hostile: section N, a
setuid-root PAM client driven by an unprivileged user with a hostile
process state; root only, skipped otherwise: merge a root run's log with
a second --ctest-log). Cross-cutting checks not tied to one case: the
fuzz targets (tests/fuzz, every parser, `fuzz/replay/*` in each test pass
and a bounded libFuzzer run in tests/run.sh), the fault-injection sweeps
(H1, M6; fi_core and fi_pam also run under valgrind in tests/run.sh, and
every sweep under ASan + LeakSanitizer), the static checks
(`static/*`: banned functions, module exports, clang-tidy) and the
secrets-in-logs test (M4, `unit/test_security_secrets`).

%(total)d cases: %(pass)d pass, %(na)d not applicable, %(pending)d pending,
%(fail)d failing or skipped.
"""

if __name__ == "__main__":
    sys.exit(main())
