"""The protocol split: disjoint parts, strata kept, per-seed subsets inside the train pool, the shipped ELPV file."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from augbench.classify.protocol import Item, check_protocol_split, load_protocol, make_protocol_split
from augbench.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def _items(n_major: int = 120, n_minor: int = 60) -> list[Item]:
    out = [Item(f"n/{i:03d}.png", "normal", "mono" if i % 3 == 0 else "poly") for i in range(n_major)]
    out += [Item(f"d/{i:03d}.png", "defect", "mono" if i % 2 == 0 else "poly") for i in range(n_minor)]
    return out


def _split(**kw):
    args = dict(minority="defect", n_test=10, n_val=6, n_oracle=12, n_major=40, n_minor=15, seeds=[0, 1, 2])
    args.update(kw)
    return make_protocol_split(_items(), **args)


def test_parts_are_disjoint_and_sized() -> None:
    s = _split()
    assert check_protocol_split(s) == []
    assert {c: len(v) for c, v in s["test"].items()} == {"defect": 10, "normal": 10}
    assert len(s["oracle_pool"]["defect"]) == 12 and s["oracle_pool"]["normal"] == []
    assert len(s["train_pool"]["defect"]) == 60 - 10 - 6 - 12
    for sub in s["subsets"].values():
        assert (len(sub["normal"]), len(sub["defect"])) == (40, 15)
    assert s["subsets"]["0"]["normal"] != s["subsets"]["1"]["normal"]  # seeds draw different subsets


def test_strata_are_kept_in_proportion() -> None:
    s = _split(n_test=20)
    strata = Counter(s["strata"][i] for i in s["test"]["normal"])
    assert strata == Counter({"poly": 13, "mono": 7})  # 2/3 poly of 20 by largest remainder


def test_draw_is_a_pure_function_of_items_and_seed() -> None:
    assert _split() == _split()
    assert _split(split_seed=1)["test"] != _split()["test"]


def test_checker_catches_overlap_and_outsiders() -> None:
    s = _split()
    bad = json.loads(json.dumps(s))
    bad["val"]["defect"].append(bad["test"]["defect"][0])
    assert any("test and val" in p for p in check_protocol_split(bad))
    bad = json.loads(json.dumps(s))
    bad["subsets"]["1"]["defect"].append(bad["oracle_pool"]["defect"][0])
    assert any("outside the train pool" in p for p in check_protocol_split(bad))


def test_too_small_a_class_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="only"):
        _split(n_oracle=100)
    with pytest.raises(ConfigError, match="minority"):
        _split(minority="crack")


def test_load_protocol_builds_seed_splits(tmp_path: Path) -> None:
    s = _split()
    (tmp_path / "p.json").write_text(json.dumps(s))
    proto = load_protocol(tmp_path / "p.json", tmp_path / "data")
    sp = proto.split_for(1)
    assert len(sp.train) == 55 and len(sp.val) == 12 and len(sp.test) == 20
    assert {Path(x.path).parent.parent for x in sp.train} == {tmp_path / "data"}
    assert len(proto.oracle()) == 12
    assert Path(s["oracle_pool"]["defect"][0]).stem in proto.generator_forbidden()
    with pytest.raises(ConfigError, match="seed 7"):
        proto.split_for(7)
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ConfigError, match="not a protocol split"):
        load_protocol(tmp_path / "bad.json", tmp_path)


def test_shipped_elpv_split_is_sound() -> None:
    s = json.loads((ROOT / "experiments" / "elpv_split.json").read_text())
    assert check_protocol_split(s) == []
    assert "CC BY-NC-SA 4.0" in s["license"]
    assert {c: len(v) for c, v in s["test"].items()} == {"defect": 150, "normal": 150}
    assert len(s["oracle_pool"]["defect"]) == 300 and len(s["subsets"]) >= 10
    assert all((len(v["normal"]), len(v["defect"])) == (600, 150) for v in s["subsets"].values())
