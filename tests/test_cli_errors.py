"""Every sub-command, a few bad arguments each: one clear line on stderr, exit code 2, never a traceback.

The cases include each one of issue 10 that ended in a traceback: ``-o`` at an existing file, a
50000x50000 PNG, a binary ``--url-file``, a text file as checkpoint, ``gan train --size 0/3``, an
unknown ``--diffaugment`` policy, ``--device cuda`` without a GPU, and a bad transform parameter
with more than one worker (``BrokenProcessPool``). A test walks the parser so that a new
sub-command without cases fails here.
"""

from __future__ import annotations

import argparse
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from augbench.cli import build_parser, main
from augbench.core.imageio import write_image


def _png_header(path: Path, w: int, h: int) -> None:
    """A tiny PNG file that declares ``w`` x ``h`` pixels (a decompression bomb as far as headers go)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16))
                     + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def w(tmp_path_factory) -> Path:
    """One workspace for all cases (created once: the cases only read it or write under new names)."""
    return build_workspace(tmp_path_factory.mktemp("cli_errors"))


def build_workspace(root: Path) -> Path:
    """The files the cases point at (also used by docs/reliability.md's before/after count)."""
    rng = np.random.default_rng(0)
    for cls in ("normal", "defect"):
        for i in range(3):
            write_image(root / "ds" / cls / f"{cls}{i}.png", rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))
    for i in range(6):
        write_image(root / "flat" / f"p{i}.png", rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))
        (root / "flat" / f"p{i}.txt").write_text("0 0.5 0.5 0.2 0.2\n", encoding="utf-8")
    (root / "flat" / "classes.txt").write_text("cat\n", encoding="utf-8")
    (root / "bomb").mkdir()
    _png_header(root / "bomb" / "big.png", 50000, 50000)
    (root / "bomb" / "big.xml").write_text(
        "<annotation><size><width>50000</width><height>50000</height></size><object><name>a</name><bndbox>"
        "<xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object></annotation>", encoding="utf-8")
    (root / "voc").mkdir()
    write_image(root / "voc" / "a.png", np.zeros((20, 30, 3), np.uint8))
    (root / "voc" / "a.xml").write_text(
        "<annotation><size><width>30</width><height>20</height></size><object><name>a</name><bndbox>"
        "<xmin>2</xmin><ymin>2</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object></annotation>", encoding="utf-8")
    (root / "voc" / "annotations.json").write_text(json.dumps({"images": [], "annotations": [], "categories": [],
                                                               "licenses": [{"id": 1}]}), encoding="utf-8")
    (root / "notes.txt").write_text("not a checkpoint, not a job, not a folder\n", encoding="utf-8")
    (root / "urls.bin").write_bytes(bytes(range(256)) * 16)
    (root / "badkind.yaml").write_text("kind: no.such.kind\n", encoding="utf-8")
    (root / "unknown_key.yaml").write_text(f"kind: augment.export\ninput_dir: {root / 'flat'}\noutput_dir: {root / 'o9'}\n"
                                           "steps: [{name: HorizontalFlip}]\nbogus: 1\n", encoding="utf-8")
    (root / "balance_into_data.yaml").write_text(
        f"kind: gan.balance\ndataset: {root / 'ds'}\nout_dir: {root / 'ds'}\nnormal_class: normal\n"
        "defect_classes: [defect]\n", encoding="utf-8")
    (root / "balance_unknown_defect.yaml").write_text(
        f"kind: gan.balance\ndataset: {root / 'ds'}\nout_dir: {root / 'bal'}\nnormal_class: normal\n"
        "defect_classes: [defect]\nsize: 3\n", encoding="utf-8")
    (root / "bench_missing_data.yaml").write_text(
        f"kind: classify.compare\ndata: {root / 'nowhere'}\nout_dir: {root / 'bench'}\n", encoding="utf-8")
    return root


