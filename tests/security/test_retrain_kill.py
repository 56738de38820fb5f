"""A retrain killed midway (SIGKILL) leaves no version, no half folder and the same champion."""

import json
import os
import signal
import subprocess
import sys
import time

from shared import registry
from tests.retrain_helpers import make_champion, rows, write_csv


def test_sigkill_mid_retrain_leaves_no_version_and_the_champion_unchanged(tiny_bert, tmp_path, lorasuite_home):
    make_champion(tiny_bert, tmp_path)
    (lorasuite_home / "config.toml").write_text('[sentiment]\ndemo_feeds = false\n[learning]\nepochs = 100\n')
    env = dict(os.environ, LORASUITE_HOME=str(lorasuite_home))
    labelled = write_csv(tmp_path / "new.csv", rows(60, 5, ["guidance", "dividend", "tender"]))
    subprocess.run([sys.executable, "-m", "apps", "sentiment", "relabel", "--input", str(labelled)], env=env,
                   check=True, capture_output=True)
    state_before = (lorasuite_home / "adapters" / "sentiment" / "tiny" / "state.json").read_text()
    proc = subprocess.Popen([sys.executable, "-m", "apps", "retrain", "sentiment", "--name", "tiny", "--report",
                             str(tmp_path / "R.json")], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 180
    for line in proc.stderr:  # the plan line comes right before training starts
        if "estimated" in line or time.time() > deadline:
            break
    time.sleep(3.0)
    assert proc.poll() is None, "the retrain ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    folder = lorasuite_home / "adapters" / "sentiment" / "tiny"
    assert [v.version for v in registry.versions("sentiment", "tiny")] == [1]
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["state.json", "v1"]
    assert (folder / "state.json").read_text() == state_before
    assert registry.resolve("sentiment/tiny").version == 1
    assert not (tmp_path / "R.json").exists()
    assert json.loads(state_before)["champion"] == 1
