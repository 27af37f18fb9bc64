from __future__ import annotations

import re
from pathlib import Path

import pytest

from callcenter.errors import ConfigError
from callcenter.settings import Address, ESLNode, load_settings, parse_nodes, redact_url


def test_defaults_use_sqlite_under_the_data_dir() -> None:
    settings = load_settings(environ={})
    assert settings.database_url == "sqlite:///var/callcenter.db"
    assert settings.recordings_dir == Path("var/recordings")
    assert settings.spool_dir == Path("var/spool")
    assert settings.metrics_listen == Address("127.0.0.1", 9464)
    assert settings.esl_nodes == ()


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "cc.yaml"
    path.write_text("log_level: debug\nmetrics_listen: 0.0.0.0:9000\ndata_dir: /srv/cc\n")
    settings = load_settings(path, environ={"CALLCENTER_LOG_LEVEL": "warning"})
    assert settings.log_level == "WARNING"
    assert settings.metrics_listen == Address("0.0.0.0", 9000)
    assert settings.database_url == "sqlite:////srv/cc/callcenter.db"
    assert settings.source == f"file {path} + environment (CALLCENTER_LOG_LEVEL)"
    assert settings.config_file == path


def test_config_file_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "cc.yaml"
    path.write_text("log_format: json\n")
    settings = load_settings(environ={"CALLCENTER_CONFIG": str(path)})
    assert settings.log_format == "json"


def test_nodes_from_one_variable() -> None:
    env = {"CALLCENTER_ESL_NODES": "fs1=esl://:s%40cret@10.0.0.5:8021, fs2=esl://:pw@fs2.local"}
    nodes = load_settings(environ=env).esl_nodes
    assert nodes == (
        ESLNode("fs1", "10.0.0.5", 8021, "s@cret"),
        ESLNode("fs2", "fs2.local", 8021, "pw"),
    )


