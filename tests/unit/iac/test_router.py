from __future__ import annotations

import pytest

from autogpt.errors import (
    InvalidInputError,
    NoLiveAgentError,
    PermissionDeniedError,
    UnknownActionError,
    UnknownRecipientError,
)
from autogpt.iac.envelope import Address, Command, Envelope, Kind, Result, State, Status
from autogpt.iac.router import AgentRecord, Router


def _router(*records: tuple[str, str]) -> Router:
    router = Router()
    for agent_id, role in records:
        router.register(AgentRecord(agent_id, role))
    return router


def test_route_by_agent_id() -> None:
    router = _router(("a1", "architect"), ("b1", "backend"))
    assert router.resolve(Address.agent("b1")) == ("b1",)


def test_round_robin_over_live_instances_of_a_role() -> None:
    router = _router(("b1", "backend"), ("b2", "backend"), ("b3", "backend"), ("a1", "architect"))
    picks = [router.resolve(Address.role("backend"))[0] for _ in range(6)]
    assert picks == ["b1", "b2", "b3", "b1", "b2", "b3"]


def test_round_robin_skips_an_instance_that_left() -> None:
    router = _router(("b1", "backend"), ("b2", "backend"), ("b3", "backend"))
    assert router.resolve(Address.role("backend")) == ("b1",)
    router.unregister("b2")
    picks = [router.resolve(Address.role("backend"))[0] for _ in range(4)]
    assert "b2" not in picks
    assert sorted(set(picks)) == ["b1", "b3"]


def test_unknown_agent_id_is_a_typed_error() -> None:
    router = _router(("a1", "architect"))
    with pytest.raises(UnknownRecipientError, match="nope"):
        router.resolve(Address.agent("nope"))


def test_role_without_live_agent_is_a_typed_error_naming_connected_roles() -> None:
    router = _router(("a1", "architect"))
    with pytest.raises(NoLiveAgentError) as caught:
        router.resolve(Address.role("backend"))
    assert "architect" in str(caught.value)
    router.unregister("a1")
    with pytest.raises(NoLiveAgentError):
        router.resolve(Address.role("architect"))


def test_topics_reach_every_subscriber_and_may_be_empty() -> None:
    router = Router()
    router.register(AgentRecord("a1", "architect", topics=frozenset({"news"})))
    router.register(AgentRecord("b1", "backend"))
    router.subscribe("b1", "news")
    assert router.resolve(Address.topic("news")) == ("a1", "b1")
    assert router.resolve(Address.topic("quiet")) == ()
    router.unsubscribe("a1", "news")
    assert router.subscribers("news") == frozenset({"b1"})
    router.unregister("b1")
    assert router.subscribers("news") == frozenset()


def test_duplicate_and_incomplete_registrations_are_refused() -> None:
    router = _router(("a1", "architect"))
    with pytest.raises(InvalidInputError, match="already registered"):
        router.register(AgentRecord("a1", "backend"))
    with pytest.raises(InvalidInputError):
        router.register(AgentRecord("", "backend"))
    with pytest.raises(UnknownRecipientError):
        router.subscribe("ghost", "news")


def test_read_api() -> None:
    router = _router(("b1", "backend"), ("b2", "backend"), ("a1", "architect"))
    assert len(router) == 3
    assert "b1" in router
    assert "zz" not in router
    assert router.roles() == {"architect": 1, "backend": 2}
    assert [r.agent_id for r in router.by_role("backend")] == ["b1", "b2"]
    assert router.get("a1") == AgentRecord("a1", "architect")
    assert {r.agent_id for r in router} == {"a1", "b1", "b2"}
    assert router.unregister("nobody") is None


def test_requests_in_flight_are_orphaned_when_their_target_leaves() -> None:
    router = _router(("u", "user"), ("b1", "backend"), ("b2", "backend"))
    first = Envelope.new(Address.role("backend"), Command("run"), kind=Kind.REQUEST, sender="u", session_id="s")
    second = Envelope.new(Address.role("backend"), Command("run"), kind=Kind.REQUEST, sender="u")
    assert router.route(first) == ("b1",)
    assert router.route(second) == ("b2",)
    # b2 answers: its request is settled
    router.route(second.answer(Result(output="ok"), sender="b2"))
    assert [f.request_id for f in router.inflight()] == [first.id]
    departure = router.unregister("b1")
    assert departure is not None
    assert [(o.request_id, o.requester, o.session_id) for o in departure.orphaned] == [(first.id, "u", "s")]
    assert router.inflight() == ()


