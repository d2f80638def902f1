"""Import benchmark: a national per-commune file (every reference commune).

Generates an ANCT-style per-commune CSV (cp1252, ``;``, codes stored as
numbers) that assigns every commune of the reference to a synthetic
territory, then times validation and a full import into a temporary dataset.
Prints the timings; the target is at most 5 s for the import.

Run: ``.venv/bin/python benchmarks/bench_import.py``
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tdi_geo.importers import import_files, validate_files  # noqa: E402
from tdi_geo.importers._checks import load_reference  # noqa: E402

EPCI_PER_TERRITORY = 4


def make_national_file(path: Path) -> int:
    """Write the file; returns its number of rows."""
    communes = load_reference().communes
    epcis = sorted(communes["epci_siren"].dropna().unique())
    territory = {e: f"{i // EPCI_PER_TERRITORY:04d}TI01" for i, e in enumerate(epcis)}
    # Communes outside any EPCI (four islands) become single-commune territories.
    key = communes["epci_siren"].map(territory).fillna("ILE" + communes["insee_com"])
    rows = pd.DataFrame(
        {
            "insee_com": communes["insee_com"].str.lstrip("0"),
            "lib_com": communes["name"],
            "id_ti": key,
            "lib_ti": "Territoire synthétique " + key,
        }
    )
    path.write_bytes(rows.to_csv(sep=";", index=False, lineterminator="\r\n").encode("cp1252", errors="replace"))
    return len(rows)


def main() -> None:
    load_reference()  # the reference is loaded once per process; keep it out of the timings
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = tmp / "base"
        base.mkdir()
        source = tmp / "tdi_communes_2023-06-01.csv"
        start = time.perf_counter()
        rows = make_national_file(source)
        print(f"fichier généré : {rows} lignes, {source.stat().st_size / 1e6:.1f} Mo "
              f"en {time.perf_counter() - start:.2f} s")

        start = time.perf_counter()
        reports = validate_files([source], base_dataset=base)
        elapsed = time.perf_counter() - start
        print(f"validation : {elapsed:.2f} s ({len(reports[0].errors)} erreur(s)) — {reports[0].summary}")

        for run in (1, 2, 3):
            start = time.perf_counter()
            import_files([source], tmp / f"out{run}", base_dataset=base)
            print(f"import n°{run} : {time.perf_counter() - start:.2f} s (objectif ≤ 5 s)")

        # What a user waits for: a fresh process, reference loading included.
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "tdi_geo", "import", str(source), "--out", str(tmp / "cli"),
             "--dataset", str(base)],
            cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True,
        )
        print(f"python -m tdi_geo import (processus neuf) : {time.perf_counter() - start:.2f} s, "
              f"code de sortie {done.returncode}")


if __name__ == "__main__":
    main()
