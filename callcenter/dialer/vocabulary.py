"""The dialer's words: campaign modes and states, lead states, what to do with a machine,
the kinds of compliance-relevant acts the dialer's audit log keeps."""

from __future__ import annotations

from enum import StrEnum


class CampaignMode(StrEnum):
    PREVIEW = "preview"  # the agent gets the lead first, accepts or skips
    PROGRESSIVE = "progressive"  # one line per free agent
    PREDICTIVE = "predictive"  # more lines than free agents, within the abandon target
    BROADCAST = "broadcast"  # agentless: answered calls go to an IVR flow


class CampaignState(StrEnum):
    STOPPED = "stopped"
    RUNNING = "running"
    PAUSED = "paused"  # no new calls; the lines in flight finish


class LeadState(StrEnum):
    PENDING = "pending"  # dialable from ``next_attempt_at`` on
    DIALING = "dialing"  # claimed by a running dialer (``claimed_at``)
    DONE = "done"  # final: reached, retries used up, on a do-not-call list, unreachable


class AmdAction(StrEnum):
    HANGUP = "hangup"
    MESSAGE = "message"  # leave ``amd_message`` after the beep
    FLOW = "flow"  # send the machine to ``amd_flow``
    OFF = "off"  # no detection: every answer is taken for a person's (machines reach agents)


class AuditKind(StrEnum):
    """Compliance-relevant acts, one ``dialer_audit`` row each."""

    ABANDON = "abandon"  # a live answer given no agent within the safe harbor
    MESSAGE_PLAYED = "message_played"  # the safe-harbor message, within 2 s of the answer
    DNC_HIT = "dnc_hit"  # a due lead found on a do-not-call list: not dialled
    NUMBER_REFUSED = "number_refused"  # a due lead whose number is no lead's (premium rate)
    WINDOW_BLOCK = "window_block"  # a due lead outside its calling window: deferred
    HOLD_BLOCK = "hold_block"  # a due lead within 72 h of an abandoned call to it: deferred
    FALLBACK = "fallback"  # predictive fell back to progressive at the hard limit
    FALLBACK_CLEARED = "fallback_cleared"  # back under the target: predictive again
    STATE = "state"  # the campaign started, paused or stopped (``details.state``)
