"""Benchmark of ``import-cards``: 100,000 rows of a CMI extract, on SQLite and PostgreSQL,
then every credentials letter the run owes.

Run with ``python -m e2e.bench_import`` (``--rows N``, ``--database sqlite``,
``--skip-letters``). It writes a made-up extract (about one beneficiary in five a
child with a representative who has two children, one card in three a parking
card), then times reading, the first import, a second import of the same file
(nothing to change) and, on the first database, the printing of all the letters
the import owes (about 71,000 for 100,000 rows: an hour or so on two cores), as
the command prints them (files of 100 letters, one printing process per core).
It samples the memory of the process and of its printing processes while they
run, and prints the peaks. The target: the first import under 60 s on SQLite on a
2-core machine, letters aside; the letters in memory that does not grow with their
number (a few hundred MB whatever the count).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import psutil

from app import create_app
from models import cmi_import, create_tables
from models.shared.db import database
from views.operator.letters_printing import print_letters

from .bench import postgres_url, sqlite_url

TARGET_SECONDS = 60
STREETS = ["rue des Lilas", "avenue de la République", "place du Marché", "rue Nationale"]
CITIES = [("59000", "LILLE"), ("59100", "ROUBAIX"), ("59200", "TOURCOING"), ("62000", "ARRAS")]
FIRST = ["Élodie", "Jules", "Inès", "Léo", "Marie", "Joseph", "Camille", "Zoé", "Hugo", "Anaïs"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau"]


def extract_rows(count: int, seed: int = 2026) -> list[str]:
    rng = random.Random(seed)
    rows = [";".join(cmi_import.COLUMNS)]
    number, card, family = 1000, 10**15, 0
    while len(rows) <= count:
        number += 1
        postcode, city = rng.choice(CITIES)
        last = rng.choice(LAST)
        child = rng.random() < 0.2
        if child:
            family += 1
        for _sibling in range(2 if child else 1):
            if _sibling:
                number += 1
            first = rng.choice(FIRST)
            born = date(2015, 1, 1) if child else date(rng.randint(1940, 2000), 5, 17)
            representative = (
                [f"R{family}", last, rng.choice(FIRST), f"parent{family}@example.org"]
                if child
                else ["", "", "", ""]
            )
            for mention in ("Invalidité", "Stationnement")[: 1 + (number % 3 == 0)]:
                card += 1
                rows.append(
                    ";".join(
                        [
                            str(number),
                            "physique",
                            last,
                            first,
                            born.strftime("%d/%m/%Y"),
                            "" if child else f"p{number}@example.org",
                            "",
                            "",
                            f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                            "",
                            postcode,
                            city,
                            "France",
                            *representative,
                            f"{card:016d}",
                            mention,
                            "besoin d'accompagnement" if number % 7 == 0 else "",
                            "01/01/2024",
                            "" if number % 5 == 0 else "31/12/2033",
                            "",
                            "",
                            "0",
                        ]
                    )
                )
    return rows[: count + 1]


class PeakMemory:
    """The highest memory of this process, of its largest child and of the whole tree,
    sampled every 50 ms while the block runs (MB). Each process counts its own pages and
    its share of those it shares (PSS): a child just forked, before it runs its own
    program, shares all of its parent's, and its RSS would count them twice."""

    def __init__(self) -> None:
        self.self_mb = self.child_mb = self.total_mb = 0.0
        self._done = threading.Event()

    @staticmethod
    def _size(process: psutil.Process) -> float:
        try:
            return process.memory_full_info().pss / 2**20
        except psutil.Error:
            return 0.0

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._done.wait(0.05):
            mine = self._size(me)
            children = [self._size(c) for c in me.children(recursive=True)]
            self.self_mb = max(self.self_mb, mine)
            self.child_mb = max(self.child_mb, max(children, default=0))
            self.total_mb = max(self.total_mb, mine + sum(children))

    def __enter__(self) -> PeakMemory:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()


