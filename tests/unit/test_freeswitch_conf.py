"""The FreeSWITCH configuration in freeswitch-conf/ and the compose stack in docker/.

FreeSWITCH preprocesses its XML line by line before parsing it (switch_xml.c): a line with
an ``X-PRE-PROCESS`` directive is consumed whole, lines holding ``<include>`` or
``</include>`` are dropped, and ``$${name}`` is replaced by a global variable. ``preprocess``
below mirrors those rules, so the tests see what FreeSWITCH would see.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from callcenter.app import App
from callcenter.cdr.receiver import PATH
from callcenter.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "freeswitch-conf"
DOCKER = ROOT / "docker"
XML_FILES = sorted(CONF.rglob("*.xml"))

DIRECTIVE = re.compile(
    r'^\s*<X-PRE-PROCESS cmd="(set|env-set|exec-set|include)" data="([^"]*)"/>\s*$'
)
STOCK_GLOBALS = {"local_ip_v4", "external_rtp_ip", "external_sip_ip", "hold_music", "domain"}
RANDOM = "random-uuid-from-exec-set"


def preprocess(path: Path, env: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """FreeSWITCH's preprocessor for one file: (the XML it would parse, the globals it set)."""
    out: list[str] = []
    variables: dict[str, str] = {name: f"stock-{name}" for name in STOCK_GLOBALS}
    for line in path.read_text().splitlines():
        line = re.sub(r"\$\$\{([^}]*)\}", lambda m: variables.get(m.group(1), ""), line)
        if "<include>" in line or "</include>" in line or "<?" in line:
            continue
        match = DIRECTIVE.match(line)
        if match is None:
            out.append(line)
            continue
        cmd, data = match.groups()
        name, _, value = data.partition("=")
        if cmd == "set":
            variables[name.strip()] = value.strip()
        elif cmd == "exec-set":
            variables[name.strip()] = RANDOM
        elif cmd == "env-set" and value.startswith("$") and value[1:] in env:
            variables[name] = env[value[1:]]
    return "<root>\n" + "\n".join(out) + "\n</root>", variables


def parsed(relative: str, env: Mapping[str, str] | None = None) -> ET.Element:
    text, _ = preprocess(CONF / relative, env or {})
    return ET.fromstring(text)


def params(element: ET.Element, tag: str = "param") -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in element.iter(tag)}


# --- every file ----------------------------------------------------------------------------


def test_there_is_a_configuration_to_check() -> None:
    assert len(XML_FILES) >= 8


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: str(p.relative_to(CONF)))
def test_xml_is_well_formed_as_written_and_after_preprocessing(path: Path) -> None:
    ET.parse(path)
    ET.fromstring(preprocess(path, {})[0])


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: str(p.relative_to(CONF)))
def test_preprocessor_lines_are_whole_directives(path: Path) -> None:
    # The preprocessor matches the text anywhere, even inside a comment, and drops the line.
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if "x-pre-process" in line.lower():
            assert DIRECTIVE.match(line), f"{path.name}:{number}: not a lone directive: {line!r}"
        if "<include>" in line or "</include>" in line:
            assert line.strip() in ("<include>", "</include>"), f"{path.name}:{number} is dropped"


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: str(p.relative_to(CONF)))
def test_env_set_has_the_strict_form_freeswitch_needs(path: Path) -> None:
    for cmd, data in DIRECTIVE.findall(path.read_text()):
        if cmd == "env-set":
            assert re.fullmatch(r"[a-z0-9_]+=\$CALLCENTER_[A-Z0-9_]+", data), data


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: str(p.relative_to(CONF)))
def test_every_global_is_defined_before_use(path: Path) -> None:
    defined = set(STOCK_GLOBALS)
    for number, line in enumerate(path.read_text().splitlines(), 1):
        for name in re.findall(r"\$\$\{([^}]*)\}", line):
            assert name in defined, f"{path.name}:{number}: $${{{name}}} is not defined above"
        match = DIRECTIVE.match(line)
        if match and match.group(1) != "include":
            defined.add(match.group(2).partition("=")[0].strip())


def test_cluecon_is_never_a_value() -> None:
    for path in XML_FILES:
        root = ET.parse(path).getroot()
        for element in root.iter():
            for attr in ("value", "data"):
                assert "cluecon" not in element.get(attr, "").lower(), path


# --- Event Socket and ACL ------------------------------------------------------------------


def esl_settings(env: Mapping[str, str]) -> dict[str, str]:
    return params(parsed("autoload_configs/event_socket.conf.xml", env))


