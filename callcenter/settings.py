"""Typed settings: an optional YAML file overlaid by ``CALLCENTER_*`` environment variables.

Loaded and validated once; the result is frozen. Errors name the key and where it came
from (the file path or the environment variable), never a secret's value.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from callcenter.errors import ConfigError
from callcenter.ivr.loader import YamlError, YMap, YNode, YSeq, parse_yaml
from callcenter.phone.codes import (
    DEFAULT_CODES,
    DEFAULT_PAUSE_REASONS,
    feature_codes,
    parse_pairs,
)

ENV_PREFIX = "CALLCENTER_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
# read by the CLI only, to work through a remote engine's HTTP API (callcenter/cli/remote.py)
CLI_ONLY = frozenset({"api_url", "api_token"})
# read by FreeSWITCH's side of freeswitch-conf/ only: one environment file serves both
FREESWITCH_ONLY = frozenset(
    {
        "esl_listen_ip",
        "controller_cidr",
        "carrier_cidrs",
        "agents_sip_port",
        "carriers_sip_port",
        "example_agent_password",
        "fs_cdr_url",
        "fs_cdr_err_log_dir",
    }
)
# what `config show` prints for a secret; read back from a file, it is refused unless the
# environment or an option gives that setting (the file does not hold the secret)
MASK = "***"
_NODE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


@dataclass(frozen=True, slots=True)
class ESLNode:
    name: str
    host: str
    port: int = 8021
    password: str = field(default="", repr=False)

    def redacted(self) -> str:
        secret = f":{MASK}@" if self.password else ""
        return f"{self.name}=esl://{secret}{self.host}:{self.port}"

    def document(self, shared_password: str) -> dict[str, Any]:
        """As the settings file lists it; a password that is ``esl_password``'s is left out
        (the node takes it from there), its own one masked."""
        out: dict[str, Any] = {"name": self.name, "host": self.host, "port": self.port}
        if self.password and self.password != shared_password:
            out["password"] = MASK
        return out


@dataclass(frozen=True, slots=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("var")
    database_url: str = ""
    esl_nodes: tuple[ESLNode, ...] = ()
    metrics_listen: Address = Address("127.0.0.1", 9464)
    recordings_dir: Path = Path("")
    dialplans_dir: Path = Path("dialplans")
    spool_dir: Path = Path("")
    log_level: str = "INFO"
    log_format: str = "text"
    esl_command_timeout: float = 10.0
    shutdown_grace: float = 30.0
    # the writer's batching window (seconds): what arrives within it shares one transaction;
    # a full batch or an event a webhook waits for ends it sooner (docs/benchmarks.md)
    writer_window: float = 2.0
    default_route: str = "hangup:UNALLOCATED_NUMBER"
    agents_domain: str = "callcenter"
    # FreeSWITCH's park_timeout (freeswitch-conf reads the same variable): a queue gives up
    # on a caller before it, so the overflow target runs rather than FreeSWITCH's hang-up
    park_timeout: int = 3600
    # the password of every node given without one (FreeSWITCH reads the same variable)
    esl_password: str = field(default="", repr=False)
    # what FreeSWITCH speaks {tts: ...} prompts with when a flow names none (mod_flite's kal)
    tts_engine: str = "flite"
    tts_voice: str = "kal"
    # FreeSWITCH's own CDRs (mod_xml_cdr) posted to /fs/cdr: the basic-auth USER:PASSWORD
    # both sides read (empty: every post is refused), and how long a post waits for the
    # engine's own CDR of the call before it is written in its place
    fs_cdr_credentials: str = field(default="", repr=False)
    fs_cdr_hold: float = 30.0
    # the addresses FreeSWITCH posts from (CIDRs); others get 403 whatever their credentials
    fs_cdr_allow: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    # FreeSWITCH's err-log-dir, when this host sees it: CDRs FreeSWITCH could not post
    # (the engine was down) are imported from it at start and every minute ("": off)
    fs_cdr_import_dir: Path = Path("")
    # webhooks: one POST's deadline; retries from retry_min doubling to retry_max seconds,
    # until the event is retry_for seconds old (then a dead letter)
    webhook_timeout: float = 5.0
    webhook_retry_min: float = 1.0
    webhook_retry_max: float = 600.0
    webhook_retry_for: float = 86_400.0
    # agents' phones (docs/phone.md): feature codes, pause reasons, the *21 PIN lockout
    feature_codes: tuple[tuple[str, str], ...] = DEFAULT_CODES
    pause_reasons: tuple[tuple[str, str], ...] = DEFAULT_PAUSE_REASONS
    pause_default_reason: str = "phone"
    pin_max_failures: int = 5
    pin_lockout_seconds: float = 300.0
    # the number an agent's external calls show when neither the agent nor the route sets one
    outbound_caller_id: str = ""
    # the country national numbers are read in (DIDs, caller IDs, numbers dialled through a
    # trunk without its own country): ISO 3166-1 alpha-2, e.g. DE; "": none (E.164 only)
    default_country: str = ""
    # where a recording is written under recordings_dir (recording.template; the extension
    # names the format FreeSWITCH writes), checked when the settings are read
    recording_template: str = "{date:%Y/%m/%d}/{queue}/{call_uuid}.wav"
    # days a recording in no queue (IVR only, a direct call) keeps its file; 0: kept
    # (a queue's own --keep-days covers its calls; voicemail is never purged)
    recording_keep_days: int = 0
    # the zone reports cut their intervals in, for a queue without its own (docs/kpis.md)
    time_zone: str = "UTC"
    # new sessions a second the engine counts on per FreeSWITCH node: at most this many
    # (0: what the node says, ``fsctl sps``, read at each connect; docs/dialer.md)
    sessions_per_second: int = 0
    source: str = "defaults"
    config_file: Path | None = None

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.redacted().items())
        return f"Settings({shown})"

    def document(self) -> dict[str, Any]:
        """The settings as a file ``--config`` reads back (``config show``): every setting,
        its secrets masked (``MASK``), an unset one ``None`` (null: the default)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("source", "config_file"):
                continue
            if f.name == "database_url":
                value = redact_url(value)
            elif f.name == "esl_nodes":
                value = [node.document(self.esl_password) for node in value]
            elif f.name == "esl_password":
                value = MASK if value else None
            elif f.name == "fs_cdr_credentials":
                value = f"{value.partition(':')[0]}:{MASK}" if value else None
            elif f.name in ("feature_codes", "pause_reasons"):
                value = dict(value)
            elif isinstance(value, Path):
                value = str(value) if value.parts else ""  # "" (off), not "."
            elif isinstance(value, Address):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def redacted(self) -> dict[str, Any]:
        """Everything, safe to print: passwords in URLs and nodes are masked."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "database_url":
                value = redact_url(value)
            elif f.name == "esl_nodes":
                value = [node.redacted() for node in value]
            elif f.name in ("esl_password", "fs_cdr_credentials"):
                value = "***" if value else ""
            elif isinstance(value, Path | Address):
                value = str(value)
            out[f.name] = value
        return out


def _fields() -> dict[str, str]:
    return {
        f.name: f.name
        for f in dataclasses.fields(Settings)
        if f.name not in ("source", "config_file")
    }


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = parts.username or ""
    return url.replace(parts.netloc, f"{user}:***@{netloc[-1]}", 1)


def parse_nodes(text: str, where: str) -> tuple[ESLNode, ...]:
    """``fs1=esl://:secret@10.0.0.5:8021,fs2=esl://:pw@host`` -> nodes."""
    nodes: list[ESLNode] = []
    for chunk in (c.strip() for c in text.split(",")):
        if not chunk:
            continue
        nodes.append(_parse_node(chunk, where))
    _check_unique([n.name for n in nodes], where)
    return tuple(nodes)


