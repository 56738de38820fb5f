"""Faults that must lose nothing: a training process killed with SIGKILL leaves no half adapter."""

import os
import signal
import subprocess
import sys
import time

from apps.cli import main
from shared import adapters

ROWS = "".join(f"{t} {i},{label}\n" for i in range(40) for t, label in (("shares soar", "pos"), ("stock sinks", "neg")))


def test_sigkill_during_training_leaves_no_adapter_and_restart_is_clean(tmp_path, tiny_bert, lorasuite_home):
    data = tmp_path / "train.csv"
    data.write_text("text,label\n" + ROWS)
    cmd = [sys.executable, "-m", "apps", "train", "classify", "--data", str(data), "--name", "killed",
           "--model", tiny_bert, "--epochs", "200", "--batch-size", "4", "--max-length", "16"]
    env = dict(os.environ, LORASUITE_HOME=str(lorasuite_home), LORASUITE_PROGRESS="1")  # bars on in a pipe
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    for line in proc.stderr:  # wait until it is really training (the loop logs its progress bar)
        if "classify" in line or time.time() > deadline:
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    home = [a for a in adapters.list_adapters() if a["source"] == "home"]
    assert home == []
    assert main(["train", "classify", "--data", str(data), "--name", "killed", "--model", tiny_bert,
                 "--epochs", "1", "--batch-size", "16", "--max-length", "16"]) == 0
    assert [a["name"] for a in adapters.list_adapters() if a["source"] == "home"] == ["killed"]
