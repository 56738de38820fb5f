"""The suite's configuration: one TOML file, typed and validated once per process, passed down.

The core sections are modelled here (``[suite]``, ``[auth]``, ``[storage]``, ``[model]``,
``[learning]``); each app brings the model of its own ``[<app>]`` section through its
``AppSpec.settings``, so a plugin app is configured like a built-in one. Unknown keys and
wrong types are errors naming the file, the ``[section] key`` and why. Every key is documented
in ``deploy/config.example.toml``; ``lorasuite config show`` prints the defaults, ``lorasuite
config check [--file F]`` validates a file and prints the effective values, secrets masked.

Where: ``--file`` > ``$LORASUITE_CONFIG`` > ``$LORASUITE_HOME/config.toml`` > defaults. The
environment wins over the file: ``LORASUITE_ADMIN_USER`` / ``LORASUITE_ADMIN_PASSWORD``,
``LORASUITE_DB_URL``, ``LORASUITE_SCHEDULER`` (1|0|auto), ``LORASUITE_PRODUCTION`` (1|0),
``LORASUITE_HOME``, ``LORASUITE_DATA``, ``LORASUITE_METRICS_TOKEN``.

    config = load_config(specs=discover())
    config.suite.port, config.app("support").intent_adapter
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from shared.errors import LorasuiteError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


class Section(BaseModel):
    """A config table: unknown keys are errors, values are checked on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)


class SuiteSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    apps: list[str] | None = None  # None: every installed app
    production: bool = False
    home: str = ""  # state directory; LORASUITE_HOME wins; empty: ./var
    data_dir: str = ""  # shipped data folder; LORASUITE_DATA wins; empty: the package's data/
    scheduler: Literal["1", "0", "auto"] = "1"  # whether this process runs scheduled work
    cors_origins: list[str] = []  # origins besides the suite's own that browsers may call from
    max_upload_mb: float = Field(5.0, gt=0)
    metrics_token: SecretStr = SecretStr("")  # when set, /metrics needs "Authorization: Bearer <token>"


class AuthSettings(Section):
    admin_user: str = ""  # empty: "admin"
    admin_password: SecretStr = SecretStr("")
    session_hours: float = Field(12.0, gt=0)
    max_failures: int = Field(10, ge=1, le=10)  # consecutive wrong passwords per client before 429
    lockout_seconds: float = Field(60.0, ge=60)  # first lockout; doubles on each repeat


class StorageSettings(Section):
    db_url: SecretStr = SecretStr("")  # empty: SQLite in the home; LORASUITE_DB_URL wins


class ModelSettings(Section):
    base: str = "minilm"


class LearningSettings(Section):
    schedule: str = ""  # cron ("0 3 * * *"); empty: no scheduled retraining
    min_new_labels: int = Field(50, ge=1)
    max_regression: float = Field(0.01, ge=0, le=1)  # macro-F1 the challenger may lose on old data
    holdout: float = Field(0.2, gt=0, lt=1)  # share of new labels held back for evaluation
    new_label_weight: float = Field(0.0, ge=0)  # new labels vs replayed old rows per epoch; 0: the default (0.5)
    threads: int = Field(1, ge=1)  # torch threads of the training child process
    epochs: int = Field(2, ge=1, le=100)  # passes over (new labels + a replayed sample of the old data)
    lr: float = Field(5e-4, gt=0, le=0.1)  # peak learning rate of a retrain (warm start from the champion)
    drift_threshold: float = Field(0.25, gt=0)


CORE = {"suite": SuiteSettings, "auth": AuthSettings, "storage": StorageSettings, "model": ModelSettings,
        "learning": LearningSettings}
SECRETS_ENV = {("auth", "admin_user"): "LORASUITE_ADMIN_USER", ("auth", "admin_password"): "LORASUITE_ADMIN_PASSWORD",
               ("storage", "db_url"): "LORASUITE_DB_URL", ("suite", "scheduler"): "LORASUITE_SCHEDULER",
               ("suite", "production"): "LORASUITE_PRODUCTION", ("suite", "home"): "LORASUITE_HOME",
               ("suite", "data_dir"): "LORASUITE_DATA", ("suite", "metrics_token"): "LORASUITE_METRICS_TOKEN"}


