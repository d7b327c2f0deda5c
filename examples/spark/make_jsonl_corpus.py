#!/usr/bin/env python3
"""Turn a folder of .txt and .jsonl articles into a JSON Lines corpus.

usage: make_jsonl_corpus.py --out DIR [--per-file N] [--repeat R] SOURCE_DIR...

Every .txt file becomes one record (title: its first non-empty line, text:
the rest), every line of a .jsonl/.ndjson file is kept as it is; records
are written in path order into DIR/part-NNNN.jsonl, N records a file (the
record format of anugerah's JSON Lines reader: id, url, title, published,
text). --repeat R writes everything R times with ids suffixed -r1, -r2, ...
(to get a few thousand records out of a small corpus). Every record gets an
id, so that article ids do not depend on line numbers (which restart in each
partition of a distributed job). The same arguments always give the same bytes.
"""
import argparse
import json
from pathlib import Path


def records(src):
    root = Path(src)
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if any(part.startswith(".") for part in rel.split("/")) or not p.is_file():
            continue
        if p.suffix == ".txt":
            lines = p.read_text(encoding="utf-8", errors="replace").splitlines()
            if lines and lines[0].startswith("URL: "):
                lines = lines[3:]
            while lines and not lines[0].strip():
                lines.pop(0)
            if not lines:
                continue
            yield {"id": rel, "title": lines[0].strip(), "text": "\n".join(lines[1:]).strip()}
        elif p.suffix in (".jsonl", ".ndjson"):
            for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict):
                    rec["id"] = f"{rel}:{rec.get('id', n)}"
                    yield rec


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--per-file", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("sources", nargs="+")
    a = ap.parse_args()
    recs = [r for s in a.sources for r in records(s)]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    f = None
    for rep in range(1, a.repeat + 1):
        for r in recs:
            if n % a.per_file == 0:
                if f:
                    f.close()
                f = open(out / f"part-{n // a.per_file:04d}.jsonl", "w", encoding="utf-8")
            r = dict(r, id=r["id"] if a.repeat == 1 else f"{r['id']}-r{rep}")
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
            n += 1
    if f:
        f.close()
    print(f"{n} records in {(n + a.per_file - 1) // a.per_file} files under {out}")


if __name__ == "__main__":
    main()