def test_requests_of_a_departed_requester_are_forgotten() -> None:
    router = _router(("u", "user"), ("b1", "backend"))
    router.route(Envelope.new(Address.agent("b1"), Command("run"), kind=Kind.REQUEST, sender="u"))
    departure = router.unregister("u")
    assert departure is not None
    assert departure.orphaned == ()
    assert router.inflight() == ()


def test_requests_to_topics_are_refused_and_replies_only_settle_from_the_target() -> None:
    from autogpt.errors import InvalidEnvelopeError

    router = _router(("u", "user"), ("b1", "backend"), ("m", "user"))
    with pytest.raises(InvalidEnvelopeError, match="exactly one answerer"):
        router.route(Envelope.new(Address.topic("news"), Command("run"), kind=Kind.REQUEST, sender="u"))
    req = Envelope.new(Address.agent("b1"), Command("run"), kind=Kind.REQUEST, sender="u")
    router.route(req)
    with pytest.raises(PermissionDeniedError, match="may not answer"):
        router.route(req.answer(Result(output="forged"), sender="m"))  # not the asked agent
    with pytest.raises(PermissionDeniedError, match="may not report"):
        router.route(req.answer(Status(State.ACCEPTED), kind=Kind.EVENT, sender="m"))
    assert [f.request_id for f in router.inflight()] == [req.id]
    assert router.outstanding("u") == 1
    assert router.route(req.answer(Result(output="real"), sender="b1")) == ("u",)
    assert router.inflight() == ()
    assert router.outstanding("u") == 0
    with pytest.raises(PermissionDeniedError):  # answered once: a second reply is refused too
        router.route(req.answer(Result(output="again"), sender="b1"))


def _offering(*records: tuple[str, frozenset[str] | None]) -> Router:
    router = Router()
    for agent_id, actions in records:
        router.register(AgentRecord(agent_id, "generic", actions=actions))
    return router


def _request(router: Router, to_kind: str, to: str, action: str | None, request_id: str = "r1") -> tuple[str, ...]:
    return router.route_fields(Kind.REQUEST, to_kind, to, request_id, "u1", action=action)


def test_a_request_for_an_action_the_agent_does_not_offer_is_refused_and_not_in_flight() -> None:
    router = _offering(("g1", frozenset({"write", "help"})))
    with pytest.raises(UnknownActionError) as caught:
        _request(router, "agent", "g1", "delete")
    assert "g1 offers: help, write" in str(caught.value)
    assert router.inflight() == ()
    assert _request(router, "agent", "g1", " Write ") == ("g1",)  # matched as agents dispatch
    assert _request(router, "agent", "g1", "", "r2") == ("g1",)  # a plain prompt: the main action
    assert _request(router, "agent", "g1", None, "r3") == ("g1",)  # a task, or an unread command
    assert len(router.inflight()) == 3


def test_role_routing_picks_only_agents_offering_the_action() -> None:
    router = _offering(("g1", frozenset({"write"})), ("g2", frozenset({"draw"})), ("g3", frozenset({"write"})))
    picks = [_request(router, "role", "generic", "write", f"w{i}")[0] for i in range(4)]
    assert picks == ["g1", "g3", "g1", "g3"]
    assert _request(router, "role", "generic", "draw", "d1") == ("g2",)
    with pytest.raises(UnknownActionError, match="no live agent of role 'generic' has the action 'sing'"):
        _request(router, "role", "generic", "sing", "s1")
    router.register(AgentRecord("g4", "generic"))  # said nothing: takes whatever comes
    assert _request(router, "role", "generic", "sing", "s2") == ("g4",)


def test_only_requests_are_checked() -> None:
    router = _offering(("g1", frozenset({"write"})))
    assert router.route_fields(Kind.EVENT, "agent", "g1", "e1", "u1", action="delete") == ("g1",)