@dataclass
class Config:
    """The validated configuration: core sections as attributes, app sections by name."""

    suite: SuiteSettings = field(default_factory=SuiteSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    learning: LearningSettings = field(default_factory=LearningSettings)
    apps: dict[str, Section] = field(default_factory=dict)
    path: Path | None = None

    @property
    def production(self) -> bool:
        return self.suite.production

    def app(self, name: str) -> Any:
        """The settings of ``[name]`` (that app's model; its defaults when the table is absent)."""
        if name not in self.apps:
            raise LorasuiteError(f"no settings for app {name!r}; known: {', '.join(self.apps) or 'none'}")
        return self.apps[name]

    def db_url(self) -> str:
        from shared.home import db_url

        return self.storage.db_url.get_secret_value() or db_url()

    def apply_paths(self) -> None:
        """Make the configured home and data folders those of this process (the env still wins)."""
        for key, env in (("home", "LORASUITE_HOME"), ("data_dir", "LORASUITE_DATA")):
            value = getattr(self.suite, key)
            if value and not os.environ.get(env):
                os.environ[env] = value
        if self.storage.db_url.get_secret_value() and not os.environ.get("LORASUITE_DB_URL"):
            os.environ["LORASUITE_DB_URL"] = self.storage.db_url.get_secret_value()

    def as_dict(self, masked: bool = True) -> dict[str, Any]:
        """Every effective value (secrets as ``***`` when set and ``masked``), TOML-ready."""
        out = {name: _dump(getattr(self, name), masked) for name in CORE}
        out.update({name: _dump(section, masked) for name, section in self.apps.items()})
        return out


def _dump(section: BaseModel, masked: bool) -> dict[str, Any]:
    def clean(value: Any) -> Any:
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            return ("***" if secret else "") if masked else secret
        if isinstance(value, BaseModel):
            fields = type(value).model_fields
            return {(f.alias or k): clean(getattr(value, k)) for k, f in fields.items() if getattr(value, k) is not None}
        if dataclasses.is_dataclass(value):
            return clean(dataclasses.asdict(value))
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        return value
    return clean(section)


def config_path() -> Path:
    from shared.home import home

    return Path(os.environ.get("LORASUITE_CONFIG") or home() / "config.toml")


def load_config(path: str | Path | None = None, specs: list | None = None) -> Config:
    """Read, override from the environment and validate; a missing default file = all defaults."""
    explicit = path is not None or bool(os.environ.get("LORASUITE_CONFIG"))
    path = Path(path) if path is not None else config_path()
    raw: dict[str, Any] = {}
    if path.exists():
        raw = _read_toml(path)
    elif explicit:
        raise LorasuiteError(f"{path}: config file not found (set LORASUITE_CONFIG or --file to an existing file)")
    return validate(raw, path if path.exists() else None, specs)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise LorasuiteError(f"{path}: not valid TOML ({err})") from err
    except OSError as err:
        raise LorasuiteError(f"{path}: cannot be read ({err})") from err


def validate(raw: dict[str, Any], path: Path | None = None, specs: list | None = None) -> Config:
    """A Config from parsed TOML (plus the environment); errors name the file, section and key."""
    where = str(path) if path else "configuration"
    raw = _with_env(dict(raw))
    app_models = {spec.name: spec.settings for spec in specs or [] if getattr(spec, "settings", None)}
    aliases = {alias: spec.name for spec in specs or [] for alias in getattr(spec, "aliases", ())}
    sections: dict[str, Any] = {}
    for name, values in raw.items():
        name = aliases.get(name, name)
        if name not in CORE and name not in app_models:
            known = ", ".join(sorted([*CORE, *app_models]))
            raise LorasuiteError(f"{where}: unknown section [{name}] (known: {known})")
        if not isinstance(values, dict):
            raise LorasuiteError(f"{where}: {name} must be a table ([{name}]), not a {type(values).__name__}")
        sections[name] = values
    core = {name: _section(model, sections.get(name, {}), name, where) for name, model in CORE.items()}
    apps = {name: _section(model, sections.get(name, {}), name, where) for name, model in app_models.items()}
    return Config(**core, apps=apps, path=path)


def _section(model: type[BaseModel], values: dict[str, Any], name: str, where: str) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as err:
        raise LorasuiteError(f"{where}: {_explain(err, name)}") from None


def _explain(err: ValidationError, section: str) -> str:
    """``[section.sub] key: why`` for each problem pydantic found."""
    problems = []
    for item in err.errors():
        loc = [str(p) for p in item["loc"]]
        tables = [section] + [p for p in loc[:-1] if not p.isdigit()]
        index = next((int(p) for p in loc[:-1] if p.isdigit()), None)
        label = f"[{'.'.join(tables)}]" + (f" entry {index + 1}" if index is not None else "")
        unknown = item["type"] in ("extra_forbidden", "unexpected_keyword_argument")
        why = "unknown key" if unknown else item["msg"]
        got = "" if unknown else f" (got {item.get('input')!r})"
        problems.append(f"{label} {loc[-1] if loc else ''}: {why}{got}")
    return "; ".join(problems)


def _with_env(raw: dict[str, Any]) -> dict[str, Any]:
    for (section, key), env in SECRETS_ENV.items():
        value = os.environ.get(env)
        if value:
            table = dict(raw.get(section) or {})
            table[key] = value if key != "production" else value.strip().lower() in ("1", "true", "yes")
            raw[section] = table
    return raw


def defaults(specs: list | None = None) -> Config:
    """Every default (no file, no environment)."""
    apps = {spec.name: spec.settings() for spec in specs or [] if getattr(spec, "settings", None)}
    return Config(apps=apps)


def to_toml(values: dict[str, Any]) -> str:
    import tomli_w

    return tomli_w.dumps(values)
