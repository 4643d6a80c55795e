"""A split protocol that can see a gain: fixed val/test, a train pool, an oracle pool, per-seed subsets.

Issue 15's review found the old ELPV experiment privileged the generator (it
learned from 616 real defects while the classifier trained on 150) and let seed
noise swamp the effects. This module writes one JSON file that every party
reads, so the rules hold by construction:

* ``val`` and ``test`` are fixed (balanced per class) and never touch a generator
  (neither as a translated source nor as a training target);
* ``train_pool`` is where each seed's training subset comes from; a generator
  may learn only from the subset of the seed it generates for;
* ``oracle_pool`` holds real minority images that no generator and no
  classifier training subset ever sees: the oracle arm adds N of them, the
  ceiling a perfect generator could reach;
* ``subsets[seed]`` = the seed's ``n_major`` majority and ``n_minor`` minority
  training images, drawn from ``train_pool`` with that seed.

Strata (e.g. ELPV's mono/poly cell type) are kept in proportion in every part.
The draw is a pure function of the item list and the seed, so it can be
checked and rebuilt.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from augbench.classify.data import Sample, Split
from augbench.core.errors import ConfigError


@dataclass(frozen=True)
class Item:
    """One labelled image: a stable id (relative path), its class and a stratum (sub-type, may be '')."""

    id: str
    cls: str
    stratum: str = ""


def _stratified_take(items: list[Item], n: int, rng: np.random.Generator) -> tuple[list[Item], list[Item]]:
    """Take ``n`` items keeping strata in proportion (largest remainder); returns (taken, rest)."""
    if n > len(items):
        raise ConfigError("split", f"asked for {n} images of class {items[0].cls if items else '?'}, "
                                   f"only {len(items)} left")
    by: dict[str, list[Item]] = defaultdict(list)
    for it in items:
        by[it.stratum].append(it)
    keys = sorted(by)
    exact = {k: n * len(by[k]) / len(items) for k in keys}
    quota = {k: int(exact[k]) for k in keys}
    for k in sorted(keys, key=lambda k: (quota[k] - exact[k], k))[: n - sum(quota.values())]:
        quota[k] += 1
    taken, rest = [], []
    for k in keys:
        group = sorted(by[k], key=lambda it: it.id)
        order = rng.permutation(len(group))
        taken += [group[i] for i in order[: quota[k]]]
        rest += [group[i] for i in order[quota[k]:]]
    return sorted(taken, key=lambda it: it.id), sorted(rest, key=lambda it: it.id)


def make_protocol_split(
    items: Sequence[Item],
    *,
    minority: str,
    n_test: int,
    n_val: int,
    n_oracle: int,
    n_major: int,
    n_minor: int,
    seeds: Sequence[int],
    split_seed: int = 0,
) -> dict[str, Any]:
    """The fixed split plus per-seed training subsets (see the module docstring).

    ``n_test``/``n_val`` are per class; ``n_oracle`` counts minority images only.
    Raises ConfigError when a class is too small for what is asked.
    """
    classes = sorted({it.cls for it in items})
    if minority not in classes:
        raise ConfigError("minority", f"{minority!r} is not one of the classes {classes}")
    if len(classes) != 2:
        raise ConfigError("split", f"the protocol compares a majority with one minority class; got {classes}")
    major = next(c for c in classes if c != minority)
    rng = np.random.default_rng([split_seed, 15])
    parts: dict[str, dict[str, list[str]]] = {k: {} for k in ("test", "val", "oracle_pool", "train_pool")}
    pool: dict[str, list[Item]] = {}
    for cls in classes:
        rest = sorted((it for it in items if it.cls == cls), key=lambda it: it.id)
        test, rest = _stratified_take(rest, n_test, rng)
        val, rest = _stratified_take(rest, n_val, rng)
        oracle: list[Item] = []
        if cls == minority:
            oracle, rest = _stratified_take(rest, n_oracle, rng)
        parts["test"][cls] = [it.id for it in test]
        parts["val"][cls] = [it.id for it in val]
        parts["oracle_pool"][cls] = [it.id for it in oracle]
        parts["train_pool"][cls] = [it.id for it in rest]
        pool[cls] = rest
    subsets: dict[str, dict[str, list[str]]] = {}
    for seed in seeds:
        srng = np.random.default_rng([split_seed, 15, int(seed)])
        major_take, _ = _stratified_take(pool[major], n_major, srng)
        minor_take, _ = _stratified_take(pool[minority], n_minor, srng)
        subsets[str(int(seed))] = {major: [it.id for it in major_take], minority: [it.id for it in minor_take]}
    strata = {it.id: it.stratum for it in items}
    return {
        "classes": classes, "majority": major, "minority": minority, "split_seed": split_seed,
        "sizes": {"n_test_per_class": n_test, "n_val_per_class": n_val, "n_oracle": n_oracle,
                  "n_major": n_major, "n_minor": n_minor},
        **parts, "subsets": subsets,
        "strata": {k: strata[k] for k in sorted(strata)},
    }


def check_protocol_split(split: dict[str, Any]) -> list[str]:
    """Every violation of the protocol's disjointness rules (empty = sound)."""
    problems = []
    sets = {k: {i for files in split[k].values() for i in files} for k in ("test", "val", "oracle_pool", "train_pool")}
    names = list(sets)
    for a_i, a in enumerate(names):
        for b in names[a_i + 1:]:
            both = sets[a] & sets[b]
            if both:
                problems.append(f"{a} and {b} share {len(both)} images, e.g. {sorted(both)[0]}")
    for seed, sub in split["subsets"].items():
        for files in sub.values():
            outside = set(files) - sets["train_pool"]
            if outside:
                problems.append(f"subset {seed} uses {len(outside)} images outside the train pool")
    return problems


