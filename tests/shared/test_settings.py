import pytest

from shared.settings import LoraSettings


def test_defaults_are_valid_and_round_trip():
    settings = LoraSettings()
    assert LoraSettings.from_dict(settings.to_dict()) == settings


@pytest.mark.parametrize("field,value,message", [
    ("r", 0, "r must be >= 1"), ("dropout", 1.0, "dropout"), ("lr", 0, "lr must be > 0"),
    ("epochs", 0, "epochs"), ("batch_size", 0, "batch_size"), ("max_length", 4, "max_length"),
    ("warmup_ratio", 1.5, "warmup_ratio"), ("target_modules", [], "target_modules"),
])
def test_bad_values_name_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        LoraSettings(**{field: value})