def _parse_node(chunk: str, where: str) -> ESLNode:
    name, sep, url = chunk.partition("=")
    if not sep:
        raise ConfigError(f"{where}: node {name!r} must look like NAME=esl://:PASSWORD@HOST:PORT")
    name = name.strip()
    if not _NODE_NAME.match(name):
        raise ConfigError(f"{where}: invalid node name {name!r} (letters, digits, . _ -)")
    parts = urlsplit(url.strip())
    if parts.scheme != "esl" or not parts.hostname:
        raise ConfigError(f"{where}: node {name!r}: expected esl://:PASSWORD@HOST:PORT")
    try:
        port = parts.port or 8021
    except ValueError as exc:
        raise ConfigError(f"{where}: node {name!r}: invalid port") from exc
    password = unquote(parts.password or "")
    return ESLNode(name=name, host=parts.hostname, port=port, password=password)


def _node_from_mapping(item: Any, where: str) -> ESLNode:
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where}: each node must be a mapping with name, host, port, password")
    unknown = set(item) - {"name", "host", "port", "password"}
    if unknown:
        raise ConfigError(f"{where}: unknown node key(s): {', '.join(sorted(map(str, unknown)))}")
    name = item.get("name")
    host = item.get("host")
    if not isinstance(name, str) or not _NODE_NAME.match(name):
        raise ConfigError(f"{where}: node name must be a string of letters, digits, . _ -")
    if not isinstance(host, str) or not host:
        raise ConfigError(f"{where}: node {name!r}: host must be a non-empty string")
    port = _as_port(item.get("port", 8021), f"{where}: node {name!r}: port")
    password = item.get("password", "")
    if not isinstance(password, str):
        raise ConfigError(f"{where}: node {name!r}: password must be a string")
    return ESLNode(name=name, host=host, port=port, password=password)


