"""What waits is a coroutine, and what changes is told: a sync runs on asyncio while the
sync observer hears its progress and the case observer the cases it changed; a cancelled
sync loses nothing and the next one completes; a cancelled login signs nobody in, even when
the server's answer comes after; codes from a newer app cross the boundary as themselves."""

import asyncio
import pathlib
import threading
import time

from conftest import PASSWORD, open_store, run

FIXTURE = (pathlib.Path(__file__).resolve().parents[3]
           / "core" / "tests" / "fixtures" / "forward_compat" / "newer_codes.automerge")


def make_observers(fc):
    class States(fc.SyncObserver):
        def __init__(self):
            self.states = []
            self.running = threading.Event()
            self.hold = 0.0

        def on_sync_state(self, state):
            self.states.append(state)
            if state.is_RUNNING() and state.progress.total > 0 and not self.running.is_set():
                self.running.set()
                # Hold the sync here a moment (observers run on its thread), so that a
                # test can cancel it while it is under way.
                time.sleep(self.hold)

    class Changes(fc.CaseObserver):
        def __init__(self):
            self.changes = []

        def on_cases_changed(self, case_ids, origin):
            self.changes.append((origin, sorted(case_ids)))

    return States(), Changes()


def test_sync_reports_progress_and_changed_cases(fc, server, phone):
    anna, anna_s = phone("anna")
    states, changes = make_observers(fc)
    anna.add_sync_observer(states)
    anna.add_case_observer(changes)
    cases = [anna.create_case(fc.NewCase(team="north", client=fc.ClientInput(name=f"Lan {i}")))
             for i in range(3)]
    assert [c for _, c in changes.changes] == [[c] for c in cases]
    assert {o for o, _ in changes.changes} == {fc.ChangeOrigin.LOCAL}

    async def main():
        # The event loop stays free while the sync runs on a background thread.
        ticks = 0
        task = asyncio.ensure_future(anna.sync(server.url, anna_s.token))
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.001)
        return await task, ticks

    report, ticks = run(main())
    assert report.sent == 3 and report.errors == []
    assert ticks > 0
    running = [s.progress for s in states.states if s.is_RUNNING()]
    assert running[-1].total == 3 and running[-1].sent == 3 and running[-1].done == 3
    assert states.states[-1].is_IDLE()

    # A second phone of the same worker receives the three cases, and is told so.
    other, other_s = phone("anna")
    states2, changes2 = make_observers(fc)
    other.add_sync_observer(states2)
    handle = other.add_case_observer(changes2)
    report = run(other.sync(server.url, other_s.token))
    assert report.new_cases == 3 and sorted(report.changed) == sorted(cases)
    assert changes2.changes == [(fc.ChangeOrigin.SYNC, sorted(cases))]
    assert [s.progress.received for s in states2.states if s.is_RUNNING()][-1] == 3
    # An edit there travels back and is named as received.
    other.add_visit(cases[0], fc.VisitInput(kind="home", note="second phone"))
    run(other.sync(server.url, other_s.token))
    report = run(anna.sync(server.url, anna_s.token))
    assert (report.received, report.changed) == (1, [cases[0]])
    assert changes.changes[-1] == (fc.ChangeOrigin.SYNC, [cases[0]])
    assert other.remove_observer(handle) and not other.remove_observer(handle)


def test_offline_and_failed_states_carry_their_kind(fc, server, phone, tmp_path):
    anna, anna_s = phone("anna")
    states, _ = make_observers(fc)
    anna.add_sync_observer(states)
    anna.create_case(fc.NewCase(team="north", client=fc.ClientInput(name="Lan")))
    try:
        run(anna.sync("http://127.0.0.1:9", anna_s.token))
        raise AssertionError("no server there")
    except fc.FieldcaseError.Network:
        pass
    assert states.states[-1].is_OFFLINE()
    try:
        run(anna.sync(server.url, "not-a-token"))
        raise AssertionError("a bad token")
    except fc.FieldcaseError.Unauthorized:
        pass
    assert states.states[-1].is_FAILED()
    assert states.states[-1].kind == fc.ErrorKind.UNAUTHORIZED
    assert anna.refused_cases() == []


