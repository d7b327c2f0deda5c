#!/usr/bin/env python3
"""Check rules/gazetteer/regions.csv (and agencies.csv) against the reference.

Usage: python3 scripts/check_gazetteer.py [REFERENCE_REGIONS_CSV] [--gazetteer DIR]

REFERENCE_REGIONS_CSV defaults to ../shared/reference/regions.csv (relative to
the current directory, else to the repository root). province_aliases.csv is
read from the same directory as the reference file. Exits 1 on any error.
Standard library only.
"""
import argparse
import csv
import os
import sys
from collections import defaultdict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEVELS = ("provinsi", "kabupaten", "kota")
AGENCY_LEVELS = ("kementerian", "lembaga")


def resolve(path):
    if os.path.isabs(path) or os.path.exists(path):
        return path
    alt = os.path.join(REPO, path)
    return alt if os.path.exists(alt) else path


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        r = csv.DictReader(f)
        return r.fieldnames, list(r)


def code_key(code):
    return tuple(int(p) for p in code.split("."))


def split_aliases(s):
    return [a for a in s.split("|")] if s else []


def check_regions(gaz_path, ref_path, errors, notes):
    header, rows = read_csv(gaz_path)
    _, ref = read_csv(ref_path)
    pa_path = os.path.join(os.path.dirname(ref_path), "province_aliases.csv")
    _, pal = read_csv(pa_path) if os.path.exists(pa_path) else (None, [])
    if not pal:
        notes.append("province_aliases.csv not found next to reference; alias coverage not checked")

    want = ["code", "level", "official", "name", "aliases"]
    if header != want:
        errors.append(f"regions: header {header} != {want}")
        return
    refmap = {r["code"]: r for r in ref}
    codes = [r["code"] for r in rows]
    if len(codes) != len(set(codes)):
        errors.append("regions: duplicate codes")
    if set(codes) != set(refmap):
        errors.append(f"regions: codes differ; missing {sorted(set(refmap) - set(codes))[:10]}, "
                      f"extra {sorted(set(codes) - set(refmap))[:10]}")
    try:
        if codes != sorted(codes, key=code_key):
            errors.append("regions: rows not sorted by code")
    except ValueError:
        errors.append("regions: malformed code")

    by_code = {}
    for r in rows:
        c = r["code"]
        by_code[c] = r
        ref_r = refmap.get(c)
        if ref_r is None:
            continue
        if r["level"] != ref_r["level"]:
            errors.append(f"{c}: level {r['level']!r} != reference {ref_r['level']!r}")
        if r["level"] == "provinsi":
            if not r["official"].startswith("Provinsi ") or r["official"][9:] != ref_r["name"]:
                errors.append(f"{c}: official {r['official']!r} != 'Provinsi {ref_r['name']}'")
            if r["name"] != ref_r["name"]:
                errors.append(f"{c}: province name {r['name']!r} != {ref_r['name']!r}")
        else:
            if r["official"] != ref_r["name"]:
                errors.append(f"{c}: official {r['official']!r} != reference {ref_r['name']!r}")
            if not r["name"] or not r["official"].endswith(" " + r["name"]):
                errors.append(f"{c}: bare name {r['name']!r} is not the tail of {r['official']!r}")
        als = split_aliases(r["aliases"])
        if any(not a.strip() or a != a.strip() for a in als):
            errors.append(f"{c}: empty or padded alias in {r['aliases']!r}")
        low = [a.casefold() for a in als]
        if len(low) != len(set(low)) and len(als) != len(set(als)):
            errors.append(f"{c}: duplicate alias in {r['aliases']!r}")
        if r["name"] in als:
            errors.append(f"{c}: alias repeats the bare name {r['name']!r}")

    # every reference province alias present
    missing = 0
    for p in pal:
        r = by_code.get(p["province_code"])
        if r is None:
            errors.append(f"province_aliases: unknown code {p['province_code']}")
            continue
        terms = {r["name"].casefold()} | {a.casefold() for a in split_aliases(r["aliases"])}
        if p["alias"].casefold() not in terms:
            missing += 1
            errors.append(f"{p['province_code']}: reference alias {p['alias']!r} missing")

    # no term (name or alias) mapping to two codes within a level
    term_codes = {lv: defaultdict(set) for lv in LEVELS}
    for r in rows:
        if r["level"] not in LEVELS:
            errors.append(f"{r['code']}: unknown level {r['level']!r}")
            continue
        for t in [r["name"]] + split_aliases(r["aliases"]):
            term_codes[r["level"]][t.casefold()].add(r["code"])
    for lv in LEVELS:
        for t, cs in sorted(term_codes[lv].items()):
            if len(cs) > 1:
                errors.append(f"{lv}: {t!r} maps to {sorted(cs)}")

    # no kab/kota alias equal to the bare name of another kab/kota
    kk_names = defaultdict(set)
    for r in rows:
        if r["level"] in ("kabupaten", "kota"):
            kk_names[r["name"].casefold()].add(r["code"])
    for r in rows:
        if r["level"] not in ("kabupaten", "kota"):
            continue
        for a in split_aliases(r["aliases"]):
            other = kk_names.get(a.casefold(), set()) - {r["code"]}
            if other:
                errors.append(f"{r['code']}: alias {a!r} is the bare name of {sorted(other)}")

    # informational: the same term at several levels (resolved by the level word)
    cross = defaultdict(set)
    for lv in LEVELS:
        for t, cs in term_codes[lv].items():
            for c in cs:
                cross[t].add(c)
    shared = {t: cs for t, cs in cross.items()
              if len({by_code[c]["level"] for c in cs}) > 1}
    kabkota = sorted(t for t, cs in shared.items()
                     if all(by_code[c]["level"] != "provinsi" for c in cs))
    with_prov = sorted(t for t in shared if t not in kabkota)
    notes.append(f"{len(kabkota)} terms shared by a kabupaten and a kota (need the level word): "
                 + ", ".join(kabkota))
    notes.append(f"{len(with_prov)} province terms also used by a kab/kota: "
                 + "; ".join(f"{t} ({'/'.join(sorted(shared[t], key=code_key))})" for t in with_prov))

    counts = defaultdict(int)
    n_alias = 0
    for r in rows:
        counts[r["level"]] += 1
        n_alias += len(split_aliases(r["aliases"]))
    return (f"regions.csv: {len(rows)} rows ({', '.join(f'{lv} {counts[lv]}' for lv in LEVELS)}), "
            f"{n_alias} aliases, {len(pal) - missing}/{len(pal)} reference province aliases present")


