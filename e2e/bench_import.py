"""Benchmark of ``import-cards``: 100,000 rows of a CMI extract, on SQLite and PostgreSQL.

Run with ``python -m e2e.bench_import`` (``--rows N``, ``--database sqlite``).
It writes a made-up extract (about one beneficiary in five a child with a
representative who has two children, one card in three a parking card), then
times reading, the first import, a second import of the same file (nothing to
change) and, apart, the credentials letters (pages per second). The target: the
first import under 60 s on SQLite on a 2-core machine, letters aside.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date
from pathlib import Path

from models import cmi_import, create_tables
from models.shared.db import database, open_database
from views.shared.documents import credentials_letters

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


def run(url: str, text: str, label: str) -> dict:
    open_database(url)
    create_tables()
    started = time.perf_counter()
    extract = cmi_import.read(text)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    first = cmi_import.write(extract)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = cmi_import.write(cmi_import.read(text))
    second_s = time.perf_counter() - started
    sample = first.letters[:2000]
    started = time.perf_counter()
    pdf = credentials_letters(sample, date.today(), "https://cmi.example.org", "Org", "c@x.org")
    letters_s = time.perf_counter() - started
    if not database.is_closed():
        database.close()
    return {
        "label": label,
        "rows": extract.rows,
        "read": read_s,
        "first": first_s,
        "total": read_s + first_s,
        "second": second_s,
        "changed_second": sum(second.created.values()) + sum(second.updated.values()),
        "accounts": first.created.get("accounts", 0),
        "pages_per_s": len(sample) / letters_s if letters_s else 0,
        "pdf_kb": len(pdf) / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args(argv)
    text = "\r\n".join(extract_rows(args.rows)) + "\r\n"
    results = []
    with tempfile.TemporaryDirectory() as folder:
        if args.database in ("sqlite", "both"):
            results.append(run(sqlite_url(Path(folder), "import.sqlite3"), text, "SQLite"))
        if args.database in ("postgresql", "both"):
            url = postgres_url("cmi_bench_import")
            if url is None:
                print("PostgreSQL not reachable: skipped")
            else:
                results.append(run(url, text, "PostgreSQL"))
    print(
        f"{'database':<11} {'rows':>7} {'read':>6} {'import':>7} {'total':>7} "
        f"{'again':>6} {'changed':>7} {'accounts':>8} {'letters/s':>9}  verdict"
    )
    failed = False
    for r in results:
        ok = r["total"] < TARGET_SECONDS or r["label"] != "SQLite"
        failed |= not ok
        print(
            f"{r['label']:<11} {r['rows']:>7} {r['read']:>5.1f}s {r['first']:>6.1f}s "
            f"{r['total']:>6.1f}s {r['second']:>5.1f}s {r['changed_second']:>7} "
            f"{r['accounts']:>8} {r['pages_per_s']:>9.0f}  "
            + (("OK" if ok else "OVER") + f" (target < {TARGET_SECONDS} s on SQLite)")
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
