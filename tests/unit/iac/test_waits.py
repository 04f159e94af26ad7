"""The Bus's inbox and request deadlines (:mod:`autogpt.iac.waits`)."""

from __future__ import annotations

import asyncio

import pytest

from autogpt.errors import RequestTimeoutError
from autogpt.iac.envelope import Address, Command, Result
from autogpt.iac.memory import InMemoryHub
from autogpt.iac.waits import TICK, Deadlines, Inbox


async def test_inbox_keeps_order_and_refuses_past_its_size() -> None:
    inbox: Inbox[int] = Inbox(2)
    assert inbox.put(1)
    assert inbox.put(2)
    assert not inbox.put(3)
    assert [await inbox.get(), await inbox.get()] == [1, 2]
    assert inbox.put(3)


async def test_closing_the_inbox_wakes_every_receiver_after_what_was_queued() -> None:
    inbox: Inbox[str] = Inbox(8)
    waiting = [asyncio.create_task(inbox.get()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(task.done() for task in waiting)
    inbox.put("last")
    inbox.close()
    assert await asyncio.gather(*waiting) == ["last", None, None]  # the first in line gets it
    assert await inbox.get() is None


async def test_an_item_handed_to_a_cancelled_receiver_goes_to_the_next() -> None:
    inbox: Inbox[str] = Inbox(8)
    first = asyncio.create_task(inbox.get())
    second = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    inbox.put("x")  # wakes the first, which is cancelled before it runs
    first.cancel()
    assert await second == "x"
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_cancelled_receiver_leaves_no_waiter_behind() -> None:
    inbox: Inbox[str] = Inbox(8)
    gone = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    inbox.put("y")
    assert await inbox.get() == "y"


async def test_a_deadline_fails_the_future_with_a_typed_error_naming_the_peer() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines()
    future: asyncio.Future[None] = loop.create_future()
    started = loop.time()
    deadlines.add(0.05, future, Address.role("mute"))
    with pytest.raises(RequestTimeoutError, match=r"no reply from role:mute within 0\.05s"):
        await future
    assert loop.time() - started + 1e-3 >= 0.05
    assert loop.time() - started < 0.05 + TICK + 0.5  # late by at most a tick (and a busy machine)


async def test_requests_due_together_share_one_timer_and_an_answered_one_is_left_alone() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines()
    answered: asyncio.Future[str] = loop.create_future()
    waiting: asyncio.Future[str] = loop.create_future()
    slot = deadlines.add(0.05, answered, "a")
    assert deadlines.add(0.05, waiting, "b") in (slot, slot + 1)  # the clock moved between the two, at most a tick
    answered.set_result("reply")
    deadlines.discard(slot, answered)
    with pytest.raises(RequestTimeoutError, match="from b"):
        await waiting
    assert answered.result() == "reply"


async def test_answered_requests_leave_no_timers_behind() -> None:
    hub = InMemoryHub()
    agent = hub.connect("echo")
    user = hub.connect("user")

    async def echo() -> None:
        async for env in agent:
            await agent.reply(env, Result(output="ok"))

    serving = asyncio.create_task(echo())
    await asyncio.gather(*(user.call(Address.role("echo"), Command("run"), timeout=60) for _ in range(50)))
    assert user._deadlines._slots == {}  # each answered request took its deadline with it
    serving.cancel()
    await user.close()


async def test_a_closed_bus_cancels_its_timers() -> None:
    hub = InMemoryHub()
    hub.connect("mute")
    user = hub.connect("user")
    asking = asyncio.create_task(user.request(Address.role("mute"), Command("run"), timeout=60))
    await asyncio.sleep(0)
    assert len(user._deadlines._slots) == 1
    await user.close()
    with pytest.raises(Exception, match="closed"):
        await asking
    assert user._deadlines._slots == {}


async def test_an_endless_timeout_waits_for_the_reply() -> None:
    hub = InMemoryHub()
    agent = hub.connect("echo")
    user = hub.connect("user")
    asking = asyncio.create_task(user.call(Address.role("echo"), Command("run"), timeout=float("inf")))
    request = await agent.receive()
    assert request is not None
    assert user._deadlines._slots == {}  # no timer at all
    await agent.reply(request, Result(output="late but fine"))
    assert (await asking).output == "late but fine"
    assert user._pending == {}
