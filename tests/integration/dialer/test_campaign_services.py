"""Campaigns through the services: checks, states, audit, change rows, events, dispositions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from callcenter.cli.campaign_cmd import fields_of
from callcenter.dialer import dispositions, store
from callcenter.dialer.campaign import CampaignSpec, DispositionSpec
from callcenter.dialer.compliance import Outcome, RetryRule
from callcenter.dialer.vocabulary import (
    AmdAction,
    AuditKind,
    CampaignMode,
    CampaignState,
    LeadState,
)
from callcenter.errors import AlreadyExists, DomainError, NotFound
from callcenter.services import agents, campaigns, dnc, queues, routes, trunk_groups, trunks
from callcenter.services.checks import InvalidArgument
from callcenter.store.database import Database
from callcenter.store.models import (
    AuditEntry,
    Cdr,
    DialerAuditEntry,
    EngineChange,
    EventRow,
    Lead,
    LeadAttempt,
)
from callcenter.store.repos.campaigns import CampaignRepository
from callcenter.trunks.spec import TrunkSpec
from callcenter.vocabulary import Direction, Disposition, HangupBy
from tests.integration.dialer.conftest import WHO


def _lead(db: Database, campaign: str, phone: str = "+12125550100", **fields: object) -> int:
    with db.session_scope() as session:
        row = Lead(
            campaign_id=CampaignRepository(session).row(campaign).id,
            phone=phone,
            zones="America/New_York",
            **fields,
        )
        session.add(row)
        session.flush()
        return row.id


def test_create_stores_defaults_and_dispositions(db: Database, campaign: str) -> None:
    found = campaigns.get(db, campaign)
    assert found.state is CampaignState.STOPPED
    spec = found.spec
    assert (spec.ring_seconds, spec.abandon_target_pct, spec.abandon_limit_pct) == (20, 1.5, 3.0)
    assert spec.retries[Outcome.ABANDONED] == RetryRule(1, timedelta(hours=72))
    assert [d.code for d in campaigns.dispositions(db, campaign)] == [
        "sale",
        "not_interested",
        "call_back",
        "do_not_call",
        "wrong_number",
    ]
    with db.session_scope() as session:
        assert (
            session.scalar(select(AuditEntry.action).where(AuditEntry.target == campaign))
            == "campaign.create"
        )
        change = session.scalars(select(EngineChange).where(EngineChange.kind == "campaign")).one()
        assert (change.key, change.op) == (campaign, "create")
        assert session.scalar(select(EventRow.type)) == "campaign.changed"
    with pytest.raises(AlreadyExists):
        campaigns.create(db, WHO, spec)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ring_seconds": 10}, "ring_seconds"),
        ({"abandon_limit_pct": 5.0}, "abandon_limit_pct"),
        ({"abandon_target_pct": 3.5}, "abandon_target_pct"),
        ({"mode": CampaignMode.PREDICTIVE}, "safe_harbor_message"),
        ({"mode": CampaignMode.BROADCAST}, "flow"),
        ({"amd": "message"}, "amd_message"),
        ({"report_zone": "Mars/Olympus"}, "report_zone"),
        ({"safe_harbor_message": "${system(id)}"}, "safe_harbor_message"),
        ({"agents": ("1001",)}, "agents"),
        ({"caller_id": "12;34"}, "caller_id"),
        ({"retries": {Outcome.BUSY: RetryRule(2, timedelta(seconds=5))}}, "retries.busy"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_settings_name_their_field(
    db: Database, campaign: str, changes: dict, field: str
) -> None:
    with pytest.raises(InvalidArgument) as info:
        campaigns.update(db, WHO, campaign, changes)
    assert info.value.field == field


def test_set_merges_retries_and_keeps_the_rest(db: Database, campaign: str) -> None:
    campaigns.update(
        db,
        WHO,
        campaign,
        {
            "retries": {Outcome.BUSY: RetryRule(5, timedelta(minutes=15))},
            "mode": CampaignMode.PREDICTIVE,
            "safe_harbor_message": "/srv/sounds/acme-safe-harbor.wav",
        },
    )
    spec = campaigns.get(db, campaign).spec
    assert spec.retries[Outcome.BUSY] == RetryRule(5, timedelta(minutes=15))
    assert spec.retries[Outcome.NO_ANSWER] == RetryRule(3, timedelta(hours=2))
    assert spec.mode is CampaignMode.PREDICTIVE


def test_start_pause_stop_and_refusals(db: Database, campaign: str) -> None:
    with pytest.raises(DomainError) as info:
        campaigns.pause(db, WHO, campaign)
    assert info.value.code == "campaign_already_stopped"
    assert campaigns.start(db, WHO, campaign).state is CampaignState.RUNNING
    with pytest.raises(DomainError) as info:
        campaigns.start(db, WHO, campaign)
    assert info.value.code == "campaign_already_running"
    assert campaigns.pause(db, WHO, campaign).state is CampaignState.PAUSED
    assert campaigns.start(db, WHO, campaign).state is CampaignState.RUNNING
    assert campaigns.stop(db, WHO, campaign).state is CampaignState.STOPPED
    with db.session_scope() as session:
        moves = session.scalars(
            select(DialerAuditEntry.details).where(DialerAuditEntry.kind == AuditKind.STATE)
        ).all()
    assert [m["to"] for m in moves] == ["running", "paused", "running", "stopped"]


def test_start_needs_a_caller_id_and_what_it_names(db: Database, campaign: str) -> None:
    campaigns.create(db, WHO, CampaignSpec(name="nocid", queue="outbound"))
    with pytest.raises(InvalidArgument) as info:
        campaigns.start(db, WHO, "nocid")
    assert info.value.code == "campaign_not_ready"
    campaigns.create(db, WHO, CampaignSpec(name="ghost", queue="nowhere", caller_id="+12125550100"))
    with pytest.raises(DomainError, match="nowhere") as info2:
        campaigns.start(db, WHO, "ghost")
    assert info2.value.code == "campaign_not_ready"
    with pytest.raises(NotFound):
        campaigns.start(db, WHO, "absent")


def test_a_caller_id_is_an_e164_number_on_create_and_set_and_a_stored_bad_one_stops_a_start(
    db: Database, campaign: str
) -> None:
    # "+E.164 digits" was a regex: `--caller-id 2125550199` was stored without its +, and
    # `--caller-id +1234` (no number anywhere) was accepted
    with pytest.raises(InvalidArgument, match=r"'2125550199': expected E.164.*\+12125550199"):
        campaigns.update(db, WHO, campaign, {"caller_id": "2125550199"})
    for bad in ("+1234", "+0123456789", "+1 212 555 0199", "+999123456789"):
        with pytest.raises(InvalidArgument) as info:
            campaigns.update(db, WHO, campaign, {"caller_id": bad})
        assert info.value.field == "caller_id", bad
    with pytest.raises(InvalidArgument, match="too short") as info:
        campaigns.create(db, WHO, CampaignSpec(name="short", queue="outbound", caller_id="+1234"))
    assert campaigns.get(db, campaign).spec.caller_id == "+12125550199"
    campaigns.update(db, WHO, campaign, {"caller_id": "+442079460000"})
    with db.session_scope() as session:  # stored before the check: kept, but not dialled with
        row = CampaignRepository(session).row(campaign)
        row.caller_id = "2125550199"
    with pytest.raises(InvalidArgument, match=r"cannot start.*2125550199") as info:
        campaigns.start(db, WHO, campaign)
    assert (info.value.code, info.value.field) == ("campaign_not_ready", "caller_id")
    campaigns.update(db, WHO, campaign, {"caller_id": "+12125550199"})
    assert campaigns.start(db, WHO, campaign).state is CampaignState.RUNNING


def test_set_clear_takes_back_what_was_set(db: Database, campaign: str) -> None:
    given = {
        "trunks": ("carrier1",),
        "max_lines": 5,
        "recording": "always",
        "caller_id_name": "ACME",
        "amd": AmdAction.MESSAGE,
        "amd_message": "/s/vm.wav",
    }
    campaigns.update(db, WHO, campaign, given)
    clear = ("route", "max-lines", "recording", "caller-id-name")
    campaigns.update(db, WHO, campaign, fields_of({"clear": clear}, creating=False))
    spec = campaigns.get(db, campaign).spec
    assert (spec.outbound_route, spec.trunks, spec.max_lines, spec.recording) == (
        None,
        (),
        None,
        None,
    )
    assert spec.caller_id_name is None
    with pytest.raises(InvalidArgument) as info:  # the campaign's checks still hold
        campaigns.update(db, WHO, campaign, fields_of({"clear": ("amd-message",)}, creating=False))
    assert info.value.field == "amd_message"


def test_a_running_campaign_refuses_a_change_naming_what_does_not_exist(
    db: Database, campaign: str
) -> None:
    # a running campaign takes a change at once: set to a queue that does not exist, it
    # had dialled on with no agents at all, silently
    campaigns.update(db, WHO, campaign, {"queue": "later", "agents": ()})  # stopped: fine
    campaigns.update(db, WHO, campaign, {"queue": "outbound"})
    campaigns.start(db, WHO, campaign)
    for changes in (
        {"queue": "nowhere", "agents": ()},
        {"agents": ("1001", "1999"), "queue": None},
        {"outbound_route": "nowhere"},
        {"trunks": ("nowhere",)},
    ):
        with pytest.raises(DomainError, match="is running: it cannot take this change") as info:
            campaigns.update(db, WHO, campaign, changes)
        assert info.value.code == "campaign_not_ready"
    with pytest.raises(InvalidArgument) as bad:
        campaigns.update(db, WHO, campaign, {"caller_id": None})
    assert bad.value.field == "caller_id"
    assert campaigns.get(db, campaign).spec.queue == "outbound"
    campaigns.update(db, WHO, campaign, {"agents": ("1001",), "queue": None})
    assert campaigns.get(db, campaign).spec.agents == ("1001",)


def test_a_flow_the_engines_do_not_serve_is_refused_when_they_are_known(
    db: Database, campaign: str
) -> None:
    # a broadcast started with a flow no engine had: every person who answered was routed
    # to nothing and hung up on (a silent call), each counted "answered"
    spec = CampaignSpec(
        name="reminder", mode=CampaignMode.BROADCAST, flow="reminder", caller_id="+12125550199"
    )
    campaigns.create(db, WHO, spec)
    with pytest.raises(DomainError, match="no IVR flow 'reminder' \\(known: main\\)") as info:
        campaigns.start(db, WHO, "reminder", flows={"main"})
    assert info.value.code == "campaign_not_ready"
    campaigns.start(db, WHO, "reminder", flows={"main", "reminder"})
    amd_flow = {"amd": AmdAction.FLOW, "amd_flow": "machines"}
    with pytest.raises(DomainError, match=r"is running: .* no IVR flow 'machines'"):
        campaigns.update(db, WHO, "reminder", amd_flow, flows={"main", "reminder"})
    campaigns.update(db, WHO, "reminder", amd_flow, flows={"reminder", "machines"})
    campaigns.update(db, WHO, campaign, amd_flow)  # stopped: checked when it starts
    with pytest.raises(DomainError, match="no IVR flow 'machines'"):
        campaigns.start(db, WHO, campaign, flows={"main"})
    campaigns.start(db, WHO, campaign)  # the flows not known (no engine, no files): not checked


def test_a_queue_or_agent_a_running_campaign_dials_for_is_not_removed(
    db: Database, campaign: str
) -> None:
    # `queue remove` left a running campaign with a queue that no longer exists: it ran on,
    # dialling no one, and said nothing
    direct = CampaignSpec(name="direct", agents=("1001",), caller_id="+12125550142")
    campaigns.create(db, WHO, direct)
    campaigns.start(db, WHO, campaign)
    campaigns.start(db, WHO, "direct")
    with pytest.raises(DomainError, match="running campaign\\(s\\) spring") as info:
        queues.remove(db, WHO, "outbound")
    assert info.value.code == "queue_in_use"
    with pytest.raises(DomainError, match="running campaign\\(s\\) direct") as info:
        agents.remove(db, WHO, "1001")
    assert info.value.code == "agent_in_use"
    campaigns.stop(db, WHO, campaign)
    campaigns.pause(db, WHO, "direct")  # start checks them again
    queues.remove(db, WHO, "outbound")
    agents.remove(db, WHO, "1001")


def test_a_trunk_group_or_route_a_running_campaign_dials_through_is_not_removed(
    db: Database, campaign: str
) -> None:
    # `trunk remove`, `trunk group remove` and `outbound remove` were not refused for a
    # running campaign's trunk, group or route: it ran on, each call failing (no route,
    # no gateway) and counted as the lead's failure, and nothing said why
    for name in ("carrier-a", "carrier-b", "carrier-c", "carrier-d"):
        trunks.add(db, WHO, TrunkSpec(name, "sip.example.net"))
    trunk_groups.add(db, WHO, "pool", ["carrier-d"])
    routes.add_outbound(db, WHO, "us", pattern=r"\+1\d{10}", gateway="carrier-b",
                        failover=["carrier-c"])  # fmt: skip
    routes.add_outbound(db, WHO, "pooled", pattern=r"\+44\d+", group="pool")
    for name, how in [
        ("own", {"trunks": ("carrier-a",)}),
        ("routed", {"outbound_route": "us"}),
        ("uk", {"outbound_route": "pooled"}),
    ]:
        spec = CampaignSpec(name=name, queue="outbound", caller_id="+12125550199")
        campaigns.create(db, WHO, replace(spec, **how))
        campaigns.start(db, WHO, name)
    running = "running campaign\\(s\\)"
    refused = [
        (trunks.remove, "carrier-a", f"trunk 'carrier-a' .* {running} own:", "trunk_in_use"),
        (trunks.remove, "carrier-b", f"{running} routed:", "trunk_in_use"),
        (trunks.remove, "carrier-c", f"{running} routed:", "trunk_in_use"),
        (trunk_groups.remove, "pool", f"trunk group 'pool' .* {running} uk ", "trunk_group_in_use"),
        (routes.remove_outbound, "us", f"route 'us' .* {running} routed:", "outbound_route_in_use"),
        (routes.remove_outbound, "pooled", f"{running} uk:", "outbound_route_in_use"),
    ]
    for remove, name, message, code in refused:
        with pytest.raises(DomainError, match=message) as info:
            remove(db, WHO, name)
        assert info.value.code == code
    assert [t.name for t in trunks.list_trunks(db)] == [
        "carrier-a", "carrier-b", "carrier-c", "carrier-d"
    ]  # fmt: skip
    assert [r.name for r in routes.list_outbound(db)] == ["pooled", "us"]
    campaigns.stop(db, WHO, "own")
    campaigns.pause(db, WHO, "routed")  # start checks them again
    campaigns.stop(db, WHO, "uk")
    trunks.remove(db, WHO, "carrier-a")
    routes.remove_outbound(db, WHO, "us")
    trunks.remove(db, WHO, "carrier-b")
    routes.remove_outbound(db, WHO, "pooled")
    trunk_groups.remove(db, WHO, "pool")


def test_a_callback_is_kept_only_for_an_agent_that_exists(db: Database, campaign: str) -> None:
    lead_id = _lead(db, campaign)
    at = datetime(2030, 1, 7, 15, 0, tzinfo=UTC)
    with pytest.raises(NotFound, match="1999") as info:
        campaigns.dispose(db, WHO, campaign, lead_id, "call_back", callback_at=at,
                          callback_agent="1999")  # fmt: skip
    assert info.value.code == "agent_not_found"
    with db.session_scope() as session:
        assert session.get(Lead, lead_id).callback_agent is None  # type: ignore[union-attr]


def test_dispositions_add_remove_and_dispose(db: Database, campaign: str) -> None:
    campaigns.add_disposition(db, WHO, campaign, DispositionSpec("voicemail", 6, retry_after=7200))
    with pytest.raises(AlreadyExists):
        campaigns.add_disposition(db, WHO, campaign, DispositionSpec("other", 6))
    campaigns.remove_disposition(db, WHO, campaign, "wrong_number")
    assert [d.key for d in campaigns.dispositions(db, campaign)] == [1, 2, 3, 4, 6]
    with db.session_scope() as session:
        campaign_id = session.scalar(select(Lead.campaign_id).limit(1))  # none yet
        assert campaign_id is None
    lead_id = _lead(db, campaign, attempts=1)
    at = datetime(2030, 1, 7, 15, 0, tzinfo=UTC)
    assert (
        campaigns.dispose(
            db, WHO, campaign, lead_id, "call_back", callback_at=at, callback_agent="1001"
        )
        is LeadState.PENDING
    )
    assert campaigns.dispose(db, WHO, campaign, lead_id, "do_not_call") is LeadState.DONE
    assert dnc.check(db, "+12125550100", campaign=campaign).lists == ("",)
    with pytest.raises(NotFound):
        campaigns.dispose(db, WHO, campaign, lead_id + 1000, "sale")
    with pytest.raises(InvalidArgument):
        campaigns.dispose(db, WHO, campaign, lead_id, "sale", callback_at=at.replace(tzinfo=None))


def test_a_disposition_is_for_a_call_still_up_or_ended_in_the_last_15_minutes(
    db: Database, campaign: str
) -> None:
    """The attempt is stored as the agent is bridged: a 16-minute call disposed of in its
    wrap-up is the agent's last call (it was refused: the window counted from the bridge)."""
    now = datetime.now(UTC)
    lead_id = _lead(db, campaign)

    def dispose(agent: str, bridged_ago: timedelta, ended_ago: timedelta | None) -> str:
        uuid = f"c0ffee00-0000-4000-8000-00000000{agent}"
        with db.session_scope() as session:
            campaign_id = session.scalar(select(Lead.campaign_id).where(Lead.id == lead_id))
            session.add(LeadAttempt(lead_id=lead_id, campaign_id=campaign_id, agent=agent,
                                    phone="+12125550100", at=now - bridged_ago,
                                    outcome=Outcome.ANSWERED, call_uuid=uuid))  # fmt: skip
            if ended_ago is not None:
                session.add(Cdr(call_uuid=uuid, direction=Direction.OUTBOUND, node="fs1",
                                started_at=now - bridged_ago, ended_at=now - ended_ago,
                                hangup_cause="NORMAL_CLEARING", hangup_by=HangupBy.AGENT,
                                disposition=Disposition.ANSWERED))  # fmt: skip
        return dispositions.by_agent(db, WHO, agent, 2, now).code

    # ended a minute ago, bridged 16 minutes ago
    assert dispose("1001", timedelta(minutes=16), timedelta(minutes=1)) == "not_interested"
    with pytest.raises(NotFound, match="no campaign call up or ended in the last 15 minutes"):
        dispose("1002", timedelta(minutes=40), timedelta(minutes=16))
    # no CDR yet: still up, 30 minutes into it
    assert dispose("1003", timedelta(minutes=30), None) == "not_interested"
    with pytest.raises(NotFound):
        dispose("1004", timedelta(hours=13), None)  # no CDR after 13 hours: lost, not up


