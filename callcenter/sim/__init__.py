"""A FreeSWITCH simulator speaking the real ESL wire protocol over TCP (see DESIGN.md).

It plays a FreeSWITCH configured from ``freeswitch-conf/``, as recorded in
``../shared/freeswitch/sessions-3``: callers enter ``callcenter-carriers`` (media
negotiated at the INVITE, so no CHANNEL_PROGRESS_MEDIA on ``answer``) and park in the
``callcenter`` context; agents are reached with ``user/<ext>@callcenter`` on
``callcenter-agents``; trunks with ``sofia/gateway/<gw>/<number>``. Each leg carries the
variables such a FreeSWITCH sets over its life (``varsets``), in every event that carries
variables, so the controller parses what it would parse against the real switch.
tests/integration/sim/test_event_cost.py holds it to the recordings: per leg and event
type, mean JSON size and header names within 20% (measured within 3%), the sessions-3
event order exactly.

Known differences from a real FreeSWITCH:

- Events only an ``event json ALL`` subscriber gets are not sent: CODEC, PRIVATE_COMMAND,
  PRESENCE_IN (``user/`` legs), MEDIA_BUG_START/STOP of recordings (eavesdrop's are sent,
  s15: ``sim.eavesdrop``), API, RE_SCHEDULE and the ``sofia::*`` CUSTOM events but the
  gateway ones. The controller subscribes to none of them. The gateways of
  ``callcenter-carriers`` (``sim.gateways``: ``define``, ``fail``, ``restore``) send
  ``sofia::gateway_add``/``_state``/``_delete`` with the s12 headers and answer ``rescan``,
  ``killgw``, ``sofia xmlstatus|status gateway``. A call dialled through a gateway ends
  as its state says (not loaded: ``-ERR INVALID_GATEWAY``, ping not UP: ``-ERR
  GATEWAY_DOWN``, both with no channel at all), else as the carrier behind it answers
  (``sim.gateways.carrier``, else the ``set_far_end`` policy). A gateway no test defined
  is taken as loaded and up, where a real FreeSWITCH answers ``INVALID_GATEWAY``.
- Sessions per second (``Simulator(sessions_per_second=30)``, ``fsctl sps N``) are counted
  as the core counts them (``SimCore.request_session``): ``sps - 1`` sessions in each whole
  second of the simulated clock; an originate beyond them answers ``-ERR
  DESTINATION_OUT_OF_ORDER`` with no channel, a caller beyond them gets no channel
  (``place_call`` returns ""), as switch_core_session.c and mod_sofia do (not recorded: a
  real switch's seconds start where its timer does). A HEARTBEAT goes out every 20 s of its
  clock (``SimCore.heartbeat_interval``) with the recorded headers; its
  ``Session-Per-Sec`` is what the current second has left, its ``-Last``, ``-Max`` and
  ``-FiveMin`` the sessions asked for (refused ones too) in the last, busiest and busiest
  recent second, as ``status`` prints them; Idle-CPU is a constant.
- Values have the recorded shapes and sizes, not the recorded bytes: SIP tags, Call-IDs,
  ports and SDP session ids are random; RTP statistics at hang-up are estimates.
- ``Channel-State-Number`` follows ``Channel-State``; FreeSWITCH's sometimes lags an event.
- An execute sent while another application runs waits its turn here. FreeSWITCH runs it
  within a running playback (``switch_ivr_play_file`` reads the channel's queued messages
  at every frame), unless it was sent with ``event-lock: true``; a call's actor waits for
  each execute's end before the next (``CallControl.execute``).
- Only each leg's own order is checked. Between legs the simulator's interleaving can
  differ (at a hang-up of a bridged call, FreeSWITCH may finish B before A's UNBRIDGE).
  A B leg never passes CS_CONSUME_MEDIA on its way into a bridge (FreeSWITCH does in some
  runs).
- Called parties of outbound calls (``sim.traffic``, ``behaviour.Voice``) send audio that
  only ``wait_for_silence`` and mod_avmd (``avmd_start``/``avmd_stop``, ``CUSTOM
  avmd::start|beep|stop``) hear (``sim.listening``): the frame counting is switch_ivr.c's,
  the beep detection an assumed 160 ms after the beep starts. No other media analysis
  (``detect_speech`` needs an ASR module, not loaded by freeswitch-conf) is simulated.
- Not simulated: feature codes dialled from agents' phones, eavesdrop. An agent's phone
  can place a consult call (``Simulator.consult``, ``cc_entry=agent_outbound``) and
  transfer: ``Simulator.refer`` (blind REFER, as recorded in sessions-3 s13) and
  ``Simulator.refer_replaces`` (attended, as mod_sofia's source says: not recorded).
- mod_xml_cdr (``xml_cdr=XmlCdrConfig(...)``, off by default) posts each A leg's CDR with
  the variables the leg has and one callflow (FreeSWITCH's document also carries
  ``channel_data`` flags, ``call-stats`` and ``app_log``); its retries delay the leg's
  CHANNEL_HANGUP_COMPLETE as FreeSWITCH's do.
  Legs whose variables no sessions-3 recording shows (a ring timeout, an agent hanging up
  first, ``uuid_transfer``) use the closest recorded sets.
"""

from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour, Voice
from callcenter.sim.simulator import ChannelSnapshot, Simulator

__all__ = ["AgentBehaviour", "CallerBehaviour", "ChannelSnapshot", "Simulator", "Voice"]