def test_nodes_from_yaml_list(tmp_path: Path) -> None:
    path = tmp_path / "cc.yaml"
    path.write_text("esl_nodes:\n  - {name: fs1, host: 127.0.0.1, port: 8022, password: x}\n")
    assert load_settings(path, environ={}).esl_nodes == (ESLNode("fs1", "127.0.0.1", 8022, "x"),)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("nope: 1\n", "unknown setting 'nope'"),
        ("log_level: loud\n", "log_level: expected one of"),
        ("metrics_listen: 9464\n", "metrics_listen: expected HOST:PORT"),
        ("metrics_listen: 'x:99999'\n", "port 99999 out of range"),
        ("esl_command_timeout: -1\n", "esl_command_timeout: must be at least"),
        ("esl_command_timeout: yes\n", "expected a number, got a boolean"),
        ("writer_window: 0\n", "writer_window: must be at least 0.01"),
        ("writer_window: 60\n", "writer_window: at most 10 seconds"),
        ("sessions_per_second: -1\n", "sessions_per_second: must be at least 0"),
        ("sessions_per_second: 2.5\n", "sessions_per_second: expected a whole number"),
        ("esl_nodes: [{name: fs1}]\n", "host must be a non-empty string"),
        ("esl_nodes: [{name: fs1, host: h, colour: red}]\n", "unknown node key(s): colour"),
        ("- a\n- b\n", "expected a mapping"),
        ("data_dir: [1]\n", "data_dir: expected a string, got list"),
        ("database_url: mysql://x/y\n", "unsupported database"),
    ],
)
def test_file_errors_name_the_file_and_key(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_sessions_per_second_is_the_nodes_unless_capped() -> None:
    assert load_settings(environ={}).sessions_per_second == 0  # the node's (fsctl sps)
    env = {"CALLCENTER_SESSIONS_PER_SECOND": "20"}
    assert load_settings(environ=env).sessions_per_second == 20


def test_yaml_syntax_error_points_at_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("log_level: INFO\nmetrics_listen: [oops\n")
    with pytest.raises(ConfigError, match=rf"{path}:\d+:\d+"):
        load_settings(path, environ={})


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read settings file"):
        load_settings(tmp_path / "absent.yaml", environ={})


def test_unknown_environment_variable_is_named() -> None:
    with pytest.raises(ConfigError, match="CALLCENTER_DATBASE_URL: unknown setting"):
        load_settings(environ={"CALLCENTER_DATBASE_URL": "sqlite://"})


@pytest.mark.parametrize(
    "spec",
    [
        "fs1",
        "fs1=http://h:1",
        "bad name=esl://:p@h",
        "fs1=esl://:p@h:notaport",
        "a=esl://h,a=esl://h",
    ],
)
def test_bad_node_specs(spec: str) -> None:
    with pytest.raises(ConfigError, match="CALLCENTER_ESL_NODES"):
        parse_nodes(spec, "environment variable CALLCENTER_ESL_NODES")


def test_secrets_never_in_redacted_output_or_repr() -> None:
    env = {
        "CALLCENTER_ESL_NODES": "fs1=esl://:topsecret@10.0.0.5:8021",
        "CALLCENTER_DATABASE_URL": "postgresql+psycopg://cc:dbsecret@db:5432/cc",
    }
    settings = load_settings(environ=env)
    shown = repr(settings.redacted()) + repr(settings)
    assert "topsecret" not in shown
    assert "dbsecret" not in shown
    assert settings.redacted()["database_url"] == "postgresql+psycopg://cc:***@db:5432/cc"


def test_redact_url_leaves_passwordless_urls_alone() -> None:
    assert redact_url("sqlite:///var/cc.db") == "sqlite:///var/cc.db"


def test_settings_are_frozen() -> None:
    settings = load_settings(environ={})
    with pytest.raises(AttributeError):
        settings.log_level = "DEBUG"  # type: ignore[misc]


# issue 10 finding 8: the settings file is read as hostile as a flow file


def test_deep_nesting_is_a_located_error_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "cc.yaml"
    path.write_text("log_level: " + "[" * 20_000 + "\n")
    with pytest.raises(ConfigError, match=rf"^{path}:1:\d+: nesting deeper than 32 levels"):
        load_settings(path, environ={})


def test_a_huge_settings_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "cc.yaml"
    with path.open("wb") as handle:
        handle.truncate(52_000_000)  # 52 MB (sparse): refused by its size alone
    with pytest.raises(ConfigError, match=rf"^{path}:1:1: file larger than 1048576 bytes"):
        load_settings(path, environ={})


@pytest.mark.parametrize("key", ["dialplans_dir", "data_dir", "recordings_dir", "spool_dir"])
def test_a_nul_byte_in_a_path_is_refused(tmp_path: Path, key: str) -> None:
    path = tmp_path / "cc.yaml"
    path.write_text(f'log_level: INFO\n{key}: "/tmp\\0x"\n')
    with pytest.raises(ConfigError, match=rf"^{path}:2:\d+: {key}: control character"):
        load_settings(path, environ={})


def test_control_characters_and_bad_bytes_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cc.yaml"
    path.write_bytes(b"log_level: INFO\ndata_dir: /x\x00y\n")
    with pytest.raises(ConfigError, match=rf"^{path}:2:13: control character U\+0000"):
        load_settings(path, environ={})
    path.write_bytes(b"log_level: \xff\n")
    with pytest.raises(ConfigError, match=rf"^{path}:1:1: not valid UTF-8"):
        load_settings(path, environ={})


def test_duplicate_settings_name_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "cc.yaml"
    path.write_text("log_level: INFO\nlog_level: DEBUG\n")
    with pytest.raises(ConfigError, match=rf"^{path}:2:1: duplicate key 'log_level' at lines 1"):
        load_settings(path, environ={})


def test_a_key_error_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "cc.yaml"
    path.write_text("log_format: text\nlog_level: loud\n")
    with pytest.raises(ConfigError, match=rf"^{path}:2:12: log_level: expected one of"):
        load_settings(path, environ={})


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        ("queue:", "queue needs a queue, e.g. queue:support"),  # issue 11: route add refused it
        ("playback:${system(id)}", "${ is not allowed"),
        ("hangup:NOT_A_CAUSE", "is not a FreeSWITCH hangup cause"),
        ("extension:1001,user/2000", "is not an extension"),
        ("voicemail:1", "unknown target type 'voicemail'"),
    ],
)
def test_default_route_is_checked_as_route_add_checks_a_target(route: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"CALLCENTER_DEFAULT_ROUTE": route})
    assert str(info.value).startswith("environment variable CALLCENTER_DEFAULT_ROUTE: ")
    assert reason in str(info.value)