def run(url: str, text: str, label: str, letters: bool) -> dict:
    app = create_app(
        {
            "DATABASE_URL": url,
            "TESTING": True,
            "PUBLIC_URL": "https://cmi.example.org",
            "SECRET_KEY": "the-benchmarks-own-secret-key",
        }
    )
    create_tables()
    with PeakMemory() as memory:
        started = time.perf_counter()
        extract = cmi_import.read(text)
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        first = cmi_import.write(extract)
        first_s = time.perf_counter() - started
        del extract
    started = time.perf_counter()
    second = cmi_import.write(cmi_import.read(text))
    second_s = time.perf_counter() - started
    result = {
        "label": label,
        "rows": first.rows,
        "read": read_s,
        "first": first_s,
        "total": read_s + first_s,
        "second": second_s,
        "changed_second": sum(second.created.values()) + sum(second.updated.values()),
        "accounts": first.created.get("accounts", 0),
        "import_mb": memory.self_mb,
    }
    if letters:
        with tempfile.TemporaryDirectory() as folder, PeakMemory() as memory:
            started = time.perf_counter()
            printed = print_letters(app, Path(folder))
            letters_s = time.perf_counter() - started
            size = sum(p.stat().st_size for p in Path(folder).glob("*.pdf"))
        assert not printed.failed, printed.summary
        result |= {
            "letters": printed.letters,
            "files": len(printed.files),
            "letters_s": letters_s,
            "letters_per_s": printed.letters / letters_s if letters_s else 0,
            "pdf_mb": size / 2**20,
            "letters_mb": memory.total_mb,
            "letters_self_mb": memory.self_mb,
            "letters_child_mb": memory.child_mb,
        }
    if not database.is_closed():
        database.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--skip-letters", action="store_true", help="the import alone")
    args = parser.parse_args(argv)
    text = "\r\n".join(extract_rows(args.rows)) + "\r\n"
    results = []
    letters = not args.skip_letters  # on the first database only: they cost the same on both
    with tempfile.TemporaryDirectory() as folder:
        if args.database in ("sqlite", "both"):
            results.append(run(sqlite_url(Path(folder), "import.sqlite3"), text, "SQLite", letters))
            letters = False
        if args.database in ("postgresql", "both"):
            url = postgres_url("cmi_bench_import")
            if url is None:
                print("PostgreSQL not reachable: skipped")
            else:
                results.append(run(url, text, "PostgreSQL", letters))
    print(
        f"{'database':<11} {'rows':>7} {'read':>6} {'import':>7} {'total':>7} "
        f"{'again':>6} {'changed':>7} {'accounts':>8} {'memory':>7}  verdict"
    )
    failed = False
    for r in results:
        ok = r["total"] < TARGET_SECONDS or r["label"] != "SQLite"
        failed |= not ok
        print(
            f"{r['label']:<11} {r['rows']:>7} {r['read']:>5.1f}s {r['first']:>6.1f}s "
            f"{r['total']:>6.1f}s {r['second']:>5.1f}s {r['changed_second']:>7} "
            f"{r['accounts']:>8} {r['import_mb']:>5.0f}MB  "
            + (("OK" if ok else "OVER") + f" (target < {TARGET_SECONDS} s on SQLite)")
        )
    for r in results:
        if "letters" in r:
            print(
                f"Letters ({r['label']}, {os.cpu_count()} printing processes): {r['letters']} "
                f"letters in {r['files']} files, {r['pdf_mb']:.0f} MB of PDF, in "
                f"{r['letters_s']:.0f} s = {r['letters_per_s']:.1f} letters/s for the whole run; "
                f"peak memory {r['letters_mb']:.0f} MB in all (this process "
                f"{r['letters_self_mb']:.0f} MB, the largest printing process "
                f"{r['letters_child_mb']:.0f} MB)"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