def test_summary_counts_leads_and_rates(db: Database, campaign: str) -> None:
    found = campaigns.summary(db, campaign)
    assert found.leads == {"pending": 0, "dialing": 0, "done": 0, "total": 0}
    shown = campaigns.summary_view(found)
    assert shown["abandon_rate"]["us_30_days_pct"] == 0.0
    assert shown["dispositions"][0]["feature_code"] == "*301"


def test_summary_reports_the_amd_false_positives_it_counts(db: Database, campaign: str) -> None:
    # an estimate of people taken for machines raises the rates: show how much of them it is
    campaigns.update(db, WHO, campaign, {"amd_false_positive_pct": 7.6})
    lead_id = _lead(db, campaign)
    with db.session_scope() as session:
        for outcome in [Outcome.MACHINE] * 9 + [Outcome.ANSWERED] * 30:
            store.record_attempt(session, lead_id, outcome, datetime.now(UTC))
    rates = campaigns.summary_view(campaigns.summary(db, campaign))["abandon_rate"]
    assert rates["uk_today"] == {"abandoned": 0.684, "live": 30.684, "amd_estimated": 0.684}
    assert rates["us_30_days"]["amd_estimated"] == 0.684
    assert rates["us_30_days_pct"] == round(0.684 / 30.684 * 100, 3)