def test_source_names_the_file_the_environment_and_options(tmp_path: Path) -> None:
    assert load_settings(environ={}).source == "defaults"
    env = {"CALLCENTER_LOG_LEVEL": "debug", "CALLCENTER_DATA_DIR": "/srv/cc"}
    assert (
        load_settings(environ=env).source
        == "environment (CALLCENTER_DATA_DIR, CALLCENTER_LOG_LEVEL)"
    )
    path = tmp_path / "cc.yaml"
    path.write_text("log_format: json\n")
    settings = load_settings(path, environ={}, log_level="ERROR")
    assert settings.source == f"file {path} + options (--log-level)"


def test_esl_password_serves_nodes_given_without_one() -> None:
    env = {
        "CALLCENTER_ESL_NODES": "fs1=esl://10.0.0.5:8021,fs2=esl://:own@10.0.0.6",
        "CALLCENTER_ESL_PASSWORD": "shared-secret",
    }
    settings = load_settings(environ=env)
    assert [n.password for n in settings.esl_nodes] == ["shared-secret", "own"]
    assert settings.redacted()["esl_password"] == "***"
    assert "shared-secret" not in repr(settings)


def test_empty_esl_password_is_refused() -> None:
    with pytest.raises(ConfigError, match="CALLCENTER_ESL_PASSWORD: empty"):
        load_settings(environ={"CALLCENTER_ESL_PASSWORD": ""})


def test_freeswitch_side_variables_are_not_unknown_settings() -> None:
    env = {
        "CALLCENTER_ESL_LISTEN_IP": "10.0.0.5",
        "CALLCENTER_CONTROLLER_CIDR": "10.0.0.10/32",
        "CALLCENTER_CARRIER_CIDRS": "198.51.100.0/28",
        "CALLCENTER_AGENTS_SIP_PORT": "5060",
        "CALLCENTER_CARRIERS_SIP_PORT": "5080",
        "CALLCENTER_EXAMPLE_AGENT_PASSWORD": "x",
    }
    assert load_settings(environ=env).source == "defaults"


def test_every_freeswitch_conf_variable_is_a_setting_or_freeswitch_only() -> None:
    import re

    from callcenter.settings import FREESWITCH_ONLY, Settings

    readme = (Path(__file__).parents[2] / "freeswitch-conf" / "README.md").read_text()
    names = set(re.findall(r"^\| `CALLCENTER_([A-Z_]+)` \|", readme, re.M))
    assert names
    settings = set(Settings.__dataclass_fields__)
    for name in names:
        assert name.lower() in settings or name.lower() in FREESWITCH_ONLY, name