def test_esl_password_comes_from_the_environment() -> None:
    settings = esl_settings({"CALLCENTER_ESL_PASSWORD": "0f1e2d3c4b5a"})
    assert settings["password"] == "0f1e2d3c4b5a"
    assert settings["listen-port"] == "8021"


def test_esl_password_fails_closed_without_the_environment() -> None:
    # An empty password would make mod_event_socket fall back to ClueCon.
    assert esl_settings({})["password"] == RANDOM


def test_esl_listens_on_loopback_unless_told_otherwise() -> None:
    assert esl_settings({})["listen-ip"] == "127.0.0.1"
    assert esl_settings({"CALLCENTER_ESL_LISTEN_IP": "10.0.0.5"})["listen-ip"] == "10.0.0.5"


def acl_lists(env: Mapping[str, str] | None = None) -> dict[str, ET.Element]:
    root = parsed("autoload_configs/acl.conf.xml", env)
    return {lst.get("name", ""): lst for lst in root.iter("list")}


def test_esl_acl_allows_loopback_and_the_controller_network_only() -> None:
    assert esl_settings({})["apply-inbound-acl"] == "callcenter_esl"
    esl = acl_lists({"CALLCENTER_CONTROLLER_CIDR": "10.0.0.10/32"})["callcenter_esl"]
    assert esl.get("default") == "deny"
    allowed = {node.get("cidr") for node in esl.iter("node") if node.get("type") == "allow"}
    assert allowed == {"127.0.0.0/8", "::1/128", "10.0.0.10/32"}


def test_acl_keeps_the_stock_lists() -> None:
    assert {"lan", "domains", "callcenter_esl", "callcenter_carriers"} <= set(acl_lists())


# --- mod_xml_cdr: FreeSWITCH's own CDRs posted to the controller -------------------------


def xml_cdr_settings(env: Mapping[str, str] | None = None) -> dict[str, str]:
    root = parsed("autoload_configs/xml_cdr.conf.xml", env)
    configuration = root.find("configuration")
    assert configuration is not None and configuration.get("name") == "xml_cdr.conf"
    return params(configuration)


def test_xml_cdr_posts_to_the_controllers_listener_with_credentials_from_the_env() -> None:
    env = {
        "CALLCENTER_FS_CDR_CREDENTIALS": "freeswitch:0f1e2d3c",
        "CALLCENTER_FS_CDR_URL": "http://10.0.0.10:9464/fs/cdr",
    }
    settings = xml_cdr_settings(env)
    assert settings["url"] == "http://10.0.0.10:9464/fs/cdr"
    assert settings["cred"] == "freeswitch:0f1e2d3c"
    assert settings["auth-scheme"] == "basic"
    # and the controller reads the same variable, under the same name
    engine = load_settings(environ={**env, "CALLCENTER_DATA_DIR": "/nonexistent-cc-test"})
    assert engine.fs_cdr_credentials == "freeswitch:0f1e2d3c"


def test_xml_cdr_defaults_to_loopback_and_fails_closed_without_credentials() -> None:
    settings = xml_cdr_settings()
    assert settings["url"] == "http://127.0.0.1:9464/fs/cdr"
    assert "?" not in settings["url"]  # FreeSWITCH appends ?uuid=a_<uuid> itself
    assert settings["cred"] == RANDOM  # no colon: the controller refuses it (401)
    assert settings["url"].endswith(PATH)


def test_xml_cdr_posts_a_legs_with_few_short_retries_then_writes_the_error_dir() -> None:
    settings = xml_cdr_settings()
    assert settings["encode"] == "true"
    assert settings["log-b-leg"] == "false"
    assert settings["prefix-a-leg"] == "true"
    # CHANNEL_HANGUP_COMPLETE waits for the tries: keep them few, short and bounded
    assert int(settings["retries"]) * int(settings["delay"]) <= 5
    assert 0 < int(settings["timeout"]) <= 5
    assert settings["err-log-dir"] == "callcenter-cdr-failed"
    assert settings["log-http-and-disk"] == "false"
    moved = xml_cdr_settings({"CALLCENTER_FS_CDR_ERR_LOG_DIR": "/var/spool/cc-cdr"})
    assert moved["err-log-dir"] == "/var/spool/cc-cdr"
    known = {
        "url", "cred", "auth-scheme", "encode", "retries", "delay", "timeout", "log-b-leg",
        "prefix-a-leg", "log-http-and-disk", "log-dir", "err-log-dir", "disable-100-continue",
    }  # fmt: skip
    assert set(settings) <= known  # mod_xml_cdr.c ignores a misspelt name silently


# --- SIP profiles --------------------------------------------------------------------------


