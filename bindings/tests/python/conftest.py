"""Shared fixtures: the generated modules (target/bindings/python, made by
scripts/bindings.sh: `fieldcase_bindings`, the calls, and `fieldcase_core`, the core's own
records and enums) and a real fieldcase-server on 127.0.0.1 with a north team.

Calls that wait (open_store, login, sync, logout, salvage) are coroutines: the tests run
them with `run` (asyncio.run), as an app runs them on its event loop."""

import asyncio
import json
import types
import os
import pathlib
import signal
import subprocess
import sys
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "target" / "bindings" / "python"))

PASSWORD = "a long test password"


def _server_bin():
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    exe = target / "debug" / "fieldcase-server"
    assert exe.exists(), "build the server first: cargo build -p fieldcase-server"
    return str(exe)


def run(coroutine):
    """Runs one coroutine of the bindings to its end on a new event loop."""
    return asyncio.run(coroutine)


@pytest.fixture(scope="session")
def fc():
    """The bindings' calls and the core's types, as one namespace."""
    import fieldcase_bindings
    import fieldcase_core

    names = {k: v for k, v in vars(fieldcase_core).items() if not k.startswith("_")}
    names.update({k: v for k, v in vars(fieldcase_bindings).items() if not k.startswith("_")})
    return types.SimpleNamespace(**names)


def open_store(fc, path, key):
    return run(fc.open_store(str(path), key))


class Server:
    def __init__(self, tmp):
        self.db = str(tmp / "server.sqlite")
        env = dict(os.environ, FIELDCASE_PASSWORD=PASSWORD, FIELDCASE_PASSWORD_ITERATIONS="1000",
                   RUST_LOG="warn")
        self.env = env
        self.admin("team", "add", "north")
        for user, role in [("anna", "worker"), ("bao", "worker"), ("malee", "supervisor")]:
            self.admin("user", "add", user, "--role", role, "--team", "north")
        self.proc = subprocess.Popen(
            [_server_bin(), "--db", self.db, "serve", "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
        for line in self.proc.stdout:
            if line.startswith("Listening on "):
                self.url = line.split()[2]
                break
        else:
            raise RuntimeError("the server did not start")

    def admin(self, *args):
        subprocess.run([_server_bin(), "--db", self.db, *args], check=True, env=self.env,
                       stdout=subprocess.DEVNULL)

    def post(self, path, token, body):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"authorization": f"Bearer {token}",
                                              "content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as res:
            return json.loads(res.read())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=30) == 0


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    yield s
    s.stop()


@pytest.fixture
def phone(fc, tmp_path, server):
    """A phone: an encrypted store in its own file, logged in as `user`."""
    def make(user, n=[0]):
        n[0] += 1
        store = open_store(fc, tmp_path / f"{user}-{n[0]}.sqlite", bytes([n[0]] * 32))
        session = run(store.login(server.url, user, PASSWORD, f"{user}'s phone"))
        return store, session
    return make
