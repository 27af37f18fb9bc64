"""Trunks as FreeSWITCH reads them: one sofia gateway file per trunk, and the carriers' ACL.

Pure: specs in, file texts out. ``fs render`` writes them with ``fsdirectory.write`` (the
generated-file marker, atomic writes, stale files removed, hand-written ones refused).

- ``sip_profiles/callcenter-carriers/<name>.xml``: ``<include><gateway name=...>`` with
  mod_sofia's own parameter names (``proxy``, ``register``, ``username``, ``password``,
  ``realm``, ``from-domain``, ``register-transport``, ``caller-id-in-from``,
  ``expire-seconds``, ``retry-seconds``, ``ping``), included by the profile's
  ``<gateways>`` X-PRE-PROCESS;
- ``autoload_configs/callcenter-carriers-acl/trunks.xml``: one ``<node type="allow">``
  per inbound CIDR, included inside the ``callcenter_carriers`` list of ``acl.conf.xml``.

Every value passes ``checks.check`` first (a ``;`` or ``$${`` never gets here), then is
XML-escaped; ``$`` is refused in the values of this file rather than stripped, because a
stripped password would register with the wrong secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import quoteattr

from callcenter.fsdirectory import MARKER
from callcenter.trunks.checks import InvalidTrunk, check
from callcenter.trunks.spec import Transport, TrunkSpec

PROFILE = "callcenter-carriers"
ACL_LIST = "callcenter_carriers"
ACL_FILE = "trunks.xml"
EXPIRE_SECONDS = 600
RETRY_SECONDS = 30
PING_SECONDS = 30  # OPTIONS every 30 s: Ping-Status UP/DOWN in sofia::gateway_state


def _attr(field: str, value: str) -> str:
    if "$${" in value or "${" in value:  # expanded when the XML loads or a channel reads it
        raise InvalidTrunk(field, "must not contain ${ (FreeSWITCH would expand it)")
    return quoteattr(value)


def _param(name: str, value: str, field: str = "") -> str:
    return f"    <param name={quoteattr(name)} value={_attr(field or name, value)}/>"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def render_gateway(spec: TrunkSpec) -> str:
    """The gateway file of one trunk; ``InvalidTrunk`` for what FreeSWITCH would misread."""
    spec = check(spec)
    params = [_param("proxy", spec.proxy), _param("register", _bool(spec.register))]
    if spec.username:
        params.append(_param("username", spec.username))
    if spec.password:
        params.append(_param("password", spec.password))
    if spec.realm:
        params.append(_param("realm", spec.realm))
    if spec.from_domain:
        params.append(_param("from-domain", spec.from_domain, "from_domain"))
    if spec.transport is not Transport.UDP:
        params.append(_param("register-transport", str(spec.transport), "transport"))
    params.append(_param("caller-id-in-from", _bool(spec.caller_id_in_from), "caller_id_in_from"))
    if spec.register:
        params.append(_param("expire-seconds", str(EXPIRE_SECONDS)))
        params.append(_param("retry-seconds", str(RETRY_SECONDS)))
    params.append(_param("ping", str(PING_SECONDS)))
    variables = []
    if spec.codecs:
        codecs = _attr("codecs", ",".join(spec.codecs))
        variables.append(
            f'      <variable name="absolute_codec_string" value={codecs} direction="outbound"/>'
        )
    variables.append(
        f'      <variable name="cc_trunk" value={_attr("name", spec.name)} direction="inbound"/>'
    )
    return "\n".join(
        [
            MARKER,
            "<include>",
            f"  <gateway name={_attr('name', spec.name)}>",
            *params,
            "    <variables>",
            *variables,
            "    </variables>",
            "  </gateway>",
            "</include>",
            "",
        ]
    )


def render_gateways(specs: Iterable[TrunkSpec]) -> dict[str, str]:
    """Files by name: ``<trunk>.xml`` for each enabled trunk (a disabled one is removed)."""
    return {f"{s.name}.xml": render_gateway(s) for s in specs if s.enabled}


def render_acl(specs: Iterable[TrunkSpec]) -> dict[str, str]:
    """The one ACL file: every enabled trunk's inbound CIDRs, each once, by trunk."""
    lines = [MARKER, "<include>"]
    seen: set[str] = set()
    for spec in sorted((s for s in specs if s.enabled), key=lambda s: s.name):
        checked = check(spec)
        for cidr in checked.inbound_cidrs:
            if cidr in seen:
                continue
            seen.add(cidr)
            lines.append(f'  <node type="allow" cidr={_attr("inbound_cidrs", cidr)}/>')
    lines += ["</include>", ""]
    return {ACL_FILE: "\n".join(lines)}