def profile(name: str) -> tuple[ET.Element, dict[str, str]]:
    root = parsed(f"sip_profiles/{name}.xml")
    element = root.find("profile")
    assert element is not None and element.get("name") == name
    return element, params(element.find("settings"))  # type: ignore[arg-type]


def test_carriers_profile_trusts_only_the_carrier_acl() -> None:
    _, settings = profile("callcenter-carriers")
    assert settings["context"] == "callcenter"
    assert settings["auth-calls"] == "false"
    assert settings["apply-inbound-acl"] in acl_lists()
    assert settings["sip-port"] == "5080"


def test_agents_profile_authenticates_in_the_agents_domain() -> None:
    element, settings = profile("callcenter-agents")
    assert settings["context"] == "callcenter-agents"
    assert settings["auth-calls"] == "true"
    assert settings["sip-port"] == "5060"
    assert settings["force-register-domain"] == directory_domain().get("name") == "callcenter"
    assert [d.get("name") for d in element.iter("domain")] == ["callcenter"]


@pytest.mark.parametrize("name", ["callcenter-carriers", "callcenter-agents"])
def test_profiles_use_rfc2833_and_the_agreed_codecs(name: str) -> None:
    _, settings = profile(name)
    assert settings["dtmf-type"] == "rfc2833"
    assert settings["rfc2833-pt"] == "101"
    for key in ("inbound-codec-prefs", "outbound-codec-prefs"):
        assert settings[key] == "PCMU,PCMA,G722,OPUS"


# --- dialplan ------------------------------------------------------------------------------


def contexts() -> dict[str, ET.Element]:
    return {c.get("name", ""): c for c in parsed("dialplan/callcenter.xml").iter("context")}


def actions(extension: ET.Element) -> list[tuple[str, str]]:
    return [(a.get("application", ""), a.get("data", "")) for a in extension.iter("action")]


def test_dialplan_has_the_two_contexts_the_profiles_use() -> None:
    assert set(contexts()) == {"callcenter", "callcenter-agents"}
    assert profile("callcenter-carriers")[1]["context"] in contexts()
    assert profile("callcenter-agents")[1]["context"] in contexts()


def test_inbound_calls_are_tagged_and_parked() -> None:
    (extension,) = contexts()["callcenter"].iter("extension")
    steps = actions(extension)
    assert steps[-1] == ("park", "")
    sets = {data.partition("=")[0]: data.partition("=")[2] for app, data in steps if app == "set"}
    assert sets["cc_managed"] == "true"
    assert sets["cc_did"] == "${destination_number}"
    assert sets["cc_entry"] == "inbound"
    assert sets["hangup_after_bridge"] == "false"
    assert sets["continue_on_fail"] == "true"
    assert sets["park_timeout"] == "3600:RECOVERY_ON_TIMER_EXPIRE"


def test_park_timeout_is_configurable() -> None:
    text, _ = preprocess(CONF / "dialplan/callcenter.xml", {"CALLCENTER_PARK_TIMEOUT": "1800"})
    assert "park_timeout=1800:RECOVERY_ON_TIMER_EXPIRE" in text


def test_agent_calls_are_tagged_and_parked_by_kind() -> None:
    extensions = list(contexts()["callcenter-agents"].iter("extension"))
    entries = []
    for extension in extensions:
        steps = actions(extension)
        assert steps[-1] == ("park", "")
        assert ("set", "cc_managed=true") in steps
        assert ("set", "cc_did=${destination_number}") in steps
        entries += [d.partition("=")[2] for a, d in steps if d.startswith("cc_entry=")]
    assert entries == ["agent_feature", "agent_outbound"]
    feature = extensions[0].find("condition")
    assert feature is not None and re.match(feature.get("expression", ""), "*12")
    assert not re.match(feature.get("expression", ""), "5551234")


def test_dialplan_does_nothing_but_tag_and_park() -> None:
    for context in contexts().values():
        for extension in context.iter("extension"):
            assert {app for app, _ in actions(extension)} == {"set", "park"}


# --- directory -----------------------------------------------------------------------------


def directory_domain() -> ET.Element:
    domain = parsed("directory/callcenter.xml").find("domain")
    assert domain is not None
    return domain


def test_agents_domain_includes_the_generated_users() -> None:
    text = (CONF / "directory/callcenter.xml").read_text()
    assert '<X-PRE-PROCESS cmd="include" data="callcenter/*.xml"/>' in text
    assert (CONF / "directory/callcenter/README.md").is_file()


