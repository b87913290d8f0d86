"""A worker forked while another thread holds EPANET's scratch lock does not wait for ever."""

from __future__ import annotations

import multiprocessing
import threading

from hydro import _toolkit


def _enter_scratch(done) -> None:
    with _toolkit.epanet_scratch():
        done.set()


def test_a_child_forked_while_the_lock_is_held_can_take_it():
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with _toolkit._SCRATCH_LOCK:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        ctx = multiprocessing.get_context("fork")
        done = ctx.Event()
        child = ctx.Process(target=_enter_scratch, args=(done,))
        child.start()
        child.join(20)
        alive = child.is_alive()
        if alive:
            child.kill()
        assert not alive and done.is_set(), "the forked child waited for the parent's lock"
    finally:
        release.set()
        holder.join()