def check_agencies(path, errors):
    header, rows = read_csv(path)
    want = ["official", "level", "aliases"]
    if header != want:
        errors.append(f"agencies: header {header} != {want}")
        return "agencies.csv: bad header"
    seen = {}
    counts = defaultdict(int)
    for r in rows:
        counts[r["level"]] += 1
        if r["level"] not in AGENCY_LEVELS:
            errors.append(f"agencies: {r['official']!r} has level {r['level']!r}")
        for t in [r["official"]] + split_aliases(r["aliases"]):
            if not t.strip():
                errors.append(f"agencies: empty alias for {r['official']!r}")
                continue
            k = t.casefold()
            if k in seen and seen[k] != r["official"]:
                errors.append(f"agencies: {t!r} maps to {seen[k]!r} and {r['official']!r}")
            seen[k] = r["official"]
    return (f"agencies.csv: {len(rows)} rows ("
            + ", ".join(f"{lv} {counts[lv]}" for lv in AGENCY_LEVELS) + f"), {len(seen)} distinct terms")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reference", nargs="?", default="../shared/reference/regions.csv")
    ap.add_argument("--gazetteer", default=os.path.join(REPO, "rules", "gazetteer"))
    args = ap.parse_args()
    ref = resolve(args.reference)
    errors, notes, summary = [], [], []
    summary.append(check_regions(os.path.join(args.gazetteer, "regions.csv"), ref, errors, notes))
    ag = os.path.join(args.gazetteer, "agencies.csv")
    if os.path.exists(ag):
        summary.append(check_agencies(ag, errors))
    for s in summary:
        if s:
            print(s)
    for n in notes:
        print("note:", n)
    if errors:
        for e in errors[:50]:
            print("ERROR:", e)
        print(f"FAILED: {len(errors)} error(s)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