def test_example_agent() -> None:
    env = {"CALLCENTER_EXAMPLE_AGENT_PASSWORD": "s3cret"}
    user = parsed("directory/callcenter/1001.xml", env).find("user")
    assert user is not None and user.get("id") == "1001"
    assert params(user)["password"] == "s3cret"
    variables = params(user, "variable")
    assert variables["user_context"] == "callcenter-agents"
    assert variables["effective_caller_id_name"]
    without_env = parsed("directory/callcenter/1001.xml").find("user")
    assert without_env is not None and params(without_env)["password"] == RANDOM


# --- docker --------------------------------------------------------------------------------


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text())


def test_compose_has_the_services() -> None:
    services = compose()["services"]
    assert set(services) == {
        "postgres",
        "freeswitch",
        "setup",
        "controller",
        "prometheus",
        "grafana",
    }
    assert services["setup"]["entrypoint"] == ["sh", "/opt/callcenter/setup.sh"]
    assert "callcenter db upgrade" in (DOCKER / "setup.sh").read_text()
    assert services["setup"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["controller"]["depends_on"]["setup"]["condition"] == (
        "service_completed_successfully"
    )


def test_compose_images_are_pinned_by_version() -> None:
    images = [s["image"] for s in compose()["services"].values() if "build" not in s]
    froms = re.findall(r"^FROM (\S+)", (DOCKER / "Dockerfile").read_text(), re.M)
    for image in [*images, *froms]:
        image = re.sub(r"\$\{\w+:-([^}]+)\}", r"\1", image)  # the default of ${VAR:-...}
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag and tag != "latest", image
        assert re.match(r"v?\d+\.\d+", tag), image


def test_fs_render_in_the_controller_writes_what_freeswitch_reads() -> None:
    services = compose()["services"]
    target = "/etc/freeswitch/directory/callcenter"
    controller = [v for v in services["controller"]["volumes"] if v.split(":")[1] == target]
    freeswitch = [v for v in services["freeswitch"]["volumes"] if v.split(":")[1] == target]
    assert controller == ["agents-directory:" + target]  # writable: fs render --out there
    assert freeswitch == ["agents-directory:" + target + ":ro"]
    assert "agents-directory" in compose()["volumes"]
    assert f"chown callcenter:callcenter {target}" in (DOCKER / "setup.sh").read_text()


def test_compose_setup_creates_every_queue_the_shipped_flows_name() -> None:
    flows = " ".join(p.read_text() for p in (ROOT / "dialplans").glob("*.yaml"))
    named = set(re.findall(r"^\s+queue: ([a-z0-9_-]+)", flows, re.M))
    script = (DOCKER / "setup.sh").read_text()
    created = set(re.search(r"for queue in ([a-z0-9_ -]+); do", script)[1].split())  # type: ignore[index]
    assert named and named <= created


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_config_validates_the_stack() -> None:
    env = {**os.environ, "CALLCENTER_ESL_PASSWORD": "x", "CALLCENTER_FS_CDR_CREDENTIALS": "a:b"}
    result = subprocess.run(
        ["docker-compose", "-f", str(DOCKER / "docker-compose.yml"), "config", "-q"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_compose_references_only_files_that_exist() -> None:
    services = compose()["services"]
    for name, service in services.items():
        build = service.get("build")
        if build:
            context = (DOCKER / build["context"]).resolve()
            assert (context / build["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).exists(), f"{name}: {source}"


def test_compose_controller_settings_and_secrets() -> None:
    services = compose()["services"]
    env = services["controller"]["environment"]
    assert env["CALLCENTER_DATABASE_URL"] == (
        "postgresql+psycopg://callcenter:callcenter@postgres:5432/callcenter"
    )
    assert env["CALLCENTER_ESL_NODES"].startswith("fs1=esl://:${CALLCENTER_ESL_PASSWORD:?")
    assert env["CALLCENTER_ESL_NODES"].endswith("@freeswitch:8021")
    assert env["CALLCENTER_METRICS_LISTEN"] == "0.0.0.0:9464"
    assert services["freeswitch"]["environment"]["CALLCENTER_ESL_PASSWORD"].startswith(
        "${CALLCENTER_ESL_PASSWORD:?"
    )
    published = " ".join(str(p) for s in services.values() for p in s.get("ports", []))
    assert "8021" not in published


def test_prometheus_scrapes_the_controller() -> None:
    config = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    targets = [
        t for job in config["scrape_configs"] for s in job["static_configs"] for t in s["targets"]
    ]
    assert targets == ["controller:9464"]


def test_grafana_provisioning_and_dashboard() -> None:
    for path in (DOCKER / "grafana/provisioning").rglob("*.yml"):
        assert yaml.safe_load(path.read_text())["apiVersion"] == 1
    dashboard = json.loads((DOCKER / "grafana/dashboards/callcenter.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    for metric in (
        "callcenter_calls_active",
        "callcenter_calls_total",
        "callcenter_esl_connected",
        "callcenter_esl_reconnects_total",
        "callcenter_esl_events_total",
        "callcenter_esl_command_seconds_bucket",
        "callcenter_esl_event_drops_total",
        "callcenter_cdrs_written_total",
        "callcenter_cdrs_spooled_total",
        "callcenter_cdrs_replayed_total",
        "callcenter_build_info",
        "callcenter_queue_waiting_calls",
        "callcenter_queue_longest_wait_seconds",
        "callcenter_agents",
        "callcenter_queue_answered_within_sla_total",
        "callcenter_queue_calls_total",
        "callcenter_queue_offers_total",
        "callcenter_queue_wait_seconds_bucket",
    ):
        assert metric in exprs, metric
    # and every metric a panel asks for is one the engine exports
    app = App(load_settings(environ={"CALLCENTER_DATA_DIR": "/nonexistent-cc-test"}))
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    exported = {
        m.name + suffix
        for m in app.registry.collect()
        for suffix in ("", *suffixes.get(m.type, ()))
    }
    used = set(re.findall(r"callcenter_[a-z_]+", exprs))
    assert used <= exported, used - exported
    assert used >= KPI_METRICS  # the AHT, occupancy and per-agent panels are there


# what the AHT, occupancy, queue-SL and per-agent panels query (callcenter.kpi.live)
KPI_METRICS = {
    "callcenter_queue_aht_seconds",
    "callcenter_queue_occupancy_ratio",
    "callcenter_queue_service_level_ratio",
    "callcenter_agent_calls_total",
    "callcenter_agent_talk_seconds_total",
    "callcenter_agent_occupancy_ratio",
}


def test_grafana_kpi_panels_query_metrics_the_engine_exports() -> None:
    app = App(load_settings(environ={"CALLCENTER_DATA_DIR": "/nonexistent-cc-test"}))
    exported = {m.name + s for m in app.registry.collect() for s in ("", "_total")}
    assert exported >= KPI_METRICS, KPI_METRICS - exported


def test_grafana_panels_say_what_they_show() -> None:
    dashboard = json.loads((DOCKER / "grafana/dashboards/callcenter.json").read_text())
    for panel in dashboard["panels"]:
        assert panel.get("description"), panel["title"]
        if "Service level" in panel["title"]:
            assert "answered within" in panel["description"], panel["title"]


def test_env_example_requires_the_esl_password() -> None:
    lines = (DOCKER / ".env.example").read_text().splitlines()
    assert "CALLCENTER_ESL_PASSWORD=" in lines
    assert "CALLCENTER_FS_CDR_CREDENTIALS=" in lines


def test_compose_freeswitch_posts_cdrs_to_the_controller() -> None:
    services = compose()["services"]
    freeswitch = services["freeswitch"]
    assert freeswitch["environment"]["CALLCENTER_FS_CDR_URL"] == "http://controller:9464/fs/cdr"
    for name in ("freeswitch", "controller"):
        credentials = services[name]["environment"]["CALLCENTER_FS_CDR_CREDENTIALS"]
        assert credentials.startswith("${CALLCENTER_FS_CDR_CREDENTIALS:?")
    assert any("xml_cdr.conf.xml" in volume for volume in freeswitch["volumes"])
    controller = services["controller"]["environment"]
    assert controller["CALLCENTER_FS_CDR_ALLOW"] == "${CALLCENTER_DOCKER_SUBNET:-172.31.231.0/24}"


def test_the_readme_lists_every_module_the_engine_and_shipped_flows_need() -> None:
    readme = (Path(__file__).resolve().parents[2] / "freeswitch-conf" / "README.md").read_text()
    section = readme.split("## Modules and sounds", 1)[1].split("\n## ", 1)[0]
    for module in ("mod_event_socket", "mod_sofia", "mod_dptools", "mod_commands",
                   "mod_sndfile", "mod_tone_stream", "mod_local_stream", "mod_say_en",
                   "mod_say_fr", "mod_flite", "mod_xml_cdr"):  # fmt: skip
        assert f"`{module}`" in section, module
        assert f"freeswitch-{module.replace('_', '-')}" in section, module
    flows = "".join(
        p.read_text() for p in (Path(__file__).resolve().parents[2] / "dialplans").glob("*.yaml")
    )
    for language in set(re.findall(r"language: ([a-z]{2}/[a-z]{2}/[a-z]+)", flows)):
        package = "freeswitch-sounds-" + language.replace("/", "-")
        assert package in section, language
    assert "freeswitch-music-default" in section  # queue music: local_stream://moh