@dataclass(frozen=True)
class Protocol:
    """A loaded protocol split whose ids are paths relative to ``root`` (see the module docstring)."""

    root: Path
    data: dict[str, Any]

    @property
    def classes(self) -> list[str]:
        return list(self.data["classes"])

    @property
    def minority(self) -> str:
        return str(self.data["minority"])

    def _samples(self, files: dict[str, list[str]]) -> list[Sample]:
        idx = {c: i for i, c in enumerate(self.classes)}
        return [Sample(str(self.root / f), idx[c]) for c in self.classes for f in files.get(c, [])]

    def seeds(self) -> list[int]:
        return sorted(int(k) for k in self.data["subsets"])

    def split_for(self, seed: int) -> Split:
        """Train = the seed's subset; val and test = the fixed parts."""
        sub = self.data["subsets"].get(str(int(seed)))
        if sub is None:
            raise ConfigError("seeds", f"the protocol split has no training subset for seed {seed}; "
                                       f"it has seeds {self.seeds()[:5]}...")
        return Split(self.classes, self._samples(sub), self._samples(self.data["val"]),
                     self._samples(self.data["test"]))

    def oracle(self) -> list[Sample]:
        """Real minority images no generator and no training subset sees (the oracle arm's pool)."""
        return self._samples(self.data["oracle_pool"])

    def generator_forbidden(self) -> set[str]:
        """Stems a generator may never see, as source or target: val, test and the oracle pool."""
        return {Path(f).stem for part in ("val", "test", "oracle_pool") for files in self.data[part].values()
                for f in files}


def load_protocol(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> Protocol:
    """Read a protocol split JSON; ConfigError when it is missing, malformed or breaks its own rules."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError("protocol_split", f"cannot read {p}: {exc}") from None
    need = {"classes", "minority", "test", "val", "oracle_pool", "train_pool", "subsets"}
    if not isinstance(data, dict) or not need <= set(data):
        raise ConfigError("protocol_split", f"{p} is not a protocol split (needs keys {sorted(need)})")
    problems = check_protocol_split(data)
    if problems:
        raise ConfigError("protocol_split", f"{p}: {problems[0]}")
    return Protocol(Path(root), data)


__all__ = ["Item", "Protocol", "check_protocol_split", "load_protocol", "make_protocol_split"]
