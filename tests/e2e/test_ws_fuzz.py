"""Property-based fuzzing of the WebSocket tier's requests: any text frame (garbage, JSON of any
shape, requests with wrong methods, params and ids, streams that do not exist) gets a JSON answer
or a closed connection with a WebSocket close code, never a crashed process, and no traceback in
the logs afterwards."""

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.e2e.wsutil import WsEnv, ws_with_engines
from tests.logcheck import tracebacks

CLOSE_CODES = {1003, 1007, 1008, 1009}
EXAMPLES = int(os.environ.get("FRAME_FUZZ_EXAMPLES", "300"))  # `make soak`: 3000
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
stream_names = st.sampled_from(
    ["btcusdt@trade", "ethusdt@depth@100ms", "btcusdt@kline_1m", "nope@trade", "btcusdt@depth99", "@", ""]
)
requests = st.fixed_dictionaries(
    {
        "method": st.sampled_from(
            [
                "SUBSCRIBE",
                "UNSUBSCRIBE",
                "LIST_SUBSCRIPTIONS",
                "SET_PROPERTY",
                "GET_PROPERTY",
                "subscribe",
                "DROP",
            ]
        )
        | st.text(max_size=12)
    },
    optional={"params": st.lists(stream_names | json_values, max_size=5) | json_values, "id": json_values},
)
frames = st.one_of(
    requests.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=50).map(lambda b: b.decode("latin-1")),
    st.integers(1, 5_000).map(lambda n: "[" * n + "]" * n),  # nesting past the recursion limit
    st.integers(1, 6_000).map(lambda n: '{"method":"LIST_SUBSCRIPTIONS","id":' + "9" * n + "}"),
)


@pytest.fixture(scope="module")
def ws_env(redis_url: str) -> Iterator[WsEnv]:
    with ws_with_engines([], REQUESTS_PER_S="1000", REQUESTS_BURST="1000") as env:
        yield env


class Session:
    """One connection, opened again whenever the server closes it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: ClientConnection | None = None
        self.closes: list[int] = []
        self.opened = contextlib.ExitStack()

    def exchange(self, frame: str) -> Any:
        if self.conn is None:
            self.conn = self.opened.enter_context(connect(f"{self.url}/ws", open_timeout=10))
        try:
            self.conn.send(frame)
            return json.loads(self.conn.recv(timeout=5))
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            assert code in CLOSE_CODES, (frame, code)
            self.closes.append(code)
            self.conn = None
            return None


def test_any_text_frame_gets_an_answer_or_a_close(ws_env: WsEnv) -> None:
    session = Session(ws_env.ws_url)
    answers: list[Any] = []

    @given(frame=frames)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def fuzz(frame: str) -> None:
        answer = session.exchange(frame)
        if answer is not None:
            answers.append(answer)
            assert isinstance(answer, dict) and (
                "result" in answer or "error" in answer or "stream" in answer
            )

    with session.opened:
        fuzz()
    assert ws_env.supervisor.services["ws"].process is not None
    assert ws_env.supervisor.services["ws"].process.poll() is None, "the ws process died"
    assert any("error" in a for a in answers) and any("result" in a for a in answers)
    with connect(f"{ws_env.ws_url}/ws") as fresh:
        fresh.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 7}))
        assert json.loads(fresh.recv(timeout=5)) == {"result": [], "id": 7}
    assert tracebacks(ws_env.log_dir) == []
