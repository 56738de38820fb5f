"""The ``lorasuite`` command as a whole: version, config check/show, the core training verbs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from apps.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_version_and_help_do_not_import_torch():
    code = ("import sys; from apps.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "print('torch' in sys.modules, 'gradio' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.stdout.startswith("lorasuite ") and out.stdout.strip().endswith("False False"), out.stderr


def test_config_check_and_show(tmp_path, capsys, monkeypatch):
    good = tmp_path / "good.toml"
    good.write_text('[auth]\nadmin_password = "a-very-long-secret"\n[sentiment.smtp]\npassword = "smtp-secret"\n')
    assert main(["config", "check", "--file", str(good)]) == 0
    out = capsys.readouterr().out
    assert 'admin_password = "***"' in out and "a-very-long-secret" not in out and "smtp-secret" not in out
    bad = tmp_path / "bad.toml"
    bad.write_text('[support]\nslots = "sometimes"\n')
    assert main(["config", "check", "--file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "[support] slots" in err
    monkeypatch.setenv("LORASUITE_CONFIG", str(bad))
    assert main(["config", "check"]) == 2  # the file LORASUITE_CONFIG names
    assert main(["config", "show"]) == 0  # defaults need no file
    assert "[learning]" in capsys.readouterr().out
    monkeypatch.setenv("LORASUITE_CONFIG", str(tmp_path / "missing.toml"))
    assert main(["config", "check"]) == 2 and "config file not found" in capsys.readouterr().err


def test_train_biencoder_from_pairs(tmp_path, tiny_bert, capsys):
    pairs = tmp_path / "pairs.csv"
    rows = [("lost card", "Freeze a lost card in the app"), ("top up", "Add money by bank transfer"),
            ("exchange rate", "We use the interbank rate"), ("pin blocked", "Unblock your PIN at an ATM")] * 3
    pairs.write_text("query,positive\n" + "".join(f"{q},{p}\n" for q, p in rows))
    assert main(["train", "biencoder", "--data", str(pairs), "--name", "pairs", "--model", tiny_bert,
                 "--epochs", "1", "--batch-size", "4", "--max-length", "16"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["adapter"] == "core/pairs" and Path(printed["path"], "adapter_model.safetensors").exists()
    empty = tmp_path / "empty.csv"
    empty.write_text("query,positive\nx,\n")
    assert main(["train", "biencoder", "--data", str(empty), "--name", "p2", "--model", tiny_bert]) == 2
    assert "row 2" in capsys.readouterr().err
