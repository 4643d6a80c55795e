"""Every tab's model works with PyQt5 unavailable: the state and the decisions of a tab live outside Qt.

The models (``augbench.gui.<tab>.model``) are imported and driven in a child process whose import
system refuses PyQt5 (the blocker of tests/core/test_core_boundary.py); import-linter forbids the
same statically. A view module, imported the same way, fails: the blocker really bites.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The Label tab's model is augbench.label.model (outside gui: the CLI's label jobs share it).
MODELS = ["augbench.gui.augment.model", "augbench.gui.crawl.model", "augbench.gui.style.model", "augbench.label.model"]

CHECK = '''
from augbench.core.dataset import scan_dataset
from augbench.core.errors import AugbenchError, ConfigError
from augbench.core.paths import sample_dataset_dir
from augbench.gui.augment.model import AugmentModel, ExportSettings
from augbench.gui.crawl.model import CrawlForm, visible_rows
from augbench.gui.style.model import StyleModel

m = AugmentModel()
try:
    m.build_job(ExportSettings(out_dir="elsewhere"))
    raise SystemExit("a job without a data set was built")
except AugbenchError as exc:
    assert "data set" in str(exc), exc
m.use_dataset(scan_dataset(sample_dataset_dir()))
assert m.enable("HorizontalFlip", True) and m.enable("Affine", True) and not m.enable("Affine", True)
assert m.move(1, -1) and m.order == ["Affine", "HorizontalFlip"] and not m.move(0, -1)
out = m.default_output("")
assert out.endswith("_augmented") and m.default_output("/my/choice") == "/my/choice", out
job = m.build_job(ExportSettings(out_dir=out, copies=2, seed=7))
assert [s["name"] for s in job.steps] == ["Affine", "HorizontalFlip"] and (job.copies, job.seed) == (2, 7), job
m.source = m.load_source(m.info.items[0], max_side=64)
req = m.preview_request(3, 0.2, True)
assert req is not None and (req.n, req.min_visibility, req.force) == (3, 0.2, True)
assert req.steps[0] is not m.steps["Affine"] and req.steps[0].name == "Affine"  # a private copy for the thread
m.enable("Affine", False)
assert m.order == ["HorizontalFlip"] and "Affine" in m.steps  # unticked, its settings kept

form = CrawlForm(keywords_text="cat\\n\\n  dog \\n", out_dir="crawled", api_client_secret="s3cret")
cfg = form.to_config()
assert cfg.keywords == ("cat", "dog") and cfg.out_dir == "crawled", cfg
assert CrawlForm(engine="url_list", urls_text="http://a/1.jpg", out_dir="o").to_config().keywords == ("urls",)
try:
    CrawlForm(formats=(), out_dir="o").to_config()
    raise SystemExit("a crawl with no image format was accepted")
except ConfigError as exc:
    assert exc.field == "formats", exc
saved = form.remembered()
assert "s3cret" not in map(str, saved.values()) and CrawlForm.restored(saved).keyword_list() == ["cat", "dog"]
assert visible_rows("naver_api") == {"api": True, "browser": False, "urls": False}

sm = StyleModel()
assert not sm.ready
items = m.info.items
sm.load_content(items[0].image)
sm.add_style(items[1].image, weight=0.0)
assert sm.content is not None and not sm.ready  # a style of weight 0 styles nothing
sm.styles[0].weight = 0.5
assert sm.ready
print("models ok")
'''


def _blocker() -> str:
    spec = importlib.util.spec_from_file_location("core_boundary", ROOT / "tests" / "core" / "test_core_boundary.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.BLOCKER


def _run_blocked(tmp_path: Path, *modules: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    return subprocess.run([sys.executable, "-c", _blocker(), *modules], capture_output=True, text=True, timeout=300,
                          env=env, cwd=ROOT)


def test_every_tab_model_works_without_qt(tmp_path: Path) -> None:
    (tmp_path / "qt_free_check.py").write_text(CHECK, encoding="utf-8")
    out = _run_blocked(tmp_path, *MODELS, "qt_free_check")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "models ok" in out.stdout and out.stdout.strip().endswith("ok")


def test_a_view_does_not_import_without_qt(tmp_path: Path) -> None:
    out = _run_blocked(tmp_path, "augbench.gui.crawl.view")
    assert out.returncode != 0 and "PyQt5 is blocked" in out.stderr
