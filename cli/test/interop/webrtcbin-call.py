"""One call from GStreamer webrtcbin (Debian, libnice ICE) to a Parley edge.

Sends a 440 Hz Opus tone, counts the decoded echo it hears back, and prints
one JSON line with what happened. --bundle-policy picks webrtcbin's policy
(its default, none, offers one transport per m-section and no BUNDLE group);
--data-channel adds an `events` channel.
"""

import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("Nice", "0.1")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC, Nice  # noqa: E402

import numpy as np  # noqa: E402

PIPELINE = (
    "audiotestsrc is-live=true wave=sine freq=440 volume=0.3 ! audioconvert ! audioresample "
    "! opusenc ! rtpopuspay pt=111 ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111 "
    "! webrtcbin name=w bundle-policy={policy} stun-server=\"\""
)


def request(method, url, token, body=None):
    req = urllib.request.Request(url, data=body, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        req.add_header("Content-Type", "application/sdp")
    try:
        with urllib.request.urlopen(req, timeout=15) as res:
            return res.status, dict(res.headers), res.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edge", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--bundle-policy", default="none", choices=["none", "balanced", "max-compat", "max-bundle"])
    ap.add_argument("--data-channel", action="store_true")
    ap.add_argument("--local-address", default="127.0.0.1")
    args = ap.parse_args()

    Gst.init(None)
    loop = GLib.MainLoop()
    pipe = Gst.parse_launch(PIPELINE.format(policy=args.bundle_policy))
    w = pipe.get_by_name("w")
    # libnice never gathers loopback while another interface is up, and the
    # test stack listens on loopback only: give it exactly that address.
    local = Nice.Address.new()
    local.set_from_string(args.local_address)
    # Keep these wrappers for the whole run: PyGObject drops a reference it
    # never took when a temporary wrapper of webrtcbin's ICE object dies.
    ice = w.get_property("ice-agent")
    agent = ice.get_property("agent")
    agent.add_local_address(local)
    out = {"buffersReceived": 0, "loudBuffers": 0, "messages": [], "states": []}
    lock = threading.Lock()
    channels = []
    location = {}
    loud = []

    def finish():
        loop.quit()
        return False

    def on_sample(sink):
        sample = sink.emit("pull-sample")
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        if ok:
            pcm = np.frombuffer(info.data, dtype=np.int16).astype(np.float64)
            buf.unmap(info)
            with lock:
                out["buffersReceived"] += 1
                if pcm.size and np.sqrt(np.mean(pcm * pcm)) > 500:
                    out["loudBuffers"] += 1
                    loud.append(time.monotonic())
        return Gst.FlowReturn.OK

    def on_pad_added(_w, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        dec = Gst.parse_bin_from_description(
            "rtpopusdepay ! opusdec ! audioconvert ! audio/x-raw,format=S16LE,channels=1 "
            "! appsink name=sink emit-signals=true sync=false",
            True,
        )
        pipe.add(dec)
        dec.sync_state_with_parent()
        dec.get_by_name("sink").connect("new-sample", on_sample)
        pad.link(dec.get_static_pad("sink"))

    def on_answer_ready(sdp_text):
        status, headers, body = request("POST", f"{args.edge}/v1/sessions", args.token, sdp_text.encode())
        out["status"] = status
        if status != 201:
            out["problem"] = body
            out["contentType"] = headers.get("Content-Type") or headers.get("content-type")
            GLib.idle_add(finish)
            return
        out["answer"] = body
        location["url"] = headers.get("Location") or headers.get("location")
        out["location"] = location["url"]
        _, msg = GstSdp.SDPMessage.new_from_text(body)
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
        w.emit("set-remote-description", answer, Gst.Promise.new())
        # The call lasts --seconds from the answer, however long setup took.
        GLib.timeout_add(int(args.seconds * 1000), finish)

    def on_gathering(_w, _pspec):
        if w.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE and "offer" not in out:
            sdp = w.get_property("local-description").sdp.as_text()
            out["offer"] = sdp
            threading.Thread(target=on_answer_ready, args=(sdp,), daemon=True).start()

    def on_offer_created(promise, _):
        reply = promise.get_reply()
        offer = reply.get_value("offer")
        w.emit("set-local-description", offer, Gst.Promise.new())

    def on_negotiation_needed(_w):
        if "negotiating" in out:
            return
        out["negotiating"] = True
        promise = Gst.Promise.new_with_change_func(on_offer_created, None)
        w.emit("create-offer", None, promise)

    def on_state(_w, _pspec):
        state = w.get_property("connection-state").value_nick
        out["states"].append(state)

    def on_data_channel_message(_ch, text):
        out["messages"].append(text)

    if args.data_channel:
        # Before negotiation: the offer then carries the application m-section.
        def add_channel():
            ch = w.emit("create-data-channel", "events", None)
            ch.connect("on-message-string", on_data_channel_message)
            channels.append(ch)

    w.connect("on-negotiation-needed", on_negotiation_needed)
    w.connect("notify::ice-gathering-state", on_gathering)
    w.connect("notify::connection-state", on_state)
    w.connect("pad-added", on_pad_added)
    pipe.set_state(Gst.State.READY)
    if args.data_channel:
        add_channel()
    pipe.set_state(Gst.State.PLAYING)
    GLib.timeout_add(int(args.seconds * 1000) + 20_000, finish)
    loop.run()
    ended = time.monotonic()
    if loud:
        out["loudSpanS"] = loud[-1] - loud[0]
        out["lastLoudAgoS"] = ended - loud[-1]

    out["finalState"] = w.get_property("connection-state").value_nick
    if location.get("url"):
        out["deleteStatus"] = request("DELETE", f"{args.edge}{location['url']}", args.token)[0]
    pipe.set_state(Gst.State.NULL)
    out.pop("negotiating", None)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