def _check_unique(names: list[str], where: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ConfigError(f"{where}: node name {name!r} appears twice")
        seen.add(name)


def _as_port(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(f"{where}: expected a port number, got {type(value).__name__}")
    try:
        port = int(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: expected a port number, got {value!r}") from exc
    if not 0 <= port <= 65535:
        raise ConfigError(f"{where}: port {port} out of range 0-65535")
    return port


def parse_address(value: Any, where: str) -> Address:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected HOST:PORT, got {type(value).__name__}")
    host, sep, port = value.rpartition(":")
    if not sep or not host:
        raise ConfigError(f"{where}: expected HOST:PORT, got {value!r}")
    return Address(host.strip("[]"), _as_port(port, where))


def _as_float(value: Any, where: str, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a number, got a boolean")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: expected a number, got {value!r}") from exc
    if number < minimum:
        raise ConfigError(f"{where}: must be at least {minimum}, got {number}")
    return number


def _as_str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {type(value).__name__}")
    if "\x00" in value:
        raise ConfigError(f"{where}: control character U+0000 (NUL) is not allowed")
    return value


def _as_path(value: Any, where: str) -> Path:
    text = _as_str(value, where)
    bad = next((c for c in text if not c.isprintable()), None)
    if bad is not None:
        raise ConfigError(f"{where}: control character U+{ord(bad):04X} in a path")
    return Path(text).expanduser()


def _as_choice(value: Any, where: str, choices: tuple[str, ...], *, upper: bool = False) -> str:
    text = _as_str(value, where)
    text = text.upper() if upper else text.lower()
    if text not in choices:
        raise ConfigError(f"{where}: expected one of {', '.join(choices)}, got {value!r}")
    return text


def _as_cidrs(value: Any, where: str) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise ConfigError(f"{where}: expected CIDRs, comma-separated or a list")
    out = []
    for item in items:
        try:
            out.append(str(ipaddress.ip_network(_as_str(item, where).strip(), strict=False)))
        except ValueError as exc:
            raise ConfigError(f"{where}: {item!r} is not a CIDR ({exc})") from exc
    return tuple(out)


def _as_route(value: Any, where: str) -> str:
    """Checked as `route add` checks a target (queues and flows exist: `config check`)."""
    from callcenter.trunks.targets import InvalidRoute, check_target  # pulls in esl/

    text = _as_str(value, where)
    try:
        return str(check_target(text))
    except InvalidRoute as exc:
        raise ConfigError(f"{where}: {exc.reason}") from exc


def _masked(key: str, value: Any) -> str | None:
    """What of ``value`` is ``config show``'s mask in place of a secret, if any."""
    mask = f"'{MASK}' is the mask `config show` prints"
    if key == "esl_password" and value == MASK:
        return f"{key}: {mask}"
    if key == "fs_cdr_credentials" and isinstance(value, str) and value.endswith(f":{MASK}"):
        return f"{key}: {mask}"
    if key == "database_url" and isinstance(value, str) and urlsplit(value).password == MASK:
        return f"{key}: password {mask}"
    if key == "esl_nodes":
        try:  # a node refused for another reason is reported when the value is read
            nodes = _convert(key, value, key)
        except ConfigError:
            return None
        for node in nodes:
            if node.password == MASK:
                return f"{key}: node {node.name!r}: password {mask}"
    return None


class _Errors:
    """Every invalid setting of one load, reported together."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def check(self, run: Any, *args: Any) -> Any:
        try:
            return run(*args)
        except ConfigError as exc:
            self.messages.append(exc.message)
            return None

    def raise_any(self) -> None:
        if len(self.messages) == 1:
            raise ConfigError(self.messages[0])
        if self.messages:
            lines = "\n".join(f"  {m}" for m in self.messages)
            raise ConfigError(f"{len(self.messages)} invalid settings:\n{lines}")


def _convert(key: str, value: Any, where: str) -> Any:
    if key in ("data_dir", "recordings_dir", "dialplans_dir", "spool_dir", "fs_cdr_import_dir"):
        return _as_path(value, where)
    if key == "database_url":
        url = _as_str(value, where)
        if not url.startswith(("sqlite", "postgresql")):
            raise ConfigError(
                f"{where}: unsupported database {redact_url(url)!r} "
                "(use postgresql+psycopg://... or sqlite:///...)"
            )
        return url
    if key == "esl_nodes":
        if isinstance(value, str):
            return parse_nodes(value, where)
        if isinstance(value, list):
            nodes = tuple(_node_from_mapping(item, f"{where}[{i}]") for i, item in enumerate(value))
            _check_unique([n.name for n in nodes], where)
            return nodes
        raise ConfigError(f"{where}: expected a list of nodes or a NAME=esl://... string")
    if key == "metrics_listen":
        return parse_address(value, where)
    if key == "log_level":
        return _as_choice(value, where, LOG_LEVELS, upper=True)
    if key == "log_format":
        return _as_choice(value, where, LOG_FORMATS)
    if key in ("esl_command_timeout", "shutdown_grace"):
        return _as_float(value, where, minimum=0.1)
    if key == "writer_window":
        number = _as_float(value, where, minimum=0.01)
        if number > 10:
            raise ConfigError(f"{where}: at most 10 seconds (a crash loses a window), got {number}")
        return number
    if key == "default_route":
        return _as_route(value, where)
    if key == "park_timeout":
        number = _as_float(value, where, minimum=0)
        if number != int(number):
            raise ConfigError(f"{where}: expected whole seconds (0: no limit), got {value!r}")
        return int(number)
    if key in ("tts_engine", "tts_voice"):
        text = _as_str(value, where)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", text):
            raise ConfigError(f"{where}: expected a name (letters, digits, _ . -), got {value!r}")
        return text
    if key == "esl_password":
        text = _as_str(value, where)
        if not text:
            raise ConfigError(f"{where}: empty; leave it unset or give it a value")
        return text
    if key == "fs_cdr_credentials":
        text = _as_str(value, where)
        user, sep, password = text.partition(":")
        if not (user and sep and password) or not text.isprintable():
            raise ConfigError(f"{where}: expected USER:PASSWORD (printable, both non-empty)")
        return text
    if key == "fs_cdr_hold":
        return _as_float(value, where, minimum=0)
    if key.startswith("webhook_"):
        return _as_float(value, where, minimum=0.01)
    if key == "fs_cdr_allow":
        return _as_cidrs(value, where)
    if key in ("feature_codes", "pause_reasons"):
        return parse_pairs(value, where)
    if key == "pause_default_reason":
        return _as_str(value, where)
    if key == "recording_keep_days":
        number = _as_float(value, where, minimum=0)
        if number != int(number) or number > 36_500:
            raise ConfigError(f"{where}: expected whole days 0-36500 (0: kept), got {value!r}")
        return int(number)
    if key == "sessions_per_second":
        number = _as_float(value, where, minimum=0)
        if number != int(number):
            raise ConfigError(f"{where}: expected a whole number (0: the node's), got {value!r}")
        return int(number)
    if key == "pin_max_failures":
        number = _as_float(value, where, minimum=1)
        if number != int(number):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return int(number)
    if key == "pin_lockout_seconds":
        return _as_float(value, where, minimum=0)
    if key == "outbound_caller_id":
        text = _as_str(value, where)
        if text and not re.fullmatch(r"\+?[0-9]{1,20}", text):
            raise ConfigError(f"{where}: expected a number (digits, optional +), got {value!r}")
        return text
    if key == "default_country":
        text = _as_str(value, where).upper()
        if text and text not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigError(f"{where}: expected a country code like DE or US, got {value!r}")
        return text
    if key == "recording_template":
        from callcenter.recording.template import parse as parse_template

        return parse_template(_as_str(value, where), where).text
    if key == "time_zone":
        text = _as_str(value, where)
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{where}: not an IANA time zone (e.g. Europe/Paris): {value!r}"
            ) from None
        return text
    if key == "agents_domain":
        text = _as_str(value, where)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*", text):
            raise ConfigError(f"{where}: expected a directory domain name, got {value!r}")
        return text
    raise AssertionError(key)


MAX_FILE_BYTES = 1024 * 1024


def _read_file(path: Path) -> dict[str, tuple[str, Any]]:
    """``{key: (file:line:col of its value, value)}``, read as hostile as a flow file: a
    size cap, nesting and value limits, no tags or anchors, duplicate keys and control
    characters refused; every error is ``file:line:col: message``."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{path}: cannot read settings file: {reason}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}:1:1: file larger than {MAX_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}:1: not valid UTF-8") from exc
    try:
        tree, problems = parse_yaml(text, str(path))
    except YamlError as exc:
        raise ConfigError(str(exc)) from exc
    if problems:
        raise ConfigError("\n".join(str(p) for p in problems))
    if tree is None:
        return {}
    if not isinstance(tree, YMap):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return {key: (str(value.where), _plain(value)) for key, value in tree.values.items()}


def _plain(node: YNode) -> Any:
    if isinstance(node, YMap):
        return {key: _plain(value) for key, value in node.values.items()}
    if isinstance(node, YSeq):
        return [_plain(item) for item in node.items]
    return node.value


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Defaults, then the YAML file, then ``CALLCENTER_*`` variables, then explicit overrides."""
    env = os.environ if environ is None else environ
    keys = _fields()
    values: dict[str, Any] = {}
    wheres: dict[str, str] = {}  # where each value came from, for a check across settings
    masked: dict[str, str] = {}  # key -> the error, unless a later source gives the key
    errors = _Errors()
    if path is None and env.get(ENV_PREFIX + "CONFIG"):
        path = env[ENV_PREFIX + "CONFIG"]
    sources: list[str] = []

    def take(key: str, value: Any, where: str) -> None:
        masked.pop(key, None)
        converted = errors.check(_convert, key, value, where)
        if converted is not None:
            values[key], wheres[key] = converted, where

    if path is not None:
        file_path = Path(path)
        for key, (where, value) in _read_file(file_path).items():
            if key not in keys:
                errors.messages.append(f"{where}: unknown setting {key!r}")
            elif value is None:
                continue  # null: the default, as `config show` prints an unset secret
            elif mask := _masked(key, value):
                masked[key] = f"{where}: {mask}"
            else:
                take(key, value, f"{where}: {key}")
        if "dialplans_dir" in values:  # relative to the file, wherever the command runs
            values["dialplans_dir"] = file_path.parent / values["dialplans_dir"]
        sources.append(f"file {file_path}")
    used: list[str] = []
    for name, value in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key not in keys:
            if key.startswith(("fs_", "test_")) or key in FREESWITCH_ONLY | CLI_ONLY:
                continue  # test-harness, FreeSWITCH-side and CLI variables share the prefix
            errors.messages.append(f"environment variable {name}: unknown setting")
            continue
        take(key, value, f"environment variable {name}")
        used.append(name)
    if used:
        sources.append(f"environment ({', '.join(used)})")
    given = [key for key, value in overrides.items() if value is not None]
    for key in given:
        take(key, overrides[key], f"option {key}")
    if given:
        sources.append(f"options ({', '.join('--' + k.replace('_', '-') for k in given)})")
    for key, message in masked.items():
        errors.messages.append(
            f"{message}, not the secret: put the real one there, or set "
            f"{ENV_PREFIX}{key.upper()} in the environment"
        )
    source = " + ".join(sources) or "defaults"
    config_file = Path(path) if path is not None else None
    # relative (default, environment, option): to the current directory; absolute from here
    # on, so every message names the directory used
    values["dialplans_dir"] = Path(os.path.abspath(values.get("dialplans_dir", "dialplans")))
    settings = _finish(Settings(source=source, config_file=config_file, **values), wheres, errors)
    errors.raise_any()
    return settings


def _finish(settings: Settings, wheres: Mapping[str, str], errors: _Errors) -> Settings:
    errors.check(  # checked once, here: a clash between two codes is a start-up error
        feature_codes, settings.feature_codes, settings.pause_reasons, settings.pause_default_reason
    )
    data_dir = settings.data_dir
    changes: dict[str, Any] = {}
    if not settings.database_url:
        changes["database_url"] = f"sqlite:///{data_dir / 'callcenter.db'}"
    if settings.recordings_dir == Path(""):
        changes["recordings_dir"] = data_dir / "recordings"
    if settings.spool_dir == Path(""):
        changes["spool_dir"] = data_dir / "spool"
    if settings.esl_password and any(not n.password for n in settings.esl_nodes):
        changes["esl_nodes"] = tuple(
            n if n.password else dataclasses.replace(n, password=settings.esl_password)
            for n in settings.esl_nodes
        )
    for node in changes.get("esl_nodes", settings.esl_nodes):
        if not node.password:
            where = wheres.get("esl_nodes", "esl_nodes")
            errors.messages.append(
                f"{where}: node {node.name!r} has no password: give it in the URL "
                f"({node.name}=esl://:PASSWORD@{node.host}:{node.port}) or set esl_password "
                f"({ENV_PREFIX}ESL_PASSWORD), the password of every node given without one"
            )
    return dataclasses.replace(settings, **changes)
