"""A FreeSWITCH simulator speaking the real ESL wire protocol over TCP (see DESIGN.md)."""

from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import ChannelSnapshot, Simulator

__all__ = ["AgentBehaviour", "CallerBehaviour", "ChannelSnapshot", "Simulator"]
