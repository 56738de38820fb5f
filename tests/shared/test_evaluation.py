from shared.evaluation import classification_report, confusion_png, curve_png, format_report


def test_report_on_a_hand_made_case(tmp_path):
    gold = ["a", "a", "b", "b", "c"]
    pred = ["a", "b", "b", "b", "a"]
    report = classification_report(gold, pred, ["a", "b", "c"])
    assert report["accuracy"] == 0.6
    assert report["per_class"]["b"] == {"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2}
    assert report["per_class"]["c"]["f1"] == 0.0
    assert abs(report["macro_f1"] - (0.5 + 0.8 + 0.0) / 3) < 1e-9
    assert "macro-F1" in format_report(report)
    png = confusion_png(gold, pred, ["a", "b", "c"], tmp_path / "cm.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    curve = curve_png([{"step": 1, "loss": 1.0}, {"step": 2, "loss": 0.5, "dev": 0.7}], tmp_path / "c.png")
    assert curve.stat().st_size > 1000