# (sub-command words, argv after them with {w} for the workspace, words expected in the message)
CASES: list[tuple[str, list[str], str]] = [
    ("run", ["{w}/missing.yaml"], "cannot read job file"),
    ("run", ["{w}/notes.txt"], "mapping"),
    ("run", ["{w}/badkind.yaml"], "unknown job kind"),
    ("run", ["{w}/unknown_key.yaml"], "bogus"),
    ("jobs", ["extra"], "unrecognized arguments"),
    ("manifest merge", ["{w}/missing"], "not a folder"),
    ("manifest merge", ["{w}/notes.txt"], "not a folder"),
    ("manifest merge", ["{w}/ds", "--shards", "3"], "no manifest parts"),
    ("run", ["{w}/unknown_key.yaml", "--shards", "2"], "bogus"),
    ("schema", ["no.such.kind"], "unknown job kind"),
    ("augment", ["{w}/flat", "{w}/flat/sub", "-t", "HorizontalFlip"], "inside the input folder"),
    ("augment", ["{w}/flat", "{w}/notes.txt", "-t", "HorizontalFlip"], "existing file"),
    ("augment", ["{w}/flat", "{w}/o1", "-n", "0"], "copies"),
    ("augment", ["{w}/missing", "{w}/o1"], "does not exist"),
    ("augment", ["{w}/notes.txt", "{w}/o1"], "give a folder"),
    ("augment", ["{w}/flat", "{w}/o1", "--pipeline", "{w}/urls.bin"], "not an Albumentations pipeline"),
    ("augment", ["{w}/flat", "{w}/o1", "-t", "NoSuchTransform"], "unknown or unsupported transform"),
    ("augment", ["{w}/flat", "{w}/o1", "-t", "Rotate:limit=[1"], "cannot read the value"),
    ("augment", ["{w}/flat", "{w}/o1", "-n", "6", "--workers", "2", "-t", "Rotate:limit=abc"], "Rotate"),
    ("augment", ["{w}/flat", "{w}/o1", "--copies", "many"], "invalid int value"),
    ("augment", ["{w}/flat", "{w}/o1", "-t", "HorizontalFlip", "--save-job", "{w}/notes.txt"], "not an augbench job"),
    ("demo", ["--out", "{w}/notes.txt"], "notes.txt"),
    ("demo", ["--out", "{w}/demo1", "-n", "0"], "copies"),
    ("labels convert", ["--from", "voc", "--to", "yolo", "{w}/bomb"], "too large"),
    ("labels convert", ["--from", "voc", "--to", "coco", "{w}/voc"], "not written by label.convert"),
    ("labels convert", ["--from", "voc", "--to", "coco", "--coco-file", "{w}/notes.txt", "{w}/voc"], "already exists"),
    ("labels convert", ["--from", "voc", "--to", "voc", "{w}/voc"], "both"),
    ("labels convert", ["--from", "voc", "--to", "yolo", "{w}/missing"], "does not exist"),
    ("labels stats", ["{w}/missing"], "does not exist"),
    ("labels stats", ["{w}/notes.txt"], "give a folder"),
    ("labels stats", ["{w}/voc", "--out", "{w}/notes.txt"], "existing file"),
    ("crawl", ["cats", "-o", "{w}/c1", "--url-file", "{w}/urls.bin"], "not a UTF-8 text file"),
    ("crawl", ["cats", "-o", "{w}/notes.txt", "--url", "http://127.0.0.1:9/a.jpg"], "existing file"),
    ("crawl", ["cats", "-o", "{w}/c2", "-n", "0", "--url", "http://127.0.0.1:9/a.jpg"], "count"),
    ("crawl", ["-o", "{w}/c3"], "keyword"),
    ("crawl", ["cats", "-o", "{w}/c9", "--url", "http://127.0.0.1:9/a.jpg", "--save-job", "{w}/notes.txt"],
     "not an augbench job"),
    ("crawl", ["cats", "-o", "{w}/c4", "--selectors", "{w}/urls.bin"], "not a UTF-8 text"),
    ("crawl-selectors", ["{w}/missing.html"], "neither a URL nor a saved .html file"),
    ("style apply", ["{w}/missing", "--out", "{w}/s1", "--style", "{w}/ds/normal/normal0.png"], "does not exist"),
    ("style apply", ["{w}/ds", "--out", "{w}/ds/styled", "--style", "{w}/ds/normal/normal0.png"], "input folder"),
    ("style apply", ["{w}/ds", "--out", "{w}/s2", "--style", "{w}/ds/normal/normal0.png", "--device", "cuda"],
     "CUDA"),
    ("style apply", ["{w}/ds", "--out", "{w}/s3", "--style", "{w}/ds/normal/normal0.png", "--alpha", "0", "2"],
     "alpha"),
    ("style train-decoder", ["--out", "{w}/t1", "--size", "0"], "size"),
    ("style train-decoder", ["--out", "{w}/notes.txt"], "existing file"),
    ("style train-decoder", ["--out", "{w}/t2", "--device", "cuda"], "CUDA"),
    ("gan train", ["{w}/ds/normal", "{w}/ds/defect", "-o", "{w}/g1", "--size", "0"], "size"),
    ("gan train", ["{w}/ds/normal", "{w}/ds/defect", "-o", "{w}/g1", "--size", "3"], "size"),
    ("gan train", ["{w}/ds/normal", "{w}/ds/defect", "-o", "{w}/g1", "--diffaugment", "nope"], "DiffAugment"),
    ("gan train", ["{w}/ds/normal", "{w}/ds/defect", "-o", "{w}/g1", "--device", "cuda"], "CUDA"),
    ("gan train", ["{w}/ds/normal", "{w}/missing", "-o", "{w}/g1"], "does not exist"),
    ("gan translate", ["{w}/notes.txt", "{w}/ds/normal", "-o", "{w}/tr1"], "not a checkpoint"),
    ("gan translate", ["{w}/notes.txt", "{w}/ds/normal", "-o", "{w}/ds/normal"], "input folder"),
    ("gan translate", ["{w}/notes.txt", "{w}/ds/normal", "-o", "{w}/tr2", "--device", "cuda"], "CUDA"),
    ("gan transplant", ["{w}/ds/normal", "{w}/ds/defect", "-o", "{w}/ds/normal"], "input folder"),
    ("gan transplant", ["{w}/ds/normal", "{w}/missing", "-o", "{w}/tp1"], "does not exist"),
    ("gan transplant", ["{w}/ds/normal", "{w}/ds/defect", "-o", "{w}/tp2", "-n", "0"], "outside the allowed range"),
    ("balance", ["{w}/notes.txt"], "mapping"),
    ("balance", ["{w}/balance_into_data.yaml"], "input folder"),
    ("balance", ["{w}/balance_unknown_defect.yaml"], "size"),
    ("bench run", ["{w}/notes.txt"], "mapping"),
    ("bench run", ["{w}/bench_missing_data.yaml"], "does not exist"),
    ("bench report", ["{w}/nowhere"], "nowhere"),
]


