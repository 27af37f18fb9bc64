"""Who dialled from an agent's phone: the SIP user FreeSWITCH authenticated. Pure.

A phone on ``callcenter-agents`` answers the 407 challenge with its digest credentials; on
success mod_sofia sets ``sip_authorized=true``, ``sip_auth_username``/``sip_auth_realm`` and,
from the directory entry, ``user_name``/``domain_name`` (sessions-3/s18). The caller ID
(``Caller-Caller-ID-Number``, the From user, a P-Asserted-Identity) is whatever the phone
sends and names nobody. Without an authenticated user that matches the directory's, the call
is no agent's.
"""

from __future__ import annotations

from collections.abc import Callable

from callcenter.vocabulary import EXTENSION

ENTRY_FEATURE = "agent_feature"
ENTRY_OUTBOUND = "agent_outbound"
AGENT_ENTRIES = frozenset({ENTRY_FEATURE, ENTRY_OUTBOUND})
AGENTS_PROFILE = "callcenter-agents"

Lookup = Callable[[str], str | None]  # a header of the park (or of a channel dump)


def agent_of(get: Lookup, domain: str) -> str | None:
    """The agent's extension, or None when the phone did not authenticate as one."""
    if get("variable_cc_entry") not in AGENT_ENTRIES:
        return None
    if get("variable_sip_authorized") != "true":
        return None
    if get("variable_sofia_profile_name") != AGENTS_PROFILE:
        return None
    user = get("variable_user_name") or ""
    auth = get("variable_sip_auth_username") or ""
    if not user or user != auth or not EXTENSION.fullmatch(user):
        return None
    if get("variable_domain_name") != domain or get("variable_sip_auth_realm") != domain:
        return None
    return user