def test_dialplans_dir_is_relative_to_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "cc.yaml").write_text("dialplans_dir: flows\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings(etc / "cc.yaml", environ={}).dialplans_dir == etc / "flows"
    env = {"CALLCENTER_DIALPLANS_DIR": "mine"}  # typed in a shell: the current directory
    assert load_settings(etc / "cc.yaml", environ=env).dialplans_dir == tmp_path / "mine"
    assert load_settings(environ={}).dialplans_dir == tmp_path / "dialplans"


def test_tts_engine_and_voice() -> None:
    assert (load_settings(environ={}).tts_engine, load_settings(environ={}).tts_voice) == (
        "flite",
        "kal",
    )
    env = {"CALLCENTER_TTS_ENGINE": "cepstral", "CALLCENTER_TTS_VOICE": "Allison-8kHz"}
    settings = load_settings(environ=env)
    assert (settings.tts_engine, settings.tts_voice) == ("cepstral", "Allison-8kHz")
    with pytest.raises(ConfigError, match="CALLCENTER_TTS_VOICE: expected a name"):
        load_settings(environ={"CALLCENTER_TTS_VOICE": "kal}"})


def test_default_country_is_a_country_phonenumbers_knows() -> None:
    assert load_settings(environ={"CALLCENTER_DEFAULT_COUNTRY": "de"}).default_country == "DE"
    assert load_settings(environ={}).default_country == ""
    with pytest.raises(ConfigError, match=r"CALLCENTER_DEFAULT_COUNTRY.*country code"):
        load_settings(environ={"CALLCENTER_DEFAULT_COUNTRY": "XX"})


@pytest.mark.parametrize(
    ("env", "where"),
    [
        ({"CALLCENTER_ESL_NODES": "fs1=esl://10.0.0.5:8021"}, "CALLCENTER_ESL_NODES"),
        ({"CALLCENTER_ESL_NODES": "fs2=esl://:own@h,fs1=esl://10.0.0.5"}, "CALLCENTER_ESL_NODES"),
    ],
)
def test_a_node_without_a_password_is_refused_saying_how_to_give_one(
    env: dict[str, str], where: str
) -> None:
    # it passed `config check`, and `config show` printed fs1=esl://:***@... as if set
    with pytest.raises(ConfigError) as info:
        load_settings(environ=env)
    message = str(info.value)
    assert where in message and "node 'fs1' has no password" in message
    assert "fs1=esl://:PASSWORD@10.0.0.5:8021" in message and "CALLCENTER_ESL_PASSWORD" in message


def test_a_node_without_a_password_in_the_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cc.yaml"
    path.write_text("esl_nodes:\n  - {name: fs1, host: 10.0.0.5}\n")
    with pytest.raises(ConfigError, match=rf"{path}:2:\d+: esl_nodes: node 'fs1' has no password"):
        load_settings(path, environ={})


def test_every_invalid_setting_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "cc.yaml"
    path.write_text("log_level: loud\nmetrics_listen: 9464\nnope: 1\n")
    env = {"CALLCENTER_WRITER_WINDOW": "60"}
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ=env)
    message = str(info.value)
    assert message.startswith("4 invalid settings:")
    assert f"{path}:1:12: log_level" in message and f"{path}:2:17: metrics_listen" in message
    assert f"{path}:3:7: unknown setting 'nope'" in message
    assert "CALLCENTER_WRITER_WINDOW: at most" in message


def _shown(settings_document: dict[str, object]) -> str:
    import yaml

    return yaml.safe_dump(settings_document, sort_keys=False)


def test_the_document_config_show_prints_is_a_settings_file(tmp_path: Path) -> None:
    # `config show > cc.yaml; callcenter -c cc.yaml config check` failed on
    # esl_password: '', then fs_cdr_credentials: '', then feature_codes, ...
    env = {
        "CALLCENTER_ESL_NODES": "fs1=esl://10.0.0.5:8021",
        "CALLCENTER_ESL_PASSWORD": "shared",
        "CALLCENTER_FEATURE_CODES": "login=*71",
        "CALLCENTER_FS_CDR_ALLOW": "10.0.0.0/8",
    }
    first = load_settings(environ=env).document()
    assert first["feature_codes"]["login"] == "*71"  # type: ignore[index]
    assert "source" not in first and "config_file" not in first
    path = tmp_path / "cc.yaml"
    path.write_text(_shown(first))
    again = load_settings(path, environ={"CALLCENTER_ESL_PASSWORD": "shared"})
    assert again.document() == first
    defaults = load_settings(environ={}).document()
    path.write_text(_shown(defaults))
    assert load_settings(path, environ={}).document() == defaults
    assert defaults["esl_password"] is None and defaults["fs_cdr_import_dir"] == ""


def test_a_masked_secret_read_back_is_refused_unless_given_elsewhere(tmp_path: Path) -> None:
    env = {
        "CALLCENTER_ESL_PASSWORD": "shared",
        "CALLCENTER_FS_CDR_CREDENTIALS": "fs:pw",
        "CALLCENTER_ESL_NODES": "fs2=esl://:own@10.0.0.6:8022",
        "CALLCENTER_DATABASE_URL": "postgresql+psycopg://cc:dbpw@db/cc",
    }
    path = tmp_path / "cc.yaml"
    path.write_text(_shown(load_settings(environ=env).document()))
    assert not {"shared", "pw", "own", "dbpw"} & set(re.findall(r"\w+", path.read_text()))
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    message = str(info.value)
    assert "esl_password: '***' is the mask `config show` prints" in message
    assert "fs_cdr_credentials: '***'" in message and "CALLCENTER_FS_CDR_CREDENTIALS" in message
    assert "esl_nodes: node 'fs2': password '***' is the mask" in message
    assert "database_url: password '***' is the mask" in message
    settings = load_settings(path, environ=env)
    assert settings.esl_password == "shared" and settings.fs_cdr_credentials == "fs:pw"
