"""One call from python3-aiortc (Debian) to a Parley edge, for the interop tests.

Sends a 440 Hz tone, counts the echo it hears back, and prints one JSON line
with what happened. Options let a test reproduce what other stacks do:
--data-channel adds an `events` channel (aiortc then gives each m-section its
own ICE credentials), --no-consent stops aioice's RFC 7675 consent checks once
connected (as libnice does).
"""

import argparse
import asyncio
import fractions
import json
import math
import sys
import time
import urllib.error
import urllib.request

import aioice
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

RATE = 48_000
SAMPLES = 960  # 20 ms


class ToneTrack(MediaStreamTrack):
    """A 440 Hz tone in 20 ms frames, paced in real time."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pts = 0
        self._start = None

    async def recv(self) -> AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._pts / RATE
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        t = (np.arange(SAMPLES) + self._pts) / RATE
        pcm = (np.sin(2 * math.pi * 440 * t) * 8000).astype(np.int16)
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        self._pts += SAMPLES
        return frame


def request(method: str, url: str, token: str, body: bytes | None = None):
    req = urllib.request.Request(url, data=body, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        req.add_header("Content-Type", "application/sdp")
    try:
        with urllib.request.urlopen(req, timeout=15) as res:
            return res.status, dict(res.headers), res.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edge", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--data-channel", action="store_true")
    ap.add_argument("--no-consent", action="store_true")
    args = ap.parse_args()

    if args.no_consent:
        # What libnice does once connected: no more consent checks at all.
        async def no_consent_checks(self) -> None:
            await asyncio.Event().wait()

        aioice.Connection.query_consent = no_consent_checks

    out: dict = {"framesReceived": 0, "loudFrames": 0, "messages": []}
    pc = RTCPeerConnection()
    pc.addTrack(ToneTrack())
    if args.data_channel:
        dc = pc.createDataChannel("events")
        dc.on("message", lambda m: out["messages"].append(str(m)))

    done = asyncio.get_running_loop().create_future()

    @pc.on("track")
    def on_track(track) -> None:
        async def read() -> None:
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    return
                out["framesReceived"] += 1
                pcm = frame.to_ndarray().astype(np.float64)
                if np.sqrt(np.mean(pcm * pcm)) > 500:
                    out["loudFrames"] += 1
                    loud.append(time.monotonic())

        asyncio.ensure_future(read())

    states: list[str] = []
    loud: list[float] = []

    @pc.on("connectionstatechange")
    def on_state() -> None:
        states.append(pc.connectionState)
        if pc.connectionState in ("failed", "closed") and not done.done():
            done.set_result(None)

    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp
    out["offer"] = offer
    status, headers, body = request("POST", f"{args.edge}/v1/sessions", args.token, offer.encode())
    out["status"] = status
    if status != 201:
        out["problem"] = body
        out["contentType"] = headers.get("Content-Type") or headers.get("content-type")
        print(json.dumps(out))
        await pc.close()
        return 0
    out["answer"] = body
    location = headers.get("Location") or headers.get("location")
    out["location"] = location
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))

    try:
        await asyncio.wait_for(asyncio.shield(done), timeout=args.seconds)
    except asyncio.TimeoutError:
        pass
    ended = time.monotonic()
    if loud:
        out["loudSpanS"] = loud[-1] - loud[0]
        out["lastLoudAgoS"] = ended - loud[-1]
    out["states"] = states
    out["finalState"] = pc.connectionState
    if location:
        out["deleteStatus"] = request("DELETE", f"{args.edge}{location}", args.token)[0]
    await pc.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