def _leaf_commands(parser: argparse.ArgumentParser, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sp in action.choices.items():
                inner = _leaf_commands(sp, f"{prefix}{name} ")
                out |= inner or {f"{prefix}{name}"}
    return out


def test_every_sub_command_has_bad_argument_cases() -> None:
    covered = {words for words, _, _ in CASES}
    missing = _leaf_commands(build_parser()) - covered
    assert not missing, f"add bad-argument cases for: {sorted(missing)}"


@pytest.mark.parametrize("words, args, expect", CASES, ids=[f"{c[0]}:{' '.join(c[1])[:40]}" for c in CASES])
def test_bad_arguments_give_one_line_and_exit_2(w: Path, capfd, words: str, args: list[str], expect: str) -> None:
    argv = words.split() + [a.replace("{w}", str(w)) for a in args]
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        rc = exc.code
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err, err
    assert rc == 2, f"rc={rc}\n{err}"
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("usage:") and not ln.startswith(" ")]
    assert lines, "no message at all"
    assert len([ln for ln in lines if ln.startswith("augbench")]) == 1, err
    assert expect.lower() in err.lower(), err


def test_debug_shows_the_traceback_of_an_unexpected_error(w: Path, capfd, monkeypatch) -> None:
    import augbench.cli as cli

    def boom(args: argparse.Namespace) -> int:
        raise RuntimeError("something nobody foresaw")

    parser = build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["jobs"].set_defaults(func=boom)  # type: ignore[union-attr]
    assert main(["jobs"]) == 2
    err = capfd.readouterr().err
    assert "Traceback" not in err and "unexpected error: RuntimeError: something nobody foresaw" in err
    assert "--debug" in err
    assert main(["--debug", "jobs"]) == 2
    assert "Traceback" in capfd.readouterr().err