def test_do_not_call_goes_on_the_global_list_by_whoever_gave_it(
    db: Database, campaign: str
) -> None:
    """A person's "do not call me" binds the seller: the built-in do_not_call puts the number
    on the global list (it went on the campaign's only, and was dialled by the next one),
    recorded as added by the actor (it said ``agent`` whoever gave it); a ``dnc`` one stays
    the campaign's."""
    assert [d.global_dnc for d in campaigns.dispositions(db, campaign)] == [
        False, False, False, True, False,
    ]  # fmt: skip
    campaigns.add_disposition(db, WHO, campaign, DispositionSpec("own_dnc", 6, dnc=True))
    seller = campaigns.add_disposition(
        db, WHO, campaign, DispositionSpec("seller", 7, global_dnc=True)
    )
    assert seller.dnc and seller.global_dnc
    with pytest.raises(InvalidArgument, match="never retried"):
        campaigns.add_disposition(
            db, WHO, campaign, DispositionSpec("x", 8, retry_after=3600, global_dnc=True)
        )
    first = _lead(db, campaign, "+12125550180")
    second = _lead(db, campaign, "+12125550181")
    third = _lead(db, campaign, "+12125550182")
    campaigns.dispose(db, WHO, campaign, first, "do_not_call")
    campaigns.dispose(db, WHO, campaign, second, "own_dnc")
    campaigns.dispose(db, WHO, campaign, third, "seller")
    assert dnc.check(db, "+12125550180").lists == ("",)
    assert dnc.check(db, "+12125550181").lists == (campaign,)
    assert dnc.check(db, "+12125550182").lists == ("",)
    entry = dnc.listed(db)[-1]
    assert (entry["number"], entry["added_by"]) == ("+12125550180", "cli:tester")
    assert entry["reason"] == f"{campaign}: disposition do_not_call"