def test_a_cancelled_sync_loses_nothing_and_the_next_completes(fc, server, phone):
    anna, anna_s = phone("anna")
    cases = [anna.create_case(fc.NewCase(team="north", client=fc.ClientInput(name=f"Bé {i}")))
             for i in range(40)]
    states, _ = make_observers(fc)
    states.hold = 0.5
    anna.add_sync_observer(states)

    async def cancel_midway():
        task = asyncio.ensure_future(anna.sync(server.url, anna_s.token))
        while not states.running.is_set():
            await asyncio.sleep(0.005)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return "cancelled"
        return "completed"

    started = time.monotonic()
    assert run(cancel_midway()) == "cancelled"
    # The sync itself stops promptly and says so (Idle), though the caller moved on.
    while not states.states[-1].is_IDLE():
        assert time.monotonic() - started < 10, "the cancelled sync did not stop"
        time.sleep(0.01)
    done = [s.progress.done for s in states.states if s.is_RUNNING()]
    assert done[-1] < 40, "cancelled before every case was through"
    assert len(anna.list_cases(fc.CaseFilter(sort=fc.SortBy.LAST_CHANGE))) == 40

    states.hold = 0.0
    report = run(anna.sync(server.url, anna_s.token))
    assert report.errors == []
    # Everything reached the server: a second phone receives every case.
    other, other_s = phone("anna")
    report = run(other.sync(server.url, other_s.token))
    assert report.new_cases == 40 and sorted(report.changed) == sorted(cases)


def test_codes_from_a_newer_app_cross_as_themselves(fc, tmp_path):
    store = open_store(fc, tmp_path / "p.sqlite", bytes([3] * 32))
    case = store.import_case(FIXTURE.read_bytes())
    f = store.get_case(case)
    assert f.stage == fc.Stage.UNKNOWN(code="verification")
    assert f.intake.preliminary_risk == fc.RiskLevel.UNKNOWN(code="imminent_danger")
    assert f.referrals[0].status.code == "waitlisted"
    # str() is the stored code (Rust's Display), known or not.
    assert (str(f.stage), str(fc.RiskLevel.CONCERN())) == ("verification", "concern")
    summary = store.list_cases(fc.CaseFilter(sort=fc.SortBy.LAST_CHANGE))[0]
    assert summary.stage.code == "verification"


def test_login_and_open_are_coroutines(fc, server, tmp_path):
    async def main():
        store = await fc.open_store(str(tmp_path / "c.sqlite"), bytes([7] * 32))
        session = await store.login(server.url, "bao", PASSWORD, "bao's phone")
        await store.logout(server.url, session.token)
        return session

    assert run(main()).user_id


class HeldRelay:
    """A relay on 127.0.0.1 in front of the real server that holds every connection until
    `release` is set, then passes bytes both ways: a login held on its way, as on a slow
    network, that the app cancels meanwhile."""

    def __init__(self, upstream_url):
        import socket
        import urllib.parse
        up = urllib.parse.urlparse(upstream_url)
        self.upstream = (up.hostname, up.port)
        self.release = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import socket
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1

            def serve(client=client):
                self.release.wait(30)
                server = socket.create_connection(self.upstream)

                def pump(a, b):
                    try:
                        while data := a.recv(65536):
                            b.sendall(data)
                    except OSError:
                        pass
                    finally:
                        for s in (a, b):
                            try:
                                s.shutdown(socket.SHUT_RDWR)
                            except OSError:
                                pass
                threading.Thread(target=pump, args=(server, client), daemon=True).start()
                pump(client, server)
            threading.Thread(target=serve, daemon=True).start()

    def close(self):
        self.listener.close()


def test_a_cancelled_login_signs_nobody_in(fc, server, tmp_path):
    """A login cancelled by the app (its coroutine cancelled while the server's answer is on
    its way) signs nobody in on the phone, even when the answer arrives afterwards: edits
    still need a signed-in user; a login after it works."""
    store = open_store(fc, tmp_path / "phone.sqlite", bytes([7] * 32))
    relay = HeldRelay(server.url)

    async def cancelled():
        with_timeout = asyncio.wait_for(
            store.login(relay.url, "anna", PASSWORD, "Anna's phone"), timeout=0.5)
        try:
            await with_timeout
        except asyncio.TimeoutError:
            return True
        return False

    assert run(cancelled()), "the login was still waiting when it was cancelled"
    assert relay.connections >= 1, "the login reached the relay"
    relay.release.set()  # the server's answer now arrives, after the cancellation
    deadline = time.time() + 10
    while time.time() < deadline:
        time.sleep(0.2)
        try:
            store.create_case(fc.NewCase(team="north", client=fc.ClientInput(name="Олена")))
        except fc.FieldcaseError.NotSignedIn:
            continue
        raise AssertionError("a cancelled login signed the user in")
    relay.close()
    session = run(store.login(server.url, "anna", PASSWORD, "Anna's phone"))
    assert session.user_id
    store.create_case(fc.NewCase(team="north", client=fc.ClientInput(name="Олена")))
